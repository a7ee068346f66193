/**
 * @file Received files are kept until the person removes them (issue 15): the CLI sends two
 * files to Chromium; after a reload (the session is over) both are still listed, with the same
 * bytes, and the line above the list counts them; Remove takes one off the list and out of the
 * browser's storage (OPFS `incoming/`), and it stays gone after another reload; "Remove all"
 * empties the list and the storage. Leaving the page with a received file never saved asks
 * first (beforeunload, answered by the harness); with nothing left it does not.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, waitPaired, waitReceived } from './harness/app.js';
import { launchChromium } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { runCli } from './harness/cli.js';
import { makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('received files are kept across reloads until removed', { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let chromium;

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    chromium = cleanup.track(await launchChromium(), (b) => b.close());
  });

  after(() => cleanup.run());

  it('a reload keeps both files; Remove and Remove all take them out of the list and the storage', { timeout: 240_000 }, async () => {
    const files = cleanup.track(
      makeFiles([
        { name: 'kept-photo.bin', size: 3 * MiB + 1 },
        { name: 'kept-note.txt', size: 5 },
      ]),
      (f) => f.remove(),
    ).files;
    const names = files.map((f) => f.name);
    const run = cleanup.track(runCli(['send', '--server', server.origin, ...files.map((f) => f.path)]), (r) => r.kill());
    const b = await chromium.newPeer('B', server.origin);
    await b.goto(await run.link());
    await waitPaired(b, [run]);
    await acceptOffer(b, names, [run]);
    await waitReceived(b, names, [run]);
    const { code } = await run.exited;
    assert.equal(code, 0, `pairwise send exited with ${code}.\n${run.diagnose()}`);

    /** What the page lists, what the line above says, and how many files OPFS `incoming/` holds. */
    const state = () =>
      b.evaluate(async () => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('incoming', { create: true });
        let stored = 0;
        for await (const _ of /** @type {any} */ (dir).keys()) stored++;
        const usage = document.querySelector('#received-usage');
        return {
          listed: [...document.querySelectorAll('#received a.download')].map((a) => a.getAttribute('download')).sort(),
          count: usage?.getAttribute('data-count') ?? null,
          stored,
        };
      });
    assert.deepEqual(await state(), { listed: [...names].sort(), count: '2', stored: 2 }, 'both received and kept');

    const dialogs = () => b.logs.filter((l) => l === '[dialog] beforeunload').length;
    assert.equal(dialogs(), 0);
    await b.goto(server.origin); // a reload: the pairing session is over
    assert.equal(dialogs(), 1, 'leaving with received files never saved asks first');
    await waitReceived(b, names);
    await assertReceivedIntact(b, files);
    assert.deepEqual(await state(), { listed: [...names].sort(), count: '2', stored: 2 }, 'both still there after a reload');
    assert.match(await b.text('#received-usage'), /^2 files, 3\.1 MB, kept in this browser until you remove them\.$/);

    await b.click('#received li:has(a[download="kept-photo.bin"]) button.remove-received');
    await b.waitUntil('one file left', async () => document.querySelectorAll('#received a.download').length === 1, undefined, {});
    await b.waitUntil(
      'one file left in OPFS',
      async () => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('incoming');
        let n = 0;
        for await (const _ of /** @type {any} */ (dir).keys()) n++;
        return n === 1;
      },
      undefined,
      {},
    );
    await b.goto(server.origin);
    await waitReceived(b, ['kept-note.txt']);
    assert.deepEqual(await state(), { listed: ['kept-note.txt'], count: '1', stored: 1 }, 'the removed file stays gone after a reload');

    await b.click('#received-remove-all');
    await b.waitUntil('nothing listed', () => document.querySelectorAll('#received a.download').length === 0, undefined, {});
    const before = dialogs();
    await b.goto(server.origin);
    assert.equal(dialogs(), before, 'nothing left to lose: leaving does not ask');
    // The list is drawn once the store was read; give it the time a kept file takes to show.
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(await state(), { listed: [], count: '0', stored: 0 }, 'nothing kept after Remove all and a reload');
    await b.close();
  });
});
