/**
 * @file Where received bytes go (`docs/protocol.md` §11.4 expects them stored before they are
 * acknowledged): a file in the Origin Private File System, written as records arrive, so a
 * 10 GB file does not sit in memory. In order of preference: a worker writing through a
 * `FileSystemSyncAccessHandle` (`opfs-worker.js`: no copies, flat memory), `createWritable()`
 * (each write becomes a Blob handed to the browser process), and where OPFS cannot be written,
 * Blobs in memory (folded every 8 MiB). `close()` hands over a `Blob` (for OPFS a `File` backed
 * by the disk) for a download link. Received files live in the OPFS folder `incoming/`; the ones
 * the person keeps (`received-store.js`) stay there across page loads, and what no kept file
 * names is removed when the app starts (`sweepIncoming`). Files of a resumable transfer (§11.3) live in
 * `partial/` under a name made from the transfer id (`openPartialSink`): kept when a session
 * ends early, so the next session continues them; the app removes the ones no kept transfer
 * names any more when it starts (`cleanPartials`).
 */

/** @type {'incoming'} */
const INCOMING = 'incoming';
/** @type {'partial'} */
const PARTIAL = 'partial';
const FOLD_BYTES = 8 * 1024 * 1024;

/**
 * @typedef {object} Sink
 * @property {'opfs' | 'opfs-writable' | 'memory' | 'folder'} kind where the bytes go: `opfs`
 *   through the worker's sync access handle, `opfs-writable` through `createWritable()`, memory,
 *   or a folder the user chose (`folder-sink.js`)
 * @property {(bytes: Uint8Array) => Promise<Checkpoint | undefined>} write appends bytes; a
 *   partial sink answers with a new checkpoint when a 1 MiB boundary was stored
 * @property {() => Promise<Blob>} close finishes the file and returns it
 * @property {() => Promise<void>} discard drops what was written
 * @property {() => Promise<void>} [release] closes a partial file and keeps it
 * @property {Checkpoint} [whole] a partial sink's chain over the whole file, once closed
 * @property {OpfsPath} [path] where in OPFS the file is (OPFS sinks only)
 */

/** @typedef {{ folder: 'incoming' | 'partial', file: string }} OpfsPath */

/** @typedef {{ offset: number, h: Uint8Array }} Checkpoint */

/**
 * @param {'incoming' | 'partial'} [name]
 * @returns {Promise<FileSystemDirectoryHandle | null>}
 */
async function incomingDir(name = INCOMING) {
  try {
    const root = await navigator.storage.getDirectory();
    return await root.getDirectoryHandle(name, { create: true });
  } catch {
    return null;
  }
}

/** The OPFS writer worker, started on first use; null where sync access handles are missing. */
/** @type {Promise<WorkerClient | null> | null} */
let worker = null;

/** Requests to the worker, answered in any order by id. */
class WorkerClient {
  #worker;
  #next = 1;
  /** @type {Map<number, { resolve: (value: any) => void, reject: (e: Error) => void }>} */
  #pending = new Map();

  /** @param {Worker} w */
  constructor(w) {
    this.#worker = w;
    w.addEventListener('message', (ev) => {
      const { id, ok, value, error } = /** @type {MessageEvent} */ (ev).data;
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (ok) p?.resolve(value);
      else p?.reject(new Error(error));
    });
  }

  /**
   * @param {Record<string, unknown>} msg
   * @param {Transferable[]} [transfer]
   * @returns {Promise<any>}
   */
  call(msg, transfer = []) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id }, transfer);
    });
  }
}

/**
 * The worker, once it proved that it can write here (a file opened and discarded); null where
 * it cannot. `createSyncAccessHandle` exists only inside dedicated workers (it is not on the
 * page's `FileSystemFileHandle.prototype`), so the probe, run in the worker, is the test.
 * @returns {Promise<WorkerClient | null>}
 */
function opfsWorker() {
  worker ??= (async () => {
    if (typeof Worker === 'undefined') return null;
    try {
      const client = new WorkerClient(new Worker(new URL('./opfs-worker.js', import.meta.url), { type: 'module' }));
      const probe = `probe-${crypto.randomUUID()}`;
      await client.call({ op: 'open', name: probe });
      await client.call({ op: 'discard', name: probe });
      return client;
    } catch {
      return null;
    }
  })();
  return worker;
}

/**
 * Opens a sink for one received file of MIME type `type`.
 * @param {string} type
 * @returns {Promise<Sink>}
 */
