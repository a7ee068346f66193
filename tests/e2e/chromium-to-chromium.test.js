/**
 * @file Two Chromium processes pair through the real server by QR code and move three files
 * (0 B, 1 B, 64 MiB random) from A to B; B's files match byte for byte, checked in the page and
 * through real downloads.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { downloadAndHash, pair, sendAndVerify } from './harness/app.js';
import { launchChromium } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { standardFiles } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('Chromium to Chromium', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/peer.js').Peer} */ let a;
  /** @type {import('./harness/peer.js').Peer} */ let b;
  /** @type {ReturnType<typeof standardFiles>} */ let files;

  before(async () => {
    files = cleanup.track(standardFiles('c2c-'), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    // Two separate browser processes, like two devices.
    const [ba, bb] = await Promise.all([launchChromium(), launchChromium()]);
    cleanup.track(ba, (x) => x.close());
    cleanup.track(bb, (x) => x.close());
    a = await ba.newPeer('A', server.origin);
    b = await bb.newPeer('B', server.origin);
  });

  after(() => cleanup.run());

  it('pairs by scanning the QR code: both sides reach "paired" with the same verification code', async () => {
    const t0 = Date.now();
    const { sas } = await pair(a, b, server.origin);
    console.log(`paired in ${Date.now() - t0} ms, code ${sas}`);
  });

  it('sends 0 B, 1 B and 64 MiB files from A; B accepts and gets identical bytes', async () => {
    const ms = await sendAndVerify(a, b, files.files);
    console.log(`A -> B: 3 files (64 MiB + 1 B) in ${ms} ms (${((64 * 1024 * 1024) / ms / 1000).toFixed(1)} MB/s)`);
  });

  it('the received links download as real files with the same name and SHA-256', async () => {
    for (const f of files.files) {
      const got = await downloadAndHash(b, f.name);
      assert.equal(got.suggested, f.name, 'download file name');
      assert.equal(got.size, f.size, `${f.name}: downloaded size`);
      assert.equal(got.sha256, f.sha256, `${f.name}: SHA-256 of the downloaded file`);
    }
  });
});
