/**
 * @file Receiving straight into a folder the user chose (File System Access,
 * `showDirectoryPicker`, Chromium desktop): a `Sink` (`sink.js`) that writes each file where it
 * belongs in that folder as its records arrive, so a large transfer is not stored twice (OPFS,
 * then a copy).
 *
 * Nothing looks complete early and nothing is overwritten:
 * - a file is written as `NAME.pairwise-part` through `createWritable()` (the browser keeps the
 *   bytes in a swap file of its own until `close()`), and only after its FINAL record verified is
 *   it closed and renamed to `NAME` (`move`); where `move` is missing the part file is written
 *   under the final name directly, and the browser's swap file still keeps it empty until then;
 * - a name already taken in the folder gets ` (1)`, ` (2)`, … before its extension;
 * - a cancelled or failed file's part is removed.
 * Folder names from the offer were checked like file names (`manifest.js`), segment by segment.
 * Transfers received this way are not kept for resume: an interrupted file starts again.
 */

/** @typedef {import('./sink.js').Sink} Sink */

import { alternativeName } from '../proto/name.js';

const PART = '.pairwise-part';

/**
 * Opens the file `name` in the folder `dir` (segments) under `root`, creating folders as needed.
 * @param {FileSystemDirectoryHandle} root the folder the user chose
 * @param {string[]} dir the file's folder path, checked segments
 * @param {string} name the file's checked name
 * @returns {Promise<Sink>}
 */
export async function openFolderSink(root, dir, name) {
  let folder = root;
  for (const segment of dir) folder = await folder.getDirectoryHandle(segment, { create: true });
  const final = await freeName(folder, name);
  const canMove = 'move' in FileSystemFileHandle.prototype;
  const partName = canMove ? await freeName(folder, `${final}${PART}`) : final;
  const handle = await folder.getFileHandle(partName, { create: true });
  const writable = await handle.createWritable();
  let open = true;
  return {
    kind: 'folder',
    write: async (bytes) => {
      await writable.write(/** @type {Uint8Array<ArrayBuffer>} */ (bytes));
      return undefined;
    },
    close: async () => {
      open = false;
      await writable.close();
      if (partName !== final) await /** @type {any} */ (handle).move(final);
      return handle.getFile();
    },
    discard: async () => {
      if (open) {
        open = false;
        await writable.abort().catch(() => {});
      }
      await folder.removeEntry(partName).catch(() => {});
    },
  };
}

/**
 * `name`, or `stem (n).ext` for the first n from 1 where no entry of that name exists.
 * @param {FileSystemDirectoryHandle} folder
 * @param {string} name
 */
export async function freeName(folder, name) {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? name : alternativeName(name, n);
    if (!(await exists(folder, candidate))) return candidate;
  }
}

/**
 * @param {FileSystemDirectoryHandle} folder
 * @param {string} name
 */
async function exists(folder, name) {
  for (const get of [() => folder.getFileHandle(name), () => folder.getDirectoryHandle(name)]) {
    try {
      await get();
      return true;
    } catch (e) {
      if (!(e instanceof DOMException) || (e.name !== 'NotFoundError' && e.name !== 'TypeMismatchError')) throw e;
    }
  }
  return false;
}
