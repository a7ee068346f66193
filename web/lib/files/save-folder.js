/**
 * @file "Save folder to…": copies a received folder into a directory the user chose with the
 * File System Access API (`showDirectoryPicker`, Chromium desktop), file by file, streaming
 * each from its Blob (on disk in OPFS) into a `createWritable()` stream. Nothing is
 * overwritten: the folder is created fresh, as "Album", else "Album (2)", "Album (3)"…
 * No DOM here: it takes the directory handle, so `node --test` drives it with a fake one.
 */

/** @typedef {import('./folder-zip.js').FolderFile} FolderFile */

/**
 * The parts of `FileSystemDirectoryHandle` used here (a fake in tests).
 * @typedef {object} DirHandle
 * @property {(name: string, options?: { create?: boolean }) => Promise<DirHandle>} getDirectoryHandle
 * @property {(name: string, options?: { create?: boolean }) => Promise<{ createWritable(): Promise<WritableStream> }>} getFileHandle
 */

/**
 * A name for `folder` that nothing in `parent` has yet.
 * @param {DirHandle} parent
 * @param {string} folder
 * @returns {Promise<string>}
 */
async function freshName(parent, folder) {
  for (let i = 1; i < 1000; i++) {
    const name = i === 1 ? folder : `${folder} (${i})`;
    try {
      await parent.getDirectoryHandle(name);
    } catch (e) {
      const kind = /** @type {{ name?: string }} */ (e)?.name;
      if (kind === 'NotFoundError') return name;
      if (kind !== 'TypeMismatchError') throw e;
      // A file has that name: try the next one.
    }
  }
  throw new Error(`The chosen folder already holds "${folder}" and 998 more copies of it: choose another folder.`);
}

/**
 * Copies `files`, whose paths all start with `folder/`, into a new folder in `parent`.
 * @param {DirHandle} parent the directory the user chose
 * @param {string} folder the received folder's name
 * @param {FolderFile[]} files
 * @param {(done: number) => void} [onProgress] files copied so far
 * @returns {Promise<string>} the name of the folder created in `parent`
 */
export async function saveTree(parent, folder, files, onProgress) {
  for (const f of files) {
    const segments = f.path.split('/');
    if (segments[0] !== folder || segments.length < 2 || segments.some((s) => s === '' || s === '.' || s === '..')) {
      throw new Error(`"${f.path}" is not a path inside "${folder}": nothing was saved.`);
    }
  }
  const top = await freshName(parent, folder);
  /** Directories made so far, by their path below `top` ("" is `top` itself). */
  /** @type {Map<string, Promise<DirHandle>>} */
  const dirs = new Map([['', parent.getDirectoryHandle(top, { create: true })]]);
  /** @param {string[]} segments @returns {Promise<DirHandle>} */
  const dirOf = (segments) => {
    const key = segments.join('/');
    let d = dirs.get(key);
    if (!d) {
      d = dirOf(segments.slice(0, -1)).then((p) => p.getDirectoryHandle(segments[segments.length - 1], { create: true }));
      dirs.set(key, d);
    }
    return d;
  };
  let done = 0;
  for (const f of files) {
    const segments = f.path.split('/');
    const dir = await dirOf(segments.slice(1, -1));
    const handle = await dir.getFileHandle(segments[segments.length - 1], { create: true });
    await f.blob.stream().pipeTo(await handle.createWritable());
    onProgress?.(++done);
  }
  return top;
}