export async function openSink(type) {
  const dir = await incomingDir();
  const w = dir ? await opfsWorker() : null;
  if (dir && w) {
    const name = crypto.randomUUID();
    await w.call({ op: 'open', name });
    return {
      kind: 'opfs',
      path: { folder: INCOMING, file: name },
      // The bytes move to the worker (transferred, not copied): the caller must not use them.
      write: (bytes) =>
        w.call({ op: 'write', name, buf: bytes.buffer, offset: bytes.byteOffset, length: bytes.length }, [bytes.buffer]),
      close: async () => {
        await w.call({ op: 'close', name });
        const file = await (await dir.getFileHandle(name)).getFile();
        return type ? file.slice(0, file.size, type) : file;
      },
      discard: () => w.call({ op: 'discard', name }),
    };
  }
  if (dir) {
    const name = crypto.randomUUID();
    try {
      const handle = await dir.getFileHandle(name, { create: true });
      const writable = await handle.createWritable();
      return {
        kind: 'opfs-writable',
        path: { folder: INCOMING, file: name },
        write: (bytes) => writable.write(/** @type {Uint8Array<ArrayBuffer>} */ (bytes)).then(() => undefined),
        close: async () => {
          await writable.close();
          const file = await handle.getFile();
          return type ? file.slice(0, file.size, type) : file;
        },
        discard: async () => {
          await writable.abort().catch(() => {});
          await dir.removeEntry(name).catch(() => {});
        },
      };
    } catch {
      // createWritable is missing (older Safari): fall through to memory.
    }
  }
  return memorySink(type);
}

/**
 * Whether files of a resumable transfer can be kept here (OPFS through the worker).
 * @returns {Promise<boolean>}
 */
export async function canKeepPartials() {
  return (await incomingDir(PARTIAL)) !== null && (await opfsWorker()) !== null;
}

/**
 * Opens file `index` of resumable transfer `tid` in `partial/<name>`, keeping its first `keep`
 * bytes (whose chain value is `h`); the worker runs the chain over what follows.
 * @param {{ name: string, type: string, keep: number, h: Uint8Array | undefined, tid: Uint8Array | undefined, index: number }} p
 * @returns {Promise<Sink>}
 */
export async function openPartialSink({ name, type, keep, h, tid, index }) {
  const dir = await incomingDir(PARTIAL);
  const w = await opfsWorker();
  if (!dir || !w) throw new Error('this browser cannot keep partly received files');
  await w.call({ op: 'open', name, dir: PARTIAL, keep, h, tid, index });
  /** @type {Sink} */
  const sink = {
    kind: 'opfs',
    path: { folder: PARTIAL, file: name },
    write: (bytes) =>
      w.call({ op: 'write', name, buf: bytes.buffer, offset: bytes.byteOffset, length: bytes.length }, [bytes.buffer]),
    close: async () => {
      sink.whole = await w.call({ op: 'close', name });
      const file = await (await dir.getFileHandle(name)).getFile();
      return type ? file.slice(0, file.size, type) : file;
    },
    discard: () => w.call({ op: 'discard', name, dir: PARTIAL }),
    release: () => w.call({ op: 'release', name }),
  };
  return sink;
}

/**
 * Removes files of `partial/` that `keep` does not name.
 * @param {Set<string>} keep
 */
export async function cleanPartials(keep) {
  const dir = await incomingDir(PARTIAL);
  if (!dir) return;
  /** @type {string[]} */
  const names = [];
  for await (const name of /** @type {any} */ (dir).keys()) names.push(name);
  for (const name of names) if (!keep.has(name)) await dir.removeEntry(name).catch(() => {});
}

/**
 * Removes `partial/<name>` (a kept file nobody resumes).
 * @param {string} name
 */
export async function removePartial(name) {
  await (await incomingDir(PARTIAL))?.removeEntry(name).catch(() => {});
}

/**
 * Blobs in memory, folded every `FOLD_BYTES`.
 * @param {string} type
 * @returns {Sink}
 */
export function memorySink(type) {
  /** @type {Uint8Array[]} */
  let parts = [];
  let partsBytes = 0;
  /** @type {Blob[]} */
  let blobs = [];
  const fold = () => {
    if (parts.length > 0) blobs.push(new Blob(/** @type {BlobPart[]} */ (parts)));
    parts = [];
    partsBytes = 0;
  };
  return {
    kind: 'memory',
    write: async (bytes) => {
      parts.push(bytes);
      partsBytes += bytes.length;
      if (partsBytes >= FOLD_BYTES) fold();
      return undefined;
    },
    close: async () => {
      fold();
      const blob = new Blob(blobs, { type });
      blobs = [];
      return blob;
    },
    discard: async () => {
      parts = [];
      blobs = [];
    },
  };
}

/**
 * Removes the files of `incoming/` that `keep` does not name: left by a transfer that never
 * finished, or by a file the person removed while its removal could not run.
 * @param {Set<string>} keep
 */
export async function sweepIncoming(keep) {
  const dir = await incomingDir();
  if (!dir) return;
  /** @type {string[]} */
  const names = [];
  for await (const name of /** @type {any} */ (dir).keys()) names.push(name);
  for (const name of names) if (!keep.has(name)) await dir.removeEntry(name).catch(() => {});
}

/**
 * A kept received file, or null if it is gone (the browser evicted the site's storage).
 * @param {OpfsPath} path
 * @returns {Promise<File | null>}
 */
export async function keptFile({ folder, file }) {
  try {
    const dir = await incomingDir(folder);
    return dir ? await (await dir.getFileHandle(file)).getFile() : null;
  } catch {
    return null;
  }
}

/**
 * Removes a kept received file from OPFS.
 * @param {OpfsPath} path
 */
export async function removeKeptFile({ folder, file }) {
  await (await incomingDir(folder))?.removeEntry(file).catch(() => {});
}
