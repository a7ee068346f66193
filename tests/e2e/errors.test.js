/**
 * @file Pairing links fail the way the user is told they will: a link that was already used
 * (`room-full`), a link whose initiator closed its page (`link-expired`) and a damaged link
 * (`bad-link`) each show `#error` with that `data-code` and a sentence; so does a link whose QR
 * screen was cancelled (`link-expired`). The third device is a Firefox, so both browsers' error
 * paths are covered.
 */

import { after, before, describe, it } from 'node:test';
import { pair, showPairingCode, waitError } from './harness/app.js';
import { launchChromium, launchFirefox, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { startServer } from './harness/server.js';

describe('pairing link errors', { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let chromium;
  /** @type {import('./harness/browsers.js').Browser} */ let firefox;

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    [chromium, firefox] = await launchAll(cleanup, launchChromium, launchFirefox);
  });

  after(() => cleanup.run());

  it('a third device opening a link that was already used sees room-full', async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A', server.origin), (p) => p.close());
      const b = local.track(await chromium.newPeer('B', server.origin), (p) => p.close());
      const c = local.track(await firefox.newPeer('C', server.origin), (p) => p.close());
      const { link } = await pair(a, b, server.origin);
      await c.goto(link);
      await waitError(c, 'room-full', { also: [a, b] });
    } finally {
      await local.run();
    }
  });

  it('opening a link after the initiator closed its page shows link-expired', async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A', server.origin), (p) => p.close());
      const b = local.track(await firefox.newPeer('B', server.origin), (p) => p.close());
      await a.goto(`${server.origin}/`);
      const link = await showPairingCode(a);
      await a.close();
      // Give the server a moment to see A's WebSocket close.
      await new Promise((r) => setTimeout(r, 500));
      await b.goto(link);
      await waitError(b, 'link-expired');
    } finally {
      await local.run();
    }
  });

  it('Cancel on the QR screen goes home, and the link it showed is expired', async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A', server.origin), (p) => p.close());
      const b = local.track(await firefox.newPeer('B', server.origin), (p) => p.close());
      await a.goto(`${server.origin}/`);
      const link = await showPairingCode(a);
      await a.click('#cancel-pairing');
      await a.waitVisible('#home');
      await a.waitAttr('#status', 'data-state', 'idle');
      await new Promise((r) => setTimeout(r, 500));
      await b.goto(link);
      await waitError(b, 'link-expired', { also: [a] });
    } finally {
      await local.run();
    }
  });

  for (const [what, fragment] of [
    ['garbage', '#pair=this-is-not-a-pairing-link'],
    ['a truncated payload', '#pair=AQ'],
    ['an empty payload', '#pair='],
  ]) {
    for (const kind of /** @type {const} */ (['chromium', 'firefox'])) {
      it(`${kind}: a link with ${what} in its fragment shows bad-link`, async () => {
        const browser = kind === 'chromium' ? chromium : firefox;
        const p = await browser.newPeer('C', server.origin);
        try {
          await p.goto(`${server.origin}/${fragment}`);
          await waitError(p, 'bad-link', { timeout: 20_000 });
        } finally {
          await p.close();
        }
      });
    }
  }
});
