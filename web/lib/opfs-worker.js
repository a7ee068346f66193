/**
 * @file A dedicated worker that writes received files into the Origin Private File System
 * through `FileSystemSyncAccessHandle` (only available in workers): bytes are written straight
 * to the file, without the per-write Blob and inter-process copies of `createWritable()`, so a
 * receiving page's memory stays flat however large the file. Messages (each answered with
 * `{ id, ok, error? }`): `open {id, name}` creates `incoming/<name>`, `write {id, name, buf,
 * offset, length}` appends (the buffer is transferred, and handed back with the answer), `close {id, name}` flushes and
 * closes, `discard {id, name}` closes and removes it.
 */

/**
 * What this worker uses of a `FileSystemSyncAccessHandle` (the DOM typings checked here do not
 * declare the worker-only type).
 * @typedef {object} SyncHandle
 * @property {(data: Uint8Array, options: { at: number }) => number} write
 * @property {(size: number) => void} truncate
 * @property {() => void} flush
 * @property {() => void} close
 */

/** @type {Map<string, { handle: SyncHandle, at: number }>} */
const files = new Map();

/** @returns {Promise<FileSystemDirectoryHandle>} */
async function incoming() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle('incoming', { create: true });
}

/**
 * @param {{ op: string, id: number, name: string, buf?: ArrayBuffer, offset?: number, length?: number }} m
 */
async function handle(m) {
  switch (m.op) {
    case 'open': {
      const file = await (await incoming()).getFileHandle(m.name, { create: true });
      const handle = /** @type {SyncHandle} */ (await /** @type {any} */ (file).createSyncAccessHandle());
      handle.truncate(0);
      files.set(m.name, { handle, at: 0 });
      return;
    }
    case 'write': {
      const f = files.get(m.name);
      if (!f || !m.buf) throw new Error('write to a file that is not open');
      const view = new Uint8Array(m.buf, m.offset ?? 0, m.length ?? m.buf.byteLength);
      let done = 0;
      while (done < view.length) {
        const n = f.handle.write(view.subarray(done), { at: f.at + done });
        if (n <= 0) throw new Error('the disk accepted no more bytes (full?)');
        done += n;
      }
      f.at += done;
      return;
    }
    case 'close': {
      const f = files.get(m.name);
      if (!f) throw new Error('close of a file that is not open');
      f.handle.flush();
      f.handle.close();
      files.delete(m.name);
      return;
    }
    case 'discard': {
      const f = files.get(m.name);
      f?.handle.close();
      files.delete(m.name);
      await (await incoming()).removeEntry(m.name).catch(() => {});
      return;
    }
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

self.addEventListener('message', (ev) => {
  const m = /** @type {MessageEvent} */ (ev).data;
  handle(m).then(
    // A written buffer goes back to the page (transferred, no copy), where it is garbage among
    // the page's other spent buffers. Left here, it would wait for this worker's own garbage
    // collection, which lets tens of megabytes more pile up (measured: receiving page 316 MB
    // at 2 GiB instead of about 250 MB).
    () => self.postMessage({ id: m.id, ok: true }, { transfer: m.op === 'write' && m.buf ? [m.buf] : [] }),
    (e) => self.postMessage({ id: m.id, ok: false, error: String(e instanceof Error ? e.message : e) }),
  );
});

export {};
