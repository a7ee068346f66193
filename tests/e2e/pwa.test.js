/**
 * @file The installable app, in Chromium with a persistent profile, over https:// with the
 * generated certificate (trusted by its SPKI hash): the manifest parses without errors and
 * Chromium reports no installability error; the service worker registers and controls the page
 * after a reload; a file shared to the app (a real multipart POST navigation to /share, as
 * Android's share sheet makes) is kept by the worker, the page lands on /?share=1 and queues
 * it, and once paired it reaches another Chromium intact; last, with the server stopped, the
 * app still starts from the worker's cache.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, showPairingCode, T, waitPaired, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromium, launchChromiumTempProfile } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('installable app with a share target', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {Awaited<ReturnType<typeof launchChromiumTempProfile>>} */ let profile;
  /** @type {import('./harness/peer.js').Peer} */ let a;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  before(async () => {
    files = cleanup.track(makeFiles([{ name: 'shared photo.jpg', size: 2 * MiB + 7 }]), (f) => f.remove());
    server = cleanup.track(await startServer({ tls: true }), (s) => s.stop());
    profile = cleanup.track(await launchChromiumTempProfile({ trustSpki: server.spki }), (b) => b.close());
    a = await profile.newPeer('A', server.origin);
  });

  after(() => cleanup.run());

  it('Chromium reads the manifest without errors and finds the app installable', async () => {
    await a.goto(`${server.origin}/`);
    await a.waitUntil(
      'the service worker to be ready',
      () => Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise((r) => setTimeout(() => r(false), 1000))]),
      undefined,
      { timeout: T.ui },
    );
    const cdp = await profile.context.newCDPSession(a.page);
    const manifest = await cdp.send('Page.getAppManifest');
    assert.equal(manifest.url, `${server.origin}/manifest.webmanifest`);
    assert.deepEqual(manifest.errors, [], 'manifest errors');
    const parsed = JSON.parse(/** @type {string} */ (manifest.data));
    assert.equal(parsed.share_target.action, '/share');
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'installability errors');
    await cdp.detach();
  });

  it('the service worker controls the page after a reload', async () => {
    const scope = await a.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, `${server.origin}/`);
    await a.page.reload({ waitUntil: 'load' });
    const controller = await a.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
    assert.equal(controller, `${server.origin}/sw.js`);
  });

  it('a shared file is kept by the worker, queued on /?share=1 and sent once paired', { timeout: 240_000 }, async () => {
    const [file] = files.files;
    await a.goto(`${server.origin}/`);
    /** @type {string[]} */
    const visited = [];
    a.page.on('framenavigated', (/** @type {any} */ frame) => {
      if (frame === a.page.mainFrame()) visited.push(frame.url());
    });
    // What a share sheet does: a multipart POST navigation to the manifest's share_target.
    await a.evaluate(() => {
      const form = document.createElement('form');
      Object.assign(form, { method: 'POST', action: '/share', enctype: 'multipart/form-data', id: 'share-probe' });
      const input = Object.assign(document.createElement('input'), { type: 'file', name: 'files', id: 'share-probe-files' });
      const title = Object.assign(document.createElement('input'), { type: 'hidden', name: 'title', value: 'holiday' });
      form.append(input, title);
      document.body.append(form);
    });
    await a.page.setInputFiles('#share-probe-files', [file.path]);
    await Promise.all([
      a.page.waitForNavigation({ waitUntil: 'load', timeout: T.ui }),
      a.evaluate(() => /** @type {HTMLFormElement} */ (document.getElementById('share-probe')).submit()),
    ]);
    await a.waitUntil('#shared[data-count="1"] to be visible', () => {
      const box = document.querySelector('#shared');
      return !!box && box.getClientRects().length > 0 && box.getAttribute('data-count') === '1';
    }, undefined, { timeout: T.ui });
    assert.ok(visited.includes(`${server.origin}/?share=1`), `the worker answered the share (pages: ${visited})`);
    assert.equal(await a.evaluate(() => location.search), '', 'the share marker is removed from the address');
    const listed = await a.text('#shared-files');
    assert.ok(listed?.includes(file.name), `#shared-files lists ${listed}`);

    const other = cleanup.track(await launchChromium({ trustSpki: server.spki }), (x) => x.close());
    const b = await other.newPeer('B', server.origin);
    const link = await showPairingCode(a);
    await b.goto(link);
    await Promise.all([waitPaired(a, [b]), waitPaired(b, [a])]);
    // Nothing else is chosen: the queued shared file is offered as soon as the channel opens.
    await acceptOffer(b, [file.name], [a]);
    await Promise.all([waitTransfer(a, 'send', 'done', [b]), waitReceived(b, [file.name], [a])]);
    await assertReceivedIntact(b, [file]);
    assert.equal(await a.isVisible('#shared'), false, 'the waiting list gives way to the transfer');
  });

  it('with the server gone, the app still starts from the service worker', async () => {
    await server.stop();
    await a.goto(`${server.origin}/`);
    await a.waitVisible('#pair-button', { timeout: T.ui });
    assert.equal(await a.attr('#status', 'data-state'), 'idle');
    const failed = await a.evaluate(() => fetch('/healthz').then(() => 'reachable', () => 'unreachable'));
    assert.equal(failed, 'unreachable', 'the server really is gone');
  });
});
