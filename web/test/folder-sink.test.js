/**
 * @file The name rule of receiving into a chosen folder (`lib/files/folder-sink.js`): a name already
 * taken by a file or a folder gets ` (1)`, ` (2)`, … before its extension, so nothing is ever
 * overwritten. (Writing through a real directory handle is `tests/e2e/folder-receive.test.js`.)
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freeName } from '../lib/files/folder-sink.js';

/**
 * A folder holding `files` and `dirs`, answering like the File System Access API.
 * @param {string[]} files
 * @param {string[]} [dirs]
 */
function folder(files, dirs = []) {
  /** @param {string[]} mine @param {string[]} other */
  const get = (mine, other) => async (/** @type {string} */ name) => {
    if (mine.includes(name)) return {};
    if (other.includes(name)) throw new DOMException(`${name} is another kind`, 'TypeMismatchError');
    throw new DOMException(`${name} not found`, 'NotFoundError');
  };
  return /** @type {FileSystemDirectoryHandle} */ (/** @type {unknown} */ ({ getFileHandle: get(files, dirs), getDirectoryHandle: get(dirs, files) }));
}

test('a free name is kept as it is', async () => {
  assert.equal(await freeName(folder(['other.txt']), 'notes.txt'), 'notes.txt');
});

test('a taken name gets the first free number before its extension', async () => {
  assert.equal(await freeName(folder(['notes.txt']), 'notes.txt'), 'notes (1).txt');
  assert.equal(await freeName(folder(['notes.txt', 'notes (1).txt']), 'notes.txt'), 'notes (2).txt');
  assert.equal(await freeName(folder(['clip.tar.gz']), 'clip.tar.gz'), 'clip.tar (1).gz');
});

test('names without an extension, and dot files, are numbered at the end', async () => {
  assert.equal(await freeName(folder(['README']), 'README'), 'README (1)');
  assert.equal(await freeName(folder(['.bashrc']), '.bashrc'), '.bashrc (1)');
});

test('a folder of that name counts as taken', async () => {
  assert.equal(await freeName(folder([], ['Trip']), 'Trip'), 'Trip (1)');
});

test('an error other than "not there" is not taken for a free name', async () => {
  const broken = /** @type {FileSystemDirectoryHandle} */ (/** @type {unknown} */ ({
    getFileHandle: async () => {
      throw new DOMException('no permission', 'NotAllowedError');
    },
  }));
  await assert.rejects(freeName(broken, 'notes.txt'), { name: 'NotAllowedError' });
});
