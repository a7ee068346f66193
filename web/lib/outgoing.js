/**
 * @file The sending half of `Transfers`: offers files (manifest parts, §11.1), waits for the
 * answer, and streams chunks under the transfer window (§11.4). An offer to a known device
 * carries a transfer id (§11.3) remembered by `ResumeStore` under the device and the list's
 * fingerprint, so the same files chosen again resume: claims in the `accept` are checked by
 * computing the hash chain over the file's own bytes, answered with a `resume-ack`, and each
 * file is sent from where the receiver continues. A transfer whose session ends early becomes
 * `interrupted` (the app offers it again when the device is back).
 */

/** @import { SecureChannel } from './secure-channel.js' */
/** @import { ManifestFile, ResumeClaim, ResumeStart } from '../types/protocol.js' */
/** @import { ResumeStore } from './resume-store.js' */

import { b64uDecode } from './b64.js';
import { ProtocolError } from './errors.js';
import { SendWindow } from './flow.js';
import { manifestParts } from './manifest.js';
import { chainOver, proofText } from './resume.js';
import { relativePathOf } from './dropped.js';
import { checkClaims, fingerprint } from './resume-store.js';
import { encodeChunk, encodeManifest, encodeResumeAck, frameChunk } from './transfer.js';
import { Outgoing } from './transfer-progress.js';

/**
 * Bytes read from a File at a time; chunks are cut from this block. Each read costs the page
 * and the browser process milliseconds of their own (`bench/page-costs.js`, Chromium, 256 MiB:
 * 1 MiB reads 1.1-1.4 CPU-s, 4 MiB reads 0.7-1.0, 16 MiB reads 0.5-0.6). Two blocks are held.
 */
const READ_BLOCK = 16 * 1024 * 1024;

/**
 * The manifest entry of a file; a file chosen or dropped inside a folder ("Album/day 1/a.jpg",
 * `relativePathOf`) keeps its folders as `dir` (§11.1).
 * @param {File} f
 * @returns {ManifestFile}
 */
export function entryOf(f) {
  const dir = relativePathOf(f).split('/').slice(0, -1).filter((s) => s !== '');
  return dir.length > 0 ? { name: f.name, size: f.size, type: f.type, dir } : { name: f.name, size: f.size, type: f.type };
}

/**
 * @typedef {object} SenderOptions
 * @property {SecureChannel} channel
 * @property {Promise<string> | null} peer the other device's id, when known
 * @property {ResumeStore | null} resume where offer ids are kept; null: offers cannot resume
 * @property {(out: Outgoing) => void} announce
 * @property {() => void} cancelAll cancels every transfer of the session (§6)
 */

export class Sender {
  #o;
  /** @type {Outgoing | null} */
  out = null;
  /** The window of the transfer being sent. @type {SendWindow | null} */
  #window = null;
  /** This side cancelled: answers sent before the other device saw it are dropped. */
  drain = false;
  /** Resolves with the answer (`null`: declined or ended) to the pending offer. */
  /** @type {((answer: { resume?: ResumeClaim[] } | null) => void) | null} */
  #answer = null;
  /** @type {Promise<void>} */
  #sending = Promise.resolve();

  /** @param {SenderOptions} o */
  constructor(o) {
    this.#o = o;
  }

