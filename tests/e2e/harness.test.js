/**
 * @file Self-check of the harness on a fixture page (no app, no pairwise server): the network
 * guard passes, both browsers start, a loopback data channel opens in each (flags/prefs work),
 * a QR code drawn by the app's encoder decodes from a screenshot, chosen files (up to 64 MiB)
 * reach the page intact and a Chromium download saves them. When this fails, the app tests
 * cannot say anything.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertReceivedIntact, downloadAndHash, chooseFiles } from './harness/app.js';
import { launch } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { standardFiles } from './harness/files.js';
import { isolationProblems } from './harness/guard.js';
import { readQr } from './harness/qr.js';
import { startStatic } from './harness/static.js';

describe('harness self-check', { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {{ origin: string }} */ let site;
  /** @type {ReturnType<typeof standardFiles>} */ let files;

  before(async () => {
    files = cleanup.track(standardFiles('fixture-'), (f) => f.remove());
    site = cleanup.track(await startStatic(), (s) => s.stop());
  });
  after(() => cleanup.run());

  it('runs inside a loopback-only network namespace', () => {
    assert.deepEqual(isolationProblems(), []);
  });

  for (const kind of /** @type {const} */ (['chromium', 'firefox'])) {
    it(`${kind}: loopback WebRTC, QR decode, file choice, hashing${kind === 'chromium' ? ', download' : ''}`, async () => {
      const browser = cleanup.track(await launch(kind), (b) => b.close());
      const peer = await browser.newPeer('fixture', site.origin);
      await peer.goto(`${site.origin}/fixture/`);
      await peer.waitAttr('#status', 'data-state', 'ready');
      const rtc = await peer.evaluate(() => /** @type {any} */ (window).loopbackDataChannel());
      assert.equal(rtc.msg, 'ping');
      assert.ok(rtc.cands.some((/** @type {string} */ c) => / 127\.0\.0\.1 /.test(c)), `a 127.0.0.1 candidate in ${rtc.cands}`);
      assert.equal(await readQr(peer), await peer.value('#pair-link'));
      await chooseFiles(peer, files.files.map((f) => f.path));
      await peer.waitUntil('3 links', () => document.querySelectorAll('#received a.download').length === 3);
      await assertReceivedIntact(peer, files.files);
      if (kind === 'chromium') {
        const big = files.files[2];
        const got = await downloadAndHash(peer, big.name);
        assert.equal(got.sha256, big.sha256);
        assert.equal(got.suggested, big.name);
      }
      await browser.close();
    });
  }
});
