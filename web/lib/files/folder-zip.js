/**
 * @file Hands a received folder over as one ZIP download: the files (already complete in the
 * Origin Private File System, `sink.js`) are written as a stored ZIP (`zip.js`) by a worker
 * (`zip-worker.js`) through a sync access handle into `incoming/`, where `clearIncoming()`
 * removes it with the received files when the app starts again. Memory stays flat: the worker
 * streams one chunk at a time, and the result is a disk-backed `File`.
 */

/**
 * A received file of the folder, with its path inside the zip ("Album/day 1/a.jpg").
 * @typedef {object} FolderFile
 * @property {string} path
 * @property {Blob} blob
 */

/**
 * Whether this browser may be able to write a zip into OPFS from a worker. Sync access handles
 * exist only inside dedicated workers, so the page cannot see them: where they are missing the
 * worker says so and `zipFolder` fails with that sentence.
 */
export function canZip() {
  return typeof Worker !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

/**
 * Writes `files` as one ZIP archive and returns it as a `File` named `zipName`.
 * @param {FolderFile[]} files
 * @param {string} zipName e.g. "Album.zip"
 * @param {(bytes: number) => void} [onProgress] bytes of content written so far
 * @returns {Promise<File>}
 */
export async function zipFolder(files, zipName, onProgress) {
  const name = `zip-${crypto.randomUUID()}`;
  const worker = new Worker(new URL('./zip-worker.js', import.meta.url), { type: 'module' });
  try {
    await new Promise((resolve, reject) => {
      worker.addEventListener('message', (ev) => {
        const m = /** @type {MessageEvent} */ (ev).data;
        if (typeof m.progress === 'number') onProgress?.(m.progress);
        else if (m.ok) resolve(m.size);
        else reject(new Error(`Could not write the zip: ${m.error}`));
      });
      worker.addEventListener('error', (ev) => reject(new Error(`Could not write the zip: the zip worker failed (${ev.message}).`)));
      worker.postMessage({ name, files });
    });
  } finally {
    worker.terminate();
  }
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('incoming');
  const file = await (await dir.getFileHandle(name)).getFile();
  return new File([file], zipName, { type: 'application/zip' });
}
