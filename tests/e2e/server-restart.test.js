/**
 * @file A waiting QR code survives the server going away (issue 13): A shows its pairing code,
 * the server stops (SIGTERM: it drains, closing A's WebSocket with 1001) and a new one starts on
 * the same address; A connects again by itself and joins the same room, so B can still open the
 * link shown before the restart: both pair and a file arrives intact. A session that already
 * met its peer is not retried (a lost server then ends it with `signaling-lost`, as before).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendAndVerify, showPairingCode, waitPaired } from './harness/app.js';
import { launchAll, launchChromium } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { makeFiles } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('the server restarts while a QR code waits', { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/browsers.js').Browser[]} */ let browsers;

  before(async () => {
    browsers = await launchAll(cleanup, launchChromium, launchChromium);
  });

  after(() => cleanup.run());

  it('the link shown before the restart still pairs, and a file arrives', async () => {
    const first = await startServer();
    let second = null;
    try {
      const port = Number(new URL(first.origin).port);
      const a = cleanup.track(await browsers[0].newPeer('A', first.origin), (p) => p.close());
      const b = cleanup.track(await browsers[1].newPeer('B', first.origin), (p) => p.close());
      await a.goto(`${first.origin}/`);
      const link = await showPairingCode(a);
      await first.stop();
      // Long enough for A to notice and try at least once against nothing.
      await new Promise((r) => setTimeout(r, 1500));
      second = await startServer({ port });
      assert.equal(second.origin, first.origin);
      // A is back in its room once the new server counts one (A retries 0.5-8 s apart; a
      // device that opens the link before that is told link-expired).
      const until = Date.now() + 30_000;
      for (;;) {
        const metrics = await fetch(`${second.origin}/metrics`).then((r) => r.text());
        if (/^pairwise_rooms 1$/m.test(metrics)) break;
        assert.ok(Date.now() < until, `A did not rejoin within 30 s:\n${await a.diagnose()}\n${metrics}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(await a.isVisible('#error'), false, `A shows no error while it waits:\n${await a.diagnose()}`);
      await b.goto(link);
      await Promise.all([waitPaired(a, [b]), waitPaired(b, [a])]);
      const files = cleanup.track(makeFiles([{ name: 'after-restart.bin', size: 1_000_003 }]), (f) => f.remove());
      await sendAndVerify(a, b, files.files);
      assert.ok(a.logs.some((l) => l.includes('connecting again')), `A said it reconnected: ${a.logs.join(' | ')}`);
    } finally {
      await first.stop();
      await second?.stop();
    }
  });
});
