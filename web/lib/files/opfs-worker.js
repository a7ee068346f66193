/**
 * @file A dedicated worker that writes received files into the Origin Private File System
 * through `FileSystemSyncAccessHandle` (only available in workers): bytes are written straight
 * to the file, without the per-write Blob and inter-process copies of `createWritable()`, so a
 * receiving page's memory stays flat however large the file. Messages (each answered with
 * `{ id, ok, value?, error? }`):
 * - `open {id, name, dir?, keep?, tid?, index?, h?}` opens `<dir>/<name>` (dir `incoming` by
 *   default) and truncates it to `keep` bytes (0 by default). With `tid` (a resumable
 *   transfer, `docs/protocol.md` §11.3) the worker also runs the file's hash chain: from `h` at
 *   `keep`, or from the start;
 * - `write {id, name, buf, offset, length}` appends (the buffer is transferred); for a chained
 *   file the answer's `value` is the new checkpoint `{offset, h}` when a 1 MiB boundary was
 *   passed, after the bytes up to it were written. The chain hashes here, off the page's
 *   thread, from the bytes the worker already holds;
 * - `close {id, name}` flushes and closes (`value`: `{offset, h}` over the whole file when
 *   chained), `release {id, name}` closes and keeps the file (a session ended early),
 *   `discard {id, name, dir?}` closes and removes it.
 */

import { ResumeChain } from '../proto/resume.js';

/**
 * What this worker uses of a `FileSystemSyncAccessHandle` (the DOM typings checked here do not
 * declare the worker-only type).
 * @typedef {object} SyncHandle
 * @property {(data: Uint8Array, options: { at: number }) => number} write
 * @property {(size: number) => void} truncate
 * @property {() => void} flush
 * @property {() => void} close
 */

/**
 * @typedef {object} OpenFile
 * @property {SyncHandle} handle
 * @property {number} at
 * @property {string} dir
 * @property {ResumeChain | null} chain
 * @property {number} mark the last checkpoint reported
 * @property {Promise<unknown>} hashing the chain's updates, in write order
 */

/** @type {Map<string, OpenFile>} */
const files = new Map();

/** @param {string} dir */
async function folder(dir) {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(dir, { create: true });
}

/**
 * Opens a file's sync access handle. A kept file may still be locked for a moment by the worker
 * of the page this one replaced (a reload): that is retried for a few seconds.
 * @param {FileSystemFileHandle} file
 * @returns {Promise<SyncHandle>}
 */
async function syncHandle(file) {
  for (let tries = 0; ; tries++) {
    try {
      return /** @type {SyncHandle} */ (await /** @type {any} */ (file).createSyncAccessHandle());
    } catch (e) {
      if (tries >= 40 || !(e instanceof DOMException) || e.name !== 'NoModificationAllowedError') throw e;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * @param {{ op: string, id: number, name: string, dir?: string, keep?: number, tid?: Uint8Array, index?: number,
 *   h?: Uint8Array, buf?: ArrayBuffer, offset?: number, length?: number }} m
 * @returns {Promise<unknown>}
 */
async function handle(m) {
  switch (m.op) {
    case 'open': {
      const dir = m.dir ?? 'incoming';
      const file = await (await folder(dir)).getFileHandle(m.name, { create: true });
      const handle = await syncHandle(file);
      const keep = m.keep ?? 0;
      handle.truncate(keep);
      let chain = null;
      if (m.tid) chain = keep > 0 && m.h ? new ResumeChain(m.h, keep) : await ResumeChain.start(m.tid, m.index ?? 0);
      files.set(m.name, { handle, at: keep, dir, chain, mark: keep, hashing: Promise.resolve() });
      return undefined;
    }
    case 'write': {
      // The write itself runs before this handler's first await, so writes land in order.
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
      const chain = f.chain;
      if (!chain) return undefined;
      const step = f.hashing.then(() => chain.update(view));
      f.hashing = step.catch(() => {});
      await step;
      const cp = chain.checkpoint();
      if (cp.offset <= f.mark) return undefined;
      f.mark = cp.offset;
      return cp;
    }
    case 'close': {
      const f = files.get(m.name);
      if (!f) throw new Error('close of a file that is not open');
      files.delete(m.name);
      await f.hashing;
      f.handle.flush();
      f.handle.close();
      return f.chain ? { offset: f.at, h: await f.chain.finish() } : undefined;
    }
    case 'release': {
      const f = files.get(m.name);
      files.delete(m.name);
      if (!f) return undefined;
      await f.hashing;
      f.handle.flush();
      f.handle.close();
      return undefined;
    }
    case 'discard': {
      const f = files.get(m.name);
      files.delete(m.name);
      f?.handle.close();
      await (await folder(f?.dir ?? m.dir ?? 'incoming')).removeEntry(m.name).catch(() => {});
      return undefined;
    }
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

self.addEventListener('message', (ev) => {
  const m = /** @type {MessageEvent} */ (ev).data;
  // A written buffer goes back to the page (transferred, no copy), where it is garbage among
  // the page's other spent buffers. Left here, it would wait for this worker's own garbage
  // collection, which lets tens of megabytes more pile up (measured: receiving page 316 MB
  // at 2 GiB instead of about 250 MB).
  handle(m).then(
    (value) => self.postMessage({ id: m.id, ok: true, value }, { transfer: m.op === 'write' && m.buf ? [m.buf] : [] }),
    (e) => self.postMessage({ id: m.id, ok: false, error: String(e instanceof Error ? e.message : e) }),
  );
});

export {};
