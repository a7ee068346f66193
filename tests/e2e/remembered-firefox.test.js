/**
 * @file Remembered devices across browsers: Chromium and Firefox pair by QR link, both pages are
 * reloaded (the identity and the records come back from each browser's IndexedDB, Firefox
 * included), both show the other online again with no QR code, and a file goes Firefox ->
 * Chromium from the device entry with identical bytes.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, pair, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromium, launchFirefox, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { entry, readStore, waitOneOnline } from './harness/devices.js';
import { makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('remembered devices: Chromium and Firefox', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/peer.js').Peer} */ let c;
  /** @type {import('./harness/peer.js').Peer} */ let f;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  before(async () => {
    files = cleanup.track(makeFiles([{ name: 'from-firefox-2MiB.bin', size: 2 * MiB + 5 }]), (x) => x.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    const [bc, bf] = await launchAll(cleanup, launchChromium, launchFirefox);
    c = await bc.newPeer('C', server.origin);
    f = await bf.newPeer('F', server.origin);
  });

  after(() => cleanup.run());

  it('pairs, both reload, both show the other online again and Firefox sends from the device entry', async () => {
    await pair(c, f, server.origin);
    const [idOnC, idOnF] = await Promise.all([waitOneOnline(c, [f]), waitOneOnline(f, [c])]);
    const storedF = await readStore(f);
    assert.deepEqual(storedF.devices, [idOnF], 'Firefox stored the pairing');

    await Promise.all([c.goto(`${server.origin}/`), f.goto(`${server.origin}/`)]);
    assert.equal(await waitOneOnline(c, [f]), idOnC);
    assert.equal(await waitOneOnline(f, [c]), idOnF);
    assert.equal((await readStore(f)).identity, storedF.identity, 'Firefox kept its identity across the reload');

    const file = files.files[0];
    await f.setInputFiles(`${entry(idOnF)} input.device-files`, [file.path]);
    await acceptOffer(c, [file.name], [f]);
    await Promise.all([waitTransfer(f, 'send', 'done', [c]), waitReceived(c, [file.name], [f])]);
    await assertReceivedIntact(c, [file]);
  });
});
