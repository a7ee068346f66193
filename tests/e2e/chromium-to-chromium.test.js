/**
 * @file Two Chromium processes pair through the real server by QR code and move three files
 * (0 B, 1 B, 64 MiB random) from A to B; B's files match byte for byte, checked in the page and
 * through real downloads. The two fresh pages get different default names (browser, system and
 * a random suffix, kept across a reload), and B's offer and both transfer rows name the other
 * device by the name its own settings show.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, downloadAndHash, hashReceivedInPage, ownName, pair, sendAndVerify, waitReceived } from './harness/app.js';
import { launchChromium, launchAll } from './harness/browsers.js';
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
    const [ba, bb] = await launchAll(cleanup, launchChromium, launchChromium);
    a = await ba.newPeer('A', server.origin);
    b = await bb.newPeer('B', server.origin);
  });

  after(() => cleanup.run());

  it('two fresh Chromium pages get different default names, each kept across a reload', async () => {
    await Promise.all([a.goto(`${server.origin}/`), b.goto(`${server.origin}/`)]);
    const [nameA, nameB] = await Promise.all([ownName(a), ownName(b)]);
    for (const n of [nameA, nameB]) assert.match(n, /^Chrome on Linux \([ACDEFHJKMNPRTWXY2-9]{3}\)$/);
    assert.notEqual(nameA, nameB, 'two browsers of one kind must not share a default name');
    await a.goto(`${server.origin}/`);
    assert.equal(await ownName(a), nameA, 'the default name is chosen once and kept');
  });

  it('pairs by scanning the QR code: both sides reach "paired" with the same verification code', async () => {
    const t0 = Date.now();
    const { sas } = await pair(a, b, server.origin);
    console.log(`paired in ${Date.now() - t0} ms, code ${sas}`);
  });

  it('sends 0 B, 1 B and 64 MiB files from A; B is asked by name, accepts and gets identical bytes', async () => {
    const ms = await sendAndVerify(a, b, files.files, { named: true });
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

  it('an image pasted on the page (Ctrl+V, as a screenshot) is offered, arrives intact and shows a thumbnail', async () => {
    const before = await a.count('#transfers li.transfer[data-direction=send]');
    // A picture drawn in A's page, pasted as a screenshot tool puts it on the clipboard.
    const sent = await a.evaluate(async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 64;
      canvas.height = 40;
      const g = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
      g.fillStyle = '#1f5fbf';
      g.fillRect(0, 0, 64, 40);
      const blob = /** @type {Blob} */ (await new Promise((r) => canvas.toBlob(r, 'image/png')));
      const data = new DataTransfer();
      data.items.add(new File([blob], 'pasted.png', { type: 'image/png' }));
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
      return [...digest].map((x) => x.toString(16).padStart(2, '0')).join('');
    });
    await acceptOffer(b, ['pasted.png'], [a]);
    await a.waitUntil('a new send row', (n) => document.querySelectorAll('#transfers li.transfer[data-direction=send]').length > n, before, { timeout: 20_000 });
    await waitReceived(b, ['pasted.png'], [a]);
    assert.equal((await hashReceivedInPage(b, 'pasted.png')).sha256, sent, 'the pasted image arrived intact');
    const width = await b.waitUntil(
      'a decoded thumbnail beside the received image',
      () => {
        const img = /** @type {HTMLImageElement | null} */ (document.querySelector('#received li img.thumb'));
        return img && img.complete && img.naturalWidth > 0 ? img.naturalWidth : null;
      },
      undefined,
      { timeout: 20_000 },
    );
    assert.equal(width, 64, 'the thumbnail is the picture');
  });

  it('sends a short text each way; it shows as text, markup not interpreted, http(s) addresses as safe links', async () => {
    const text = 'Hello <b>B</b> & https://example.org/?a=1. 🌍 javascript:alert(1) file:///etc/passwd\nsecond line';
    await a.page.fill('#text-input', text);
    await a.click('#send-text');
    await b.waitUntil('the text arrived', (t) => [...document.querySelectorAll('#texts li[data-direction=received] pre')].some((p) => p.textContent === t), text, { timeout: 20_000, also: [a] });
    assert.equal(await b.count('#texts b'), 0, 'markup in a text is not rendered');
    const links = await b.evaluate(() => [...document.querySelectorAll('#texts li[data-direction=received] a')].map((a) => ({ href: a.getAttribute('href'), rel: a.getAttribute('rel'), target: a.getAttribute('target'), text: a.textContent })));
    assert.deepEqual(
      links,
      [{ href: 'https://example.org/?a=1', rel: 'noopener noreferrer', target: '_blank', text: 'https://example.org/?a=1' }],
      'only the https address is a link (without the sentence\'s full stop), opened apart from the app',
    );
    // Text pasted outside a field lands in the text box, to be sent on purpose.
    await b.evaluate(() => {
      const data = new DataTransfer();
      data.setData('text/plain', 'pasted, not sent');
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    assert.equal(await b.value('#text-input'), 'pasted, not sent');
    assert.equal(await a.count('#texts li[data-direction=received]'), 0, 'nothing was sent by the paste');
    await b.page.fill('#text-input', 'back to A');
    await b.click('#send-text');
    await a.waitUntil('the reply arrived', () => [...document.querySelectorAll('#texts li[data-direction=received] pre')].some((p) => p.textContent === 'back to A'), undefined, { timeout: 20_000, also: [b] });
  });
});
