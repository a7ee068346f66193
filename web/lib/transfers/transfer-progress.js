/**
 * @file What the screen follows of a transfer, in either direction: its files, state, byte
 * counters and rate. States: offered, active, done, declined, cancelled, error, and
 * interrupted (the session ended early and the transfer can resume, `docs/protocol.md` §11.3).
 * Events: `progress`, `state`, and for `Incoming` also `file` (detail: {name, type, size, blob,
 * storage}).
 */

/** @import { ManifestFile } from '../../types/protocol.js' */

/** States a transfer does not leave. */
const FINAL = ['done', 'declined', 'cancelled', 'error', 'interrupted'];

/** A transfer's counters and state, shared by both directions. */
class Progress extends EventTarget {
  /** @type {string} */
  state = 'offered';
  /** Bytes of the files that are here (received) or there (sent), kept ones included. */
  bytes = 0;
  /**
   * Chunk payload bytes that went over the link this session (sent; or arrived, stored or
   * not): a resumed transfer skips the rest.
   */
  chunkBytes = 0;
  startedAt = 0;
  /** When it reached a state it does not leave (`performance.now()`), else 0. */
  endedAt = 0;
  /** @type {string | null} */
  error = null;
  /** The b64url transfer id of an offer that can resume, else null. @type {string | null} */
  transferId = null;

  /** @param {ManifestFile[]} files */
  constructor(files) {
    super();
    this.files = files;
    this.total = files.reduce((sum, f) => sum + f.size, 0);
  }

  /** Whether bytes are moving (a getter: the state changes under running code). */
  get isActive() {
    return this.state === 'active';
  }

  /** Bytes per second from when the transfer became active to now or its end (of the bytes sent this session). */
  get rate() {
    const secs = ((this.endedAt || performance.now()) - this.startedAt) / 1000;
    return secs > 0 ? this.chunkBytes / secs : 0;
  }

  /** @param {string} state @param {string | null} [error] */
  setState(state, error = null) {
    if (FINAL.includes(this.state)) return;
    if (state === 'active') this.startedAt = performance.now();
    if (FINAL.includes(state)) this.endedAt = performance.now();
    this.state = state;
    this.error = error;
    this.dispatchEvent(new Event('state'));
  }

  /** @param {number} n chunk bytes sent, or stored (the receiver counts arrivals itself) */
  add(n) {
    this.bytes += n;
    if (this instanceof Outgoing) this.chunkBytes += n;
    this.dispatchEvent(new Event('progress'));
  }

  /** Stops this transfer (and every other one in the session, §6), telling the other device. */
  /** @type {(() => void) | null} */
  cancel = null;
}

/** Files this device sends. */
export class Outgoing extends Progress {
  /** An automatic offer again of files whose transfer was interrupted. */
  resuming = false;
  /** The files offered (kept to offer them again after an interruption). @type {File[]} */
  sources = [];
}

/** Files this device receives. */
export class Incoming extends Progress {
  /**
   * Accepts; `folder`: into that folder the user chose (Chromium's File System Access), else
   * into OPFS, handed over as downloads.
   * @type {((opts?: { folder?: FileSystemDirectoryHandle }) => void) | null}
   */
  accept = null;
  /** @type {(() => void) | null} */
  decline = null;
  /** An offer of a transfer accepted before and kept: it continues without asking. */
  resumed = false;
  /** Verified bytes kept for resuming (when interrupted). */
  kept = 0;
  /** Drops what an interrupted transfer kept. @type {(() => void) | null} */
  discard = null;
}
