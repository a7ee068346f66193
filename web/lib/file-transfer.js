/**
 * @file Files over a `SecureChannel`: offering files (manifest, wait for accept, stream chunks
 * under the channel's flow control) and receiving them (accept or decline, verify sizes and
 * FINAL flags with `ReceiveState`, hand over a file only once it is complete).
 *
 * - `Transfers` events: `outgoing` (detail: Outgoing), `incoming` (detail: Incoming), `text`
 *   (detail: the string, §11.2), `device` (detail: {name}: the peer's `device` message, §10.7;
 *   allowed at any time).
 * - `Outgoing` / `Incoming` events: `progress`, `state` (offered|active|done|declined|cancelled|
 *   error), and for `Incoming` also `file` (detail: {name, type, size, blob, storage}, storage
 *   `opfs` or `memory`).
 *
 * Received bytes go to a sink (`sink.js`: the Origin Private File System where it can be
 * written, Blobs in memory otherwise) and are acknowledged with `progress` once written, so the
 * sender's window (`flow.js`, §11.4) lets the receiver's disk set the pace. The file is handed
 * over (as a disk-backed `File` for OPFS) only after its FINAL chunk.
 */

/** @import { SecureChannel } from './secure-channel.js' */
/** @import { ManifestFile } from '../types/protocol.js' */

import { ProtocolError } from './errors.js';
import { SendWindow, StoredCounter } from './flow.js';
import { MAX_MANIFEST_FILES } from './limits.js';
import { manifestParts } from './manifest.js';
import { openSink } from './sink.js';
import {
  ReceiveState,
  encodeAccept,
  encodeCancel,
  encodeChunk,
  encodeDecline,
  encodeManifest,
  encodeProgress,
  encodeReceived,
  encodeText,
  frameChunk,
} from './transfer.js';

/** @typedef {import('./sink.js').Sink} Sink */

/**
 * The manifest entry of a file; a file chosen inside a folder (`webkitRelativePath`,
 * "Album/day 1/a.jpg") keeps its folders as `dir` (§11.1).
 * @param {File} f
 * @returns {ManifestFile}
 */
function entryOf(f) {
  const dir = (f.webkitRelativePath ?? '').split('/').slice(0, -1).filter((s) => s !== '');
  return dir.length > 0 ? { name: f.name, size: f.size, type: f.type, dir } : { name: f.name, size: f.size, type: f.type };
}

/** Bytes read from a File at a time; chunks are cut from this block. */
const READ_BLOCK = 4 * 1024 * 1024;

/** A transfer's counters and state, shared by both directions. */
class Progress extends EventTarget {
  /** @type {string} */
  state = 'offered';
  bytes = 0;
  startedAt = 0;
  /** @type {string | null} */
  error = null;

  /** @param {ManifestFile[]} files */
  constructor(files) {
    super();
    this.files = files;
    this.total = files.reduce((sum, f) => sum + f.size, 0);
  }

  /** Bytes per second since the transfer became active. */
  get rate() {
    const secs = (performance.now() - this.startedAt) / 1000;
    return secs > 0 ? this.bytes / secs : 0;
  }

  /** @param {string} state @param {string | null} [error] */
  setState(state, error = null) {
    if (['done', 'declined', 'cancelled', 'error'].includes(this.state)) return;
    if (state === 'active') this.startedAt = performance.now();
    this.state = state;
    this.error = error;
    this.dispatchEvent(new Event('state'));
  }

  /** @param {number} n */
  add(n) {
    this.bytes += n;
    this.dispatchEvent(new Event('progress'));
  }

  /** Stops this transfer (and every other one in the session, §6), telling the other device. */
  /** @type {(() => void) | null} */
  cancel = null;
}

/** Files this device sends. */
export class Outgoing extends Progress {}

/** Files this device receives. */
export class Incoming extends Progress {
  /** @type {(() => void) | null} */
  accept = null;
  /** @type {(() => void) | null} */
  decline = null;
}

export class Transfers extends EventTarget {
  #channel;
  /** @type {Outgoing | null} */
  #out = null;
  /** @type {Incoming | null} */
  #in = null;
  /** @type {ReceiveState | null} */
  #recv = null;
  /** The current received file's sink, opened at its first chunk. @type {Promise<Sink> | null} */
  #sink = null;
  /** Writes to the sink, in order; the chain also orders `progress` and `received`. */
  /** @type {Promise<void>} */
  #writing = Promise.resolve();
  /** @type {StoredCounter} */
  #storedCounter = new StoredCounter();
  /** The window of the transfer this side sends. @type {SendWindow | null} */
  #window = null;
  /**
   * This side cancelled: what the other device sent before it saw the cancel (chunks; accept,
   * decline) is dropped, until its next offer (chunks) or our next offer (answers), §6.
   */
  #drainIn = false;
  #drainOut = false;
  /** Resolves with true (accept) or false (decline) for the pending outgoing offer. */
  /** @type {((accepted: boolean) => void) | null} */
  #answer = null;
  /** Parts of an offer that says `more` (§11.1), until its last part. */
  /** @type {{ id: string | undefined, files: ManifestFile[] } | null} */
  #offering = null;
  /** @type {Promise<void>} */
  #sending = Promise.resolve();

