/**
 * @file Two devices offer files to one page at the same time: B, paired with A by QR code and
 * with C by code, gets an offer from each. The prompt asks about one offer at a time and says
 * another waits; each answer brings the next, and both offers' files arrive intact (an earlier
 * page gave the second offer the only prompt, and the first could never be answered). Then
 * drops: files dropped on the page outside any drop target leave the app in place (the browser
 * used to open the file instead) with a sentence, and files dropped on a device entry go to it.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, acceptOffer, assertReceivedIntact, dropFiles, pair, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromium, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { pairByCode } from './harness/code.js';
import { entry, waitOneOnline } from './harness/devices.js';
import { makeFiles } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('two offers at once', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/peer.js').Peer} */ let a;
  /** @type {import('./harness/peer.js').Peer} */ let b;
  /** @type {import('./harness/peer.js').Peer} */ let c;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  before(async () => {
    files = cleanup.track(
      makeFiles([
        { name: 'from-a.bin', size: 1024 * 1024 + 3 },
        { name: 'from-c.bin', size: 2 * 1024 * 1024 + 5 },
        { name: 'dropped.bin', size: 512 * 1024 + 1 },
      ]),
      (f) => f.remove(),
    );
    server = cleanup.track(await startServer(), (s) => s.stop());
    const [one, two] = await launchAll(cleanup, launchChromium, launchChromium);
    a = await one.newPeer('A', server.origin);
    b = await two.newPeer('B', server.origin);
    c = await one.newPeer('C', server.origin);
  });

  after(() => cleanup.run());

  it('B pairs with A by QR code and with C by code; all three reload and see their devices online', async () => {
    await pair(a, b, server.origin);
    await pairByCode(b, c, server.origin);
    await Promise.all([a.goto(`${server.origin}/`), b.goto(`${server.origin}/`), c.goto(`${server.origin}/`)]);
    await Promise.all([waitOneOnline(a, [b]), waitOneOnline(c, [b])]);
    await b.waitUntil(
      'two devices online on B',
      () => [...document.querySelectorAll('#devices li.device')].filter((li) => li.getAttribute('data-presence') === 'online').length === 2,
      undefined,
      { timeout: T.pair, also: [a, c] },
    );
  });

  it('A and C offer together: B is asked about one, told another waits, then asked about the other; both arrive intact', async () => {
    const [fromA, fromC] = files.files;
    const [idOnA, idOnC] = await Promise.all([waitOneOnline(a), waitOneOnline(c)]);
    await Promise.all([a.setInputFiles(`${entry(idOnA)} input.device-files`, [fromA.path]), c.setInputFiles(`${entry(idOnC)} input.device-files`, [fromC.path])]);
    await b.waitUntil(
      'the prompt says one more offer waits',
      () => {
        const more = document.querySelector('#incoming-more');
        return !!more && more.getClientRects().length > 0 && /One more offer/.test(more.textContent ?? '');
      },
      undefined,
      { timeout: T.pair, also: [a, c] },
    );
    assert.match(await b.evaluate(() => document.title), /wants to send you a file — Pairwise$/, 'the tab title says an offer waits');
    const offered = async () => (await b.evaluate(() => [...document.querySelectorAll('#incoming-files li')].map((li) => li.textContent ?? ''))).join(' ');
    const first = await offered();
    await b.click('#accept-button');
    const second = await b.waitUntil(
      'the other offer on the prompt',
      (before) => {
        const box = document.querySelector('#incoming');
        const now = [...document.querySelectorAll('#incoming-files li')].map((li) => li.textContent ?? '').join(' ');
        return box && box.getClientRects().length > 0 && now !== before ? now : null;
      },
      first,
      { timeout: T.ui, also: [a, c] },
    );
    assert.deepEqual([first, second].map((t) => (t.includes('from-a.bin') ? 'a' : t.includes('from-c.bin') ? 'c' : t)).sort(), ['a', 'c']);
    assert.equal(await b.isVisible('#incoming-more'), false, 'nothing else waits');
    await b.click('#accept-button');
    await Promise.all([waitTransfer(a, 'send', 'done', [b]), waitTransfer(c, 'send', 'done', [b]), waitReceived(b, [fromA.name, fromC.name], [a, c])]);
    await assertReceivedIntact(b, [fromA, fromC]);
    assert.equal(await b.isVisible('#incoming'), false, 'the prompt is gone');
    assert.equal(await b.evaluate(() => document.title), 'Pairwise', 'and the title is the app\'s again');
  });

  it('a file dropped outside any drop target leaves the app in place; one dropped on a device entry goes to it', async () => {
    const dropped = files.files[2];
    const idOnA = await waitOneOnline(a);
    const url = a.page.url();
    const sentBefore = await a.count('#transfers li.transfer[data-direction=send]');
    await dropFiles(a, [dropped.path], 'header');
    await a.waitUntil('the page to say where to drop', () => /Nothing was sent/.test(document.querySelector('#error')?.textContent ?? ''), undefined, { timeout: T.ui });
    assert.equal(a.page.url(), url, 'the browser did not open the file in place of the app');
    assert.equal(await a.count('#transfers li.transfer[data-direction=send]'), sentBefore, 'nothing was offered');
    await dropFiles(a, [dropped.path], entry(idOnA));
    await acceptOffer(b, [dropped.name], [a]);
    await Promise.all([waitTransfer(a, 'send', 'done', [b]), waitReceived(b, [dropped.name], [a])]);
    await assertReceivedIntact(b, [dropped]);
  });
});
