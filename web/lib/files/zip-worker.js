/**
 * @file A dedicated worker that writes a received folder as one ZIP file (`zip.js`) into the
 * Origin Private File System through a `FileSystemSyncAccessHandle`, so neither the page nor
 * this worker ever holds more than one chunk of it. One message `{ name, files: [{ path, blob }]
 * }` (the blobs are the received files, cloned by reference, not copied) writes
 * `incoming/<name>`; the worker answers `{ progress: bytes }` now and then and, at the end,
 * `{ ok: true, size }` or `{ ok: false, error }` (after removing what it wrote).
 */

import { blobEntry, writeZip } from '../formats/zip.js';

/**
 * What this worker uses of a `FileSystemSyncAccessHandle` (not in the DOM typings checked here).
 * @typedef {object} SyncHandle
 * @property {(data: Uint8Array, options: { at: number }) => number} write
 * @property {(size: number) => void} truncate
 * @property {() => void} flush
 * @property {() => void} close
 */

/** Progress messages at most this often, in bytes of content. */
const PROGRESS_STEP = 4 * 1024 * 1024;

/** @param {{ name: string, files: { path: string, blob: Blob }[] }} m */
async function zip(m) {
  const root = await navigator.storage.getDirectory();
  const dir = await root.getDirectoryHandle('incoming', { create: true });
  const file = await dir.getFileHandle(m.name, { create: true });
  if (!('createSyncAccessHandle' in file)) {
    await dir.removeEntry(m.name).catch(() => {});
    throw new Error('this browser cannot write files from a worker (no sync access handles).');
  }
  const handle = /** @type {SyncHandle} */ (await /** @type {any} */ (file).createSyncAccessHandle());
  let reported = 0;
  try {
    handle.truncate(0);
    const out = {
      /** @param {Uint8Array} bytes @param {number} at */
      write(bytes, at) {
        for (let done = 0; done < bytes.length; ) {
          const n = handle.write(bytes.subarray(done), { at: at + done });
          if (n <= 0) throw new Error('The disk accepted no more bytes (is it full?).');
          done += n;
        }
      },
    };
    /** @param {number} bytes */
    const onProgress = (bytes) => {
      if (bytes - reported < PROGRESS_STEP) return;
      reported = bytes;
      self.postMessage({ progress: bytes });
    };
    const size = await writeZip(m.files.map((f) => blobEntry(f.path, f.blob)), out, { onProgress });
    handle.flush();
    return size;
  } catch (e) {
    handle.close();
    await dir.removeEntry(m.name).catch(() => {});
    throw e;
  } finally {
    try {
      handle.close();
    } catch {
      // Closed above.
    }
  }
}

self.addEventListener('message', (ev) => {
  zip(/** @type {MessageEvent} */ (ev).data).then(
    (size) => self.postMessage({ ok: true, size }),
    (e) => self.postMessage({ ok: false, error: String(e instanceof Error ? e.message : e) }),
  );
});

export {};
