/**
 * @file Receiving straight into a chosen folder (`web/lib/files/folder-sink.js`), Chromium to Chromium
 * through the real server. The folder picker is the browser's own dialog, which a headless
 * browser cannot show: the test gives B's page a `showDirectoryPicker` that returns a real
 * directory handle (a folder in B's Origin Private File System, the same File System Access
 * handle type a user's folder is), so everything from the button on is the app's own code.
 * 1. A sends a folder; B chooses "Save into a folder…": the tree arrives in the chosen folder
 *    byte for byte, an existing file of the same name is kept and the new one renamed, no part
 *    file is left, and nothing went to OPFS `incoming/` (stored once).
 * 2. B cancels mid-file: both sides say cancelled and the folder holds nothing of that file.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { T, chooseFiles, pair, waitTransfer } from './harness/app.js';
import { launchAll, launchChromium } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { MiB, makeFiles } from './harness/files.js';
import { startServer } from './harness/server.js';

/** @typedef {import('./harness/peer.js').Peer} Peer */

/** The folder B "chooses": `chosen/` in its Origin Private File System. */
function offerFolderPicker(/** @type {Peer} */ b) {
  return b.evaluate(() => {
    /** @type {any} */ (window).showDirectoryPicker = async () =>
      (await navigator.storage.getDirectory()).getDirectoryHandle('chosen', { create: true });
  });
}

/**
 * Every file under `name` in B's OPFS, by path, with its SHA-256 (hashed in the page).
 * @param {Peer} b
 * @param {string} name
 * @returns {Promise<Record<string, string>>}
 */
function opfsTree(b, name) {
  return b.evaluate(async (top) => {
    /** @type {Record<string, string>} */
    const out = {};
    /** @param {FileSystemDirectoryHandle} dir @param {string} prefix */
    const walk = async (dir, prefix) => {
      // @ts-ignore: async iteration of a directory handle (Chromium)
      for await (const h of dir.values()) {
        if (h.kind === 'directory') await walk(h, `${prefix}${h.name}/`);
        else {
          const d = new Uint8Array(await crypto.subtle.digest('SHA-256', await (await h.getFile()).arrayBuffer()));
          out[`${prefix}${h.name}`] = [...d].map((x) => x.toString(16).padStart(2, '0')).join('');
        }
      }
    };
    const root = await navigator.storage.getDirectory();
    try {
      await walk(await root.getDirectoryHandle(top), '');
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
    }
    return out;
  }, name);
}

const sha = (/** @type {Uint8Array} */ b) => createHash('sha256').update(b).digest('hex');

describe('receiving into a chosen folder', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {Peer} */ let a;
  /** @type {Peer} */ let b;

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    const [ba, bb] = await launchAll(cleanup, launchChromium, launchChromium);
    a = await ba.newPeer('A', server.origin);
    b = await bb.newPeer('B', server.origin);
    await pair(a, b, server.origin);
    await offerFolderPicker(b);
  });

  after(() => cleanup.run());

  it('a folder arrives in the chosen folder byte for byte; an existing name is kept, the new file renamed', async () => {
    const root = cleanup.track(mkdtempSync(join(tmpdir(), 'pairwise-into-')), (d) => rmSync(d, { recursive: true, force: true }));
    /** @type {Map<string, Uint8Array>} */
    const sent = new Map([
      ['Trip/notes.txt', new TextEncoder().encode('day one\n')],
      ['Trip/empty.txt', new Uint8Array(0)],
      ['Trip/day 1/photo.jpg', new Uint8Array(randomBytes(300_000))],
      ['Trip/video.bin', new Uint8Array(randomBytes(24 * MiB + 7))],
    ]);
    for (const [path, bytes] of sent) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), bytes);
    }
    // B's folder already holds a Trip/notes.txt of its own.
    await b.evaluate(async () => {
      const chosen = await (await navigator.storage.getDirectory()).getDirectoryHandle('chosen', { create: true });
      const trip = await chosen.getDirectoryHandle('Trip', { create: true });
      const w = await (await trip.getFileHandle('notes.txt', { create: true })).createWritable();
      await w.write('mine');
      await w.close();
    });

    await a.page.setInputFiles('#folder-input', join(root, 'Trip'));
    await b.waitVisible('#incoming', { timeout: T.ui, also: [a] });
    await b.click('#accept-folder-button');
    await Promise.all([waitTransfer(a, 'send', 'done', [b]), waitTransfer(b, 'receive', 'done', [a])]);

    const got = await opfsTree(b, 'chosen');
    const want = {
      'Trip/notes.txt': sha(new TextEncoder().encode('mine')),
      'Trip/notes (1).txt': sha(/** @type {Uint8Array} */ (sent.get('Trip/notes.txt'))),
      'Trip/empty.txt': sha(new Uint8Array(0)),
      'Trip/day 1/photo.jpg': sha(/** @type {Uint8Array} */ (sent.get('Trip/day 1/photo.jpg'))),
      'Trip/video.bin': sha(/** @type {Uint8Array} */ (sent.get('Trip/video.bin'))),
    };
    assert.deepEqual(got, want, 'the chosen folder: the tree, the kept file and the renamed one, no part file');
    assert.deepEqual(await opfsTree(b, 'incoming'), {}, 'nothing was stored a second time in OPFS');
  });

  it('B cancels mid-file: both sides say cancelled, the folder holds nothing of it', async () => {
    const big = cleanup.track(makeFiles([{ name: 'big-into.bin', size: 128 * MiB }]), (f) => f.remove()).files[0];
    const before = await opfsTree(b, 'chosen');
    await chooseFiles(a, [big.path]);
    await b.waitVisible('#incoming', { timeout: T.ui, also: [a] });
    await b.click('#accept-folder-button');
    await b.waitUntil(
      '16 MiB received',
      () => Number(/** @type {HTMLProgressElement | null} */ (document.querySelector('#transfers li.transfer[data-direction=receive] progress'))?.value ?? 0) >= 16 * 1024 * 1024,
      undefined,
      { timeout: T.transfer, interval: 50, also: [a] },
    );
    await b.click('#transfers li.transfer[data-direction=receive] button.cancel-button');
    await Promise.all([waitTransfer(a, 'send', 'cancelled', [b]), waitTransfer(b, 'receive', 'cancelled', [a])]);
    await b.waitUntil(
      'no trace of the cancelled file',
      async () => {
        const chosen = await (await navigator.storage.getDirectory()).getDirectoryHandle('chosen');
        // @ts-ignore: async iteration of a directory handle (Chromium)
        for await (const name of chosen.keys()) if (name.startsWith('big-into')) return false;
        return true;
      },
      undefined,
      { timeout: T.ui, also: [a] },
    );
    assert.deepEqual(await opfsTree(b, 'chosen'), before, 'the folder is as it was');
  });
});
