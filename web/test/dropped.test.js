// Dropped folders: walked through fake File and Directory Entries (the shapes browsers hand a
// drop handler), each file keeping its path below the dropped folder.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { droppedFiles, relativePathOf } from '../lib/files/dropped.js';
import { entryOf } from '../lib/transfers/outgoing.js';

/** @param {string} name @param {string} [text] */
function fileEntry(name, text = name) {
  return { isFile: true, isDirectory: false, name, file: (/** @type {(f: File) => void} */ ok) => ok(new File([text], name)) };
}

/**
 * A folder whose reader answers in batches of two, as browsers answer in batches (100 in Chromium).
 * @param {string} name
 * @param {object[]} children
 */
function dirEntry(name, children) {
  return {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let at = 0;
      return {
        readEntries: (/** @type {(e: object[]) => void} */ ok) =>
          setTimeout(() => {
            ok(children.slice(at, at + 2));
            at += 2;
          }),
      };
    },
  };
}

/** @param {object[]} entries */
function drop(entries) {
  const items = entries.map((e) => ({ kind: 'file', webkitGetAsEntry: () => e }));
  return /** @type {DataTransfer} */ (/** @type {unknown} */ ({ items, files: [] }));
}

test('a dropped folder is walked in name order and every file keeps its path below it', async () => {
  const album = dirEntry('Album', [
    fileEntry('b.jpg'),
    dirEntry('day 1', [fileEntry('z.txt'), fileEntry('a.txt'), fileEntry('m.txt')]),
    fileEntry('a.jpg'),
    dirEntry('empty', []),
  ]);
  const files = await droppedFiles(drop([fileEntry('loose.pdf'), album]));
  assert.deepEqual(
    files.map(relativePathOf),
    ['', 'Album/a.jpg', 'Album/b.jpg', 'Album/day 1/a.txt', 'Album/day 1/m.txt', 'Album/day 1/z.txt'],
  );
  assert.equal(await files[3]?.text(), 'a.txt', 'the bytes are the entry file\'s');
  assert.deepEqual(entryOf(/** @type {File} */ (files[3])), { name: 'a.txt', size: 5, type: '', dir: ['Album', 'day 1'] });
  assert.deepEqual(entryOf(/** @type {File} */ (files[0])), { name: 'loose.pdf', size: 9, type: '' });
});

test('without entries (an older browser), the dropped files are taken as they are', async () => {
  const plain = [new File(['x'], 'x.bin')];
  const data = /** @type {DataTransfer} */ (/** @type {unknown} */ ({ items: [{ kind: 'string' }], files: plain }));
  assert.deepEqual(await droppedFiles(data), plain);
  assert.equal(relativePathOf(/** @type {File} */ (plain[0])), '');
});

test('a file that cannot be read fails the whole drop (nothing half is offered)', async () => {
  const broken = { isFile: true, isDirectory: false, name: 'gone', file: (/** @type {unknown} */ _ok, /** @type {(e: Error) => void} */ fail) => fail(new Error('NotFoundError')) };
  await assert.rejects(droppedFiles(drop([dirEntry('A', [fileEntry('ok'), broken])])), /NotFoundError/);
});
