/**
 * @file "Save folder to…" (`lib/files/save-folder.js`) against a fake directory handle that behaves
 * like the File System Access API (errors named `NotFoundError` / `TypeMismatchError`,
 * `createWritable()` as a `WritableStream`): the received tree is recreated byte for byte, an
 * existing folder is never written into, and a bad path stops the copy. The real API needs a
 * user's choice in a picker, which headless end-to-end tests cannot give, so this is its test.
 */

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { saveTree } from '../lib/files/save-folder.js';

/** A file in the fake file system: its bytes once its writable closed. */
class FakeFile {
  /** @type {Uint8Array | null} */
  bytes = null;
  async createWritable() {
    /** @type {Uint8Array[]} */
    const parts = [];
    return new WritableStream({
      write: (chunk) => void parts.push(new Uint8Array(chunk)),
      close: () => void (this.bytes = Buffer.concat(parts)),
    });
  }
}

/** A directory in the fake file system. */
class FakeDir {
  /** @type {Map<string, FakeDir | FakeFile>} */
  entries = new Map();
  /** @param {string} name */
  constructor(name) {
    this.name = name;
  }
  /** @param {string} name @param {{ create?: boolean }} [opts] */
  async getDirectoryHandle(name, opts = {}) {
    return /** @type {FakeDir} */ (this.#get(name, opts, FakeDir));
  }
  /** @param {string} name @param {{ create?: boolean }} [opts] */
  async getFileHandle(name, opts = {}) {
    return /** @type {FakeFile} */ (this.#get(name, opts, FakeFile));
  }
  /**
   * @param {string} name
   * @param {{ create?: boolean }} opts
   * @param {typeof FakeDir | typeof FakeFile} Kind
   */
  #get(name, opts, Kind) {
    assert.ok(name !== '' && !name.includes('/') && name !== '.' && name !== '..', `bad name ${name}`);
    const e = this.entries.get(name);
    if (e && !(e instanceof Kind)) throw new DOMException(`${name} is another kind`, 'TypeMismatchError');
    if (e) return e;
    if (!opts.create) throw new DOMException(`${name} not found`, 'NotFoundError');
    const made = new Kind(name);
    this.entries.set(name, made);
    return made;
  }
  /**
   * Every file below, by path.
   * @param {string} [prefix]
   * @returns {Map<string, Uint8Array | null>}
   */
  tree(prefix = '') {
    /** @type {Map<string, Uint8Array | null>} */
    const out = new Map();
    for (const [name, e] of this.entries) {
      if (e instanceof FakeDir) for (const [p, b] of e.tree(`${prefix}${name}/`)) out.set(p, b);
      else out.set(`${prefix}${name}`, e.bytes);
    }
    return out;
  }
}

/** A received folder: path -> bytes. */
function album() {
  /** @type {Map<string, Uint8Array>} */
  const files = new Map();
  files.set('Album/empty.txt', new Uint8Array(0));
  files.set('Album/cover.jpg', new Uint8Array(randomBytes(300_000)));
  for (let i = 0; i < 30; i++) files.set(`Album/day ${i % 4}/part ${i % 3}/p${i}.jpg`, new Uint8Array(randomBytes(i * 100)));
  files.set('Album/Zoë/日本.txt', new TextEncoder().encode('こんにちは'));
  return files;
}

/** @param {Map<string, Uint8Array>} files */
const asFolderFiles = (files) => [...files].map(([path, b]) => ({ path, blob: new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (b)]) }));

test('the received tree is recreated in the chosen directory, byte for byte', async () => {
  const files = album();
  const chosen = new FakeDir('Downloads');
  /** @type {number[]} */
  const progress = [];
  const top = await saveTree(/** @type {any} */ (chosen), 'Album', asFolderFiles(files), (n) => progress.push(n));
  assert.equal(top, 'Album');
  const got = chosen.tree();
  assert.deepEqual([...got.keys()].sort(), [...files.keys()].sort());
  for (const [p, b] of files) assert.deepEqual(got.get(p), Buffer.from(b), p);
  assert.equal(progress.at(-1), files.size);
});

test('an existing folder (or file) of that name is left alone: "Album (2)", "Album (3)"', async () => {
  const chosen = new FakeDir('Downloads');
  const old = await chosen.getDirectoryHandle('Album', { create: true });
  await chosen.getFileHandle('Album (2)', { create: true });
  const files = new Map([['Album/a.txt', new TextEncoder().encode('new')]]);
  assert.equal(await saveTree(/** @type {any} */ (chosen), 'Album', asFolderFiles(files)), 'Album (3)');
  assert.equal(old.entries.size, 0, 'nothing was written into the existing folder');
  assert.deepEqual(chosen.tree().get('Album (3)/a.txt'), Buffer.from('new'));
});

test('a path outside the folder stops the copy with a sentence', async () => {
  const chosen = new FakeDir('Downloads');
  for (const path of ['Other/a.txt', 'Album/../a.txt', 'Album', 'Album//a.txt']) {
    await assert.rejects(
      saveTree(/** @type {any} */ (chosen), 'Album', [{ path, blob: new Blob(['x']) }]),
      /is not a path inside "Album": nothing was saved/,
      path,
    );
  }
  assert.equal(chosen.entries.size, 0, 'no folder was created');
});
