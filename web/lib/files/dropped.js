/**
 * @file Files from a drag and drop, folders included. A dropped folder is walked through the
 * File and Directory Entries API (`DataTransferItem.webkitGetAsEntry`, in every current
 * browser) and each file inside keeps its path below the dropped folder ("Album/day 1/a.jpg"),
 * as a file chosen with the folder picker does through `webkitRelativePath` (which a script
 * cannot set). `relativePathOf` answers for both.
 */

/** Paths of files that came out of a dropped folder. @type {WeakMap<File, string>} */
const paths = new WeakMap();

/**
 * Where `f` sits inside a chosen or dropped folder: "Album/day 1/a.jpg", or "" for a file
 * chosen or dropped on its own.
 * @param {File} f
 * @returns {string}
 */
export function relativePathOf(f) {
  return paths.get(f) ?? f.webkitRelativePath ?? '';
}

/**
 * The files of a drop: dropped files as they are, dropped folders walked (sorted by name at
 * each level, so the same folder gives the same list). Must be called from the `drop` handler
 * itself: the items can only be read before the handler returns (they are, before the first
 * `await` here).
 * @param {DataTransfer} data
 * @returns {Promise<File[]>}
 */
export async function droppedFiles(data) {
  /** @type {FileSystemEntry[]} */
  const entries = [];
  for (const item of data.items ?? []) {
    const entry = item.kind === 'file' && typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
  }
  if (entries.length === 0) return [...(data.files ?? [])];
  /** @type {File[]} */
  const out = [];
  for (const entry of entries) await walk(entry, '', out);
  return out;
}

/**
 * @param {FileSystemEntry} entry
 * @param {string} parent the path of its folder inside the drop ("" at the top)
 * @param {File[]} out
 */
async function walk(entry, parent, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => /** @type {FileSystemFileEntry} */ (entry).file(resolve, reject));
    if (parent !== '') paths.set(file, `${parent}/${file.name}`);
    out.push(file);
    return;
  }
  if (!entry.isDirectory) return;
  const here = parent === '' ? entry.name : `${parent}/${entry.name}`;
  const children = await readAll(/** @type {FileSystemDirectoryEntry} */ (entry));
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) await walk(child, here, out);
}

/**
 * Every entry of a folder (`readEntries` answers in batches until it answers none).
 * @param {FileSystemDirectoryEntry} dir
 * @returns {Promise<FileSystemEntry[]>}
 */
async function readAll(dir) {
  const reader = dir.createReader();
  /** @type {FileSystemEntry[]} */
  const all = [];
  for (;;) {
    /** @type {FileSystemEntry[]} */
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