  /**
   * Offers `files`, after any transfer of ours still running.
   * @param {File[]} files
   * @param {{ resuming?: boolean }} [opts] `resuming`: an automatic offer again after an interruption
   * @returns {Promise<Outgoing | null>} settles when the transfer ends (in any state)
   */
  send(files, { resuming = false } = {}) {
    const run = this.#sending.then(() => this.#send(files, resuming));
    this.#sending = run.then(
      () => {},
      () => {},
    );
    return run.catch(() => null);
  }

  /**
   * The offer's id: the one used before for these files and this device, or a new one.
   * @param {ManifestFile[]} entries
   * @param {File[]} files
   * @returns {Promise<{ id: string, forget: () => void } | null>}
   */
  async #offerId(entries, files) {
    const { peer, resume } = this.#o;
    if (!peer || !resume) return null;
    try {
      const device = await peer;
      const fp = await fingerprint(entries.map((e, i) => ({ ...e, lastModified: files[i].lastModified })));
      const id = await resume.offerId(device, fp, Date.now());
      return { id, forget: () => void resume.forgetOffer(device, fp).catch(() => {}) };
    } catch {
      return null; // No store (private window): the offer cannot resume.
    }
  }

  /**
   * @param {File[]} files
   * @param {boolean} resuming
   * @returns {Promise<Outgoing>}
   */
  async #send(files, resuming) {
    const channel = this.#o.channel;
    const entries = files.map(entryOf);
    const offer = await this.#offerId(entries, files);
    const out = new Outgoing(entries);
    out.resuming = resuming;
    out.sources = files;
    out.transferId = offer?.id ?? null;
    this.out = out;
    this.drain = false;
    out.cancel = () => this.#o.cancelAll();
    out.addEventListener('state', () => {
      if (['done', 'declined', 'cancelled'].includes(out.state)) offer?.forget();
    });
    this.#o.announce(out);
    try {
      const answered = new Promise((resolve) => (this.#answer = resolve));
      // A long offer goes in several manifest records (§11.1).
      for (const part of manifestParts(entries, offer?.id, channel.maxInner - 1)) {
        await channel.send(encodeManifest(part));
      }
      const answer = /** @type {{ resume?: ResumeClaim[] } | null} */ (await answered);
      if (!answer) {
        out.setState('declined', 'declined');
        return out;
      }
      const starts = await this.#answerClaims(files, offer?.id, answer.resume ?? []);
      if (out.state !== 'offered') return out;
      out.bytes = starts.reduce((a, b) => a + b, 0);
      out.setState('active');
      // Lanes open now if the path calls for them (§12); chunks are then smaller.
      await channel.openLanes();
      const payload = channel.chunkPayload;
      // What went on lanes is kept until acknowledged; without lanes nothing needs the marks.
      const window = new SendWindow(channel.sendsOverLanes ? { onAcked: (seq) => channel.ackThrough(seq) } : {});
      this.#window = window;
      out.addEventListener('state', () => out.state !== 'active' && window.close());
      for (let i = 0; i < files.length; i++) {
        await this.#sendFile(files[i], starts[i], payload, out, window);
        if (!out.isActive) return out;
        window.fileEnd();
      }
      // Done when the receiver confirmed every file (`received` messages).
    } catch (e) {
      out.setState('error', e instanceof ProtocolError ? e.code : 'incomplete');
    }
    return out;
  }

  /**
   * Checks each claim against our own bytes and sends the `resume-ack` (§11.3).
   * @param {File[]} files
   * @param {string | undefined} id
   * @param {ResumeClaim[]} claims already checked by `checkClaims`
   * @returns {Promise<number[]>} where each file starts
   */
  async #answerClaims(files, id, claims) {
    const starts = files.map(() => 0);
    if (claims.length === 0 || !id) return starts;
    const tid = b64uDecode(id);
    /** @type {ResumeStart[]} */
    const acks = [];
    for (const c of claims) {
      const file = files[c.index];
      const read = (/** @type {number} */ start, /** @type {number} */ end) => file.slice(start, end).arrayBuffer();
      // A file that cannot be read any more (moved, changed underneath) is sent from 0.
      const h = await chainOver(tid, c.index, c.offset, read).catch(() => null);
      const offset = h && proofText(h) === c.proof ? c.offset : 0;
      acks.push({ index: c.index, offset });
      starts[c.index] = offset;
    }
    await this.#o.channel.send(encodeResumeAck(acks));
    return starts;
  }

  /**
   * @param {File} file
   * @param {number} start the first byte to send
   * @param {number} payload chunk bytes per record
   * @param {Outgoing} out
   * @param {SendWindow} window
   */
  async #sendFile(file, start, payload, out, window) {
    const channel = this.#o.channel;
    if (start >= file.size) {
      await channel.send(encodeChunk(new Uint8Array(0)), true);
      return;
    }
    /** @param {number} at */
    const read = (at) => file.slice(at, Math.min(at + READ_BLOCK, file.size)).arrayBuffer();
    // The next block is read while the current one is encrypted and sent.
    let next = read(start);
    for (let offset = start; offset < file.size; offset += READ_BLOCK) {
      const end = Math.min(offset + READ_BLOCK, file.size);
      const block = new Uint8Array(await next);
      if (end < file.size) next = read(end);
      for (let at = 0; at < block.length; at += payload) {
        if (out.state !== 'active') return;
        const len = Math.min(payload, block.length - at);
        const last = end === file.size && at + len === block.length;
        await window.reserve(len);
        window.mark(await channel.sendFramed(frameChunk(block, at, len, last)));
        out.add(len);
      }
    }
  }

  /**
   * An `accept` or `decline`.
   * @param {{ type: string, resume?: ResumeClaim[] }} msg
   */
  onAnswer(msg) {
    if (!this.#answer && this.drain) return;
    if (!this.#answer || !this.out) throw new ProtocolError('peer-misbehaved', 'an answer to no offer');
    if (msg.resume) {
      if (!this.out.transferId) throw new ProtocolError('peer-misbehaved', 'resume claims for an offer without id');
      checkClaims(msg.resume, this.out.files);
    }
    this.#answer(msg.type === 'accept' ? { resume: msg.resume } : null);
    this.#answer = null;
  }

  /** @param {number} index */
  onReceived(index) {
    if (!this.out || index >= this.out.files.length) throw new ProtocolError('peer-misbehaved');
    this.#window?.onReceived(index);
    if (index === this.out.files.length - 1) this.out.setState('done');
  }

  /** @param {number} bytes */
  onProgress(bytes) {
    if (!this.#window) throw new ProtocolError('peer-misbehaved', 'progress without a transfer');
    this.#window.onProgress(bytes);
  }

  /** The transfer ends: `cancelled` (either side), or the session ended (`code`). */
  /** @param {string} state @param {string} code */
  end(state, code) {
    this.#answer?.(null);
    this.#answer = null;
    const out = this.out;
    if (out && ['offered', 'active'].includes(out.state)) {
      // A session that closed under a resumable offer: it continues in the next one.
      if (state === 'error' && code === 'incomplete' && out.transferId) out.setState('interrupted', 'incomplete');
      else out.setState(state, code);
    }
    this.#window?.close();
  }

  /** Whether an offer or transfer of ours is running. */
  get running() {
    return !!this.out && ['offered', 'active'].includes(this.out.state);
  }
}