  /** @param {SecureChannel} channel */
  constructor(channel) {
    super();
    this.#channel = channel;
    channel.addEventListener('message', (ev) => {
      const { msg, final } = /** @type {CustomEvent} */ (ev).detail;
      try {
        this.#onMessage(msg, final);
      } catch (e) {
        channel.fail(e);
      }
    });
    channel.addEventListener('error', (ev) => this.#abort(/** @type {CustomEvent} */ (ev).detail.code));
    channel.addEventListener('closed', () => this.#abort('incomplete'));
  }

  /**
   * Offers `files` to the peer, after any transfer of ours still running.
   * @param {File[]} files
   * @returns {Promise<void>} settles when the transfer ends (in any state)
   */
  send(files) {
    this.#sending = this.#sending.then(() => this.#send(files)).catch(() => {});
    return this.#sending;
  }

  /**
   * Sends a short text (§11.2); the other device gets a `text` event.
   * @param {string} text 1 to 65 536 bytes of UTF-8
   * @returns {Promise<void>}
   */
  sendText(text) {
    return this.#channel.send(encodeText(text));
  }

  /** @param {File[]} files */
  async #send(files) {
    const out = new Outgoing(files.map(entryOf));
    this.#out = out;
    this.#drainOut = false;
    out.cancel = () => this.#cancel();
    this.dispatchEvent(new CustomEvent('outgoing', { detail: out }));
    try {
      const accepted = new Promise((resolve) => (this.#answer = resolve));
      // A long offer goes in several manifest records (§11.1).
      for (const part of manifestParts(out.files, undefined, this.#channel.maxInner - 1)) {
        await this.#channel.send(encodeManifest(part));
      }
      if (!(await accepted)) {
        out.setState('declined', 'declined');
        return;
      }
      out.setState('active');
      const payload = this.#channel.maxInner - 1;
      const window = new SendWindow();
      this.#window = window;
      out.addEventListener('state', () => out.state !== 'active' && window.close());
      for (const file of files) {
        await this.#sendFile(file, payload, out, window);
        if (out.state !== 'active') return;
        window.fileEnd();
      }
      // Done when the receiver confirmed every file (`received` messages), see #onMessage.
    } catch (e) {
      out.setState('error', e instanceof ProtocolError ? e.code : 'incomplete');
    }
  }

  /**
   * @param {File} file
   * @param {number} payload chunk bytes per record
   * @param {Outgoing} out
   * @param {SendWindow} window
   */
  async #sendFile(file, payload, out, window) {
    if (file.size === 0) {
      await this.#channel.send(encodeChunk(new Uint8Array(0)), true);
      return;
    }
    /** @param {number} at */
    const read = (at) => file.slice(at, Math.min(at + READ_BLOCK, file.size)).arrayBuffer();
    // The next block is read while the current one is encrypted and sent.
    let next = read(0);
    for (let offset = 0; offset < file.size; offset += READ_BLOCK) {
      const end = Math.min(offset + READ_BLOCK, file.size);
      const block = new Uint8Array(await next);
      if (end < file.size) next = read(end);
      for (let at = 0; at < block.length; at += payload) {
        if (out.state !== 'active') return;
        const len = Math.min(payload, block.length - at);
        const last = end === file.size && at + len === block.length;
        await window.reserve(len);
        await this.#channel.sendFramed(frameChunk(block, at, len, last));
        out.add(len);
      }
    }
  }

  /**
   * @param {any} msg a decoded inner message
   * @param {boolean} final
   */
  #onMessage(msg, final) {
    switch (msg.type) {
      case 'manifest':
        return this.#onManifestPart(msg);
      case 'accept':
      case 'decline':
        if (!this.#answer && this.#drainOut) return;
        // Our offers carry no transfer id, so resume claims answer nothing (§11.3).
        if (!this.#answer || msg.resume) throw new ProtocolError('peer-misbehaved');
        this.#answer(msg.type === 'accept');
        this.#answer = null;
        return;
      case 'chunk':
        return this.#onChunk(msg.data, final);
      case 'received':
        if (!this.#out || msg.index >= this.#out.files.length) {
          throw new ProtocolError('peer-misbehaved');
        }
        this.#window?.onReceived(msg.index);
        if (msg.index === this.#out.files.length - 1) this.#out.setState('done');
        return;
      case 'progress':
        if (!this.#window) throw new ProtocolError('peer-misbehaved', 'progress without a transfer');
        this.#window.onProgress(msg.bytes);
        return;
      case 'cancel':
        this.#answer?.(false);
        this.#answer = null;
        this.#out?.setState('cancelled', 'cancelled');
        this.#in?.setState('cancelled', 'cancelled');
        this.#window?.close();
        this.#dropSink();
        return;
      case 'text':
        this.dispatchEvent(new CustomEvent('text', { detail: msg.text }));
        return;
      case 'device':
        this.dispatchEvent(new CustomEvent('device', { detail: { name: msg.name } }));
        return;
      default:
        throw new ProtocolError('peer-misbehaved');
    }
  }

  /**
   * Joins the parts of one offer; the offer is shown once its last part arrived.
   * @param {{ files: ManifestFile[], id?: string, more?: true }} part
   */
  #onManifestPart(part) {
    this.#drainIn = false;
    const pending = this.#offering;
    if (!pending && this.#in && ['offered', 'active'].includes(this.#in.state)) {
      throw new ProtocolError('peer-misbehaved', 'manifest during a transfer');
    }
    if (pending && pending.id !== part.id) throw new ProtocolError('peer-misbehaved', 'manifest parts with different ids');
    const files = pending ? [...pending.files, ...part.files] : part.files;
    if (files.length > MAX_MANIFEST_FILES) throw new ProtocolError('peer-misbehaved', 'offer with too many files');
    if (part.more) {
      this.#offering = { id: part.id, files };
      return;
    }
    this.#offering = null;
    return this.#onManifest(files);
  }

  /** @param {ManifestFile[]} files */
  #onManifest(files) {
    if (this.#in && ['offered', 'active'].includes(this.#in.state)) {
      throw new ProtocolError('peer-misbehaved');
    }
    const incoming = new Incoming(files);
    this.#in = incoming;
    incoming.cancel = () => this.#cancel();
    this.#recv = null;
    incoming.accept = () => {
      if (incoming.state !== 'offered') return;
      this.#recv = new ReceiveState(files);
      this.#sink = null;
      this.#storedCounter = new StoredCounter();
      incoming.setState('active');
      this.#channel.send(encodeAccept()).catch((e) => this.#channel.fail(e));
    };
    incoming.decline = () => {
      if (incoming.state !== 'offered') return;
      incoming.setState('declined');
      this.#channel.send(encodeDecline()).catch((e) => this.#channel.fail(e));
    };
    this.dispatchEvent(new CustomEvent('incoming', { detail: incoming }));
  }

  /** @param {Uint8Array} data @param {boolean} final */
  #onChunk(data, final) {
    if (this.#drainIn && !this.#recv) return;
    const incoming = this.#in;
    if (!incoming || !this.#recv) throw new ProtocolError('peer-misbehaved');
    const { index, fileDone, allDone } = this.#recv.handleChunk(data, final);
    if (allDone) this.#recv = null;
    const f = incoming.files[index];
    this.#sink ??= openSink(f.type);
    const sink = this.#sink;
    if (fileDone) this.#sink = null;
    // Writes are handed to the sink at once and in order (they may run ahead of each other's
    // completion, like a pipe); each is acknowledged once stored, then the file is handed over.
    // A failure ends the transfer once; later steps see the state and do nothing.
    const len = data.length;
    const stored = len > 0 ? sink.then((s) => s.write(data)) : sink.then(() => {});
    stored.catch(() => {});
    this.#writing = this.#writing
      .then(async () => {
        if (incoming.state !== 'active') return;
        await stored;
        incoming.add(len);
        const progress = this.#storedCounter.add(len);
        if (progress !== null) await this.#channel.send(encodeProgress(progress));
        if (!fileDone) return;
        const blob = await (await sink).close();
        incoming.dispatchEvent(new CustomEvent('file', { detail: { ...f, blob, storage: (await sink).kind } }));
        await this.#channel.send(encodeReceived(index));
        if (allDone) incoming.setState('done');
      })
      .catch((e) => {
        if (incoming.state !== 'active') return;
        sink.then((s) => s.discard()).catch(() => {});
        incoming.setState('error', e instanceof ProtocolError ? e.code : 'incomplete');
        this.#channel.fail(e instanceof ProtocolError ? e : new ProtocolError('incomplete', `could not store the file: ${e}`));
      });
  }

  /**
   * Cancels every transfer in progress in this session (§6: a `cancel` ends both directions):
   * tells the other device, stops sending, and removes the partly received file.
   */
  #cancel() {
    const running = [this.#out, this.#in].filter((t) => t && ['offered', 'active'].includes(t.state));
    if (running.length === 0) return;
    this.#answer?.(false);
    this.#answer = null;
    for (const t of running) t?.setState('cancelled', 'cancelled');
    this.#window?.close();
    this.#dropSink();
    if (this.#recv) {
      this.#recv = null;
      this.#drainIn = true;
    }
    if (running.includes(this.#out)) this.#drainOut = true;
    this.#channel.send(encodeCancel()).catch((e) => this.#channel.fail(e));
  }

  /** Drops the file being received (cancelled or failed transfer). */
  #dropSink() {
    const sink = this.#sink;
    this.#sink = null;
    sink?.then((s) => s.discard()).catch(() => {});
  }

  /** @param {string} code */
  #abort(code) {
    this.#answer?.(false);
    this.#answer = null;
    this.#out?.setState('error', code);
    this.#in?.setState('error', code);
    this.#window?.close();
    this.#dropSink();
  }
}
