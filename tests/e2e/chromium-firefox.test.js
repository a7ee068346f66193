/**
 * @file Cross-browser: Chromium A shows the QR code, Firefox ESR B opens the decoded link; the
 * three test files (0 B, 1 B, 64 MiB random) go A -> B and then other files B -> A over the same
 * session, and arrive with identical SHA-256 on the other side.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { downloadAndHash, pair, sendAndVerify } from './harness/app.js';
import { launchChromium, launchFirefox, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { MiB, standardFiles } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('Chromium and Firefox', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/peer.js').Peer} */ let a;
  /** @type {import('./harness/peer.js').Peer} */ let b;
  /** @type {ReturnType<typeof standardFiles>} */ let fromA;
  /** @type {ReturnType<typeof standardFiles>} */ let fromB;

  before(async () => {
    fromA = cleanup.track(standardFiles('chromium-'), (f) => f.remove());
    fromB = cleanup.track(standardFiles('firefox-'), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    const [chromium, firefox] = await launchAll(cleanup, launchChromium, launchFirefox);
    a = await chromium.newPeer('A', server.origin);
    b = await firefox.newPeer('B', server.origin);
  });

  after(() => cleanup.run());

  it('Firefox pairs with Chromium by the QR link: same verification code on both', async () => {
    const t0 = Date.now();
    const { sas } = await pair(a, b, server.origin);
    console.log(`paired in ${Date.now() - t0} ms, code ${sas}`);
  });

  it('Chromium sends 0 B, 1 B and 64 MiB to Firefox intact', async () => {
    const ms = await sendAndVerify(a, b, fromA.files);
    console.log(`Chromium -> Firefox: 64 MiB + 1 B in ${ms} ms (${((64 * MiB) / ms / 1000).toFixed(1)} MB/s)`);
  });

  it('Firefox sends 0 B, 1 B and 64 MiB back to Chromium intact (and they download)', async () => {
    const ms = await sendAndVerify(b, a, fromB.files);
    console.log(`Firefox -> Chromium: 64 MiB + 1 B in ${ms} ms (${((64 * MiB) / ms / 1000).toFixed(1)} MB/s)`);
    const big = fromB.files[2];
    const got = await downloadAndHash(a, big.name);
    assert.equal(got.sha256, big.sha256, 'SHA-256 of the downloaded 64 MiB file');
  });
});
