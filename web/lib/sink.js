/**
 * @file Where received bytes go (`docs/protocol.md` §11.4 expects them stored before they are
 * acknowledged): a file in the Origin Private File System, written as records arrive, so a
 * 10 GB file does not sit in memory; where OPFS writing is not available, Blobs in memory
 * (folded every 8 MiB so the page's heap stays small). `close()` hands over a `Blob` (for OPFS
 * a `File` backed by the disk) for a download link. Received files live in the OPFS folder
 * `incoming/`, emptied when the app starts (`clearIncoming`).
 */

const INCOMING = 'incoming';
const FOLD_BYTES = 8 * 1024 * 1024;

/**
 * @typedef {object} Sink
 * @property {'opfs' | 'memory'} kind
 * @property {(bytes: Uint8Array) => Promise<void>} write appends bytes
 * @property {() => Promise<Blob>} close finishes the file and returns it
 * @property {() => Promise<void>} discard drops what was written
 */

/** @returns {Promise<FileSystemDirectoryHandle | null>} */
async function incomingDir() {
  try {
    const root = await navigator.storage.getDirectory();
    return await root.getDirectoryHandle(INCOMING, { create: true });
  } catch {
    return null;
  }
}

/**
 * Opens a sink for one received file of MIME type `type`.
 * @param {string} type
 * @returns {Promise<Sink>}
 */
export async function openSink(type) {
  const dir = await incomingDir();
  if (dir) {
    const name = crypto.randomUUID();
    try {
      const handle = await dir.getFileHandle(name, { create: true });
      const writable = await handle.createWritable();
      return {
        kind: 'opfs',
        write: (bytes) => writable.write(/** @type {Uint8Array<ArrayBuffer>} */ (bytes)),
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

/** Removes received files left from an earlier page load (their download links are gone). */
export async function clearIncoming() {
  try {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(INCOMING, { recursive: true });
  } catch {
    // Nothing there, or no OPFS.
  }
}
