/**
 * @file The sending half of `Transfers`, the IO around the send engine
 * (`proto/transfer/sender.js`, which decides what every answer means, which chunk goes next and
 * when the window is full, §11.4): offers files, reads and sends the chunks the engine plans,
 * and checks resume claims against the files' own bytes. An offer to a known device carries a
 * transfer id (§11.3) remembered by `ResumeStore` under the device and the list's fingerprint,
 * so the same files chosen again resume: each claim's proof is computed over the file, answered
 * with a `resume-ack`, and each file is sent from where the receiver continues. A transfer whose
 * session ends early becomes `interrupted` (the app offers it again when the device is back).
 */

/** @import { SecureChannel } from '../net/secure-channel.js' */
/** @import { InnerMessage, ManifestFile, ResumeClaim, ResumeStart } from '../../types/protocol.js' */
/** @import { ResumeStore } from '../storage/resume-store.js' */

import { b64uDecode } from '../proto/b64.js';
import { ProtocolError } from '../proto/errors.js';
import { AckMarks } from '../proto/flow.js';
import { RECORD_OVERHEAD } from '../proto/limits.js';
import { Sender as SendEngine } from '../proto/transfer/sender.js';
import { chainOver, proofText } from '../proto/resume.js';
import { relativePathOf } from '../files/dropped.js';
import { fingerprint } from '../storage/resume-store.js';
import { encodeInner, frameChunk } from '../proto/transfer.js';
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

/** A block of one file read at once; chunks are cut from it. */
class Block {
  /**
   * @param {number} index the file
   * @param {number} start its first byte in the file
   * @param {Uint8Array} bytes
   */
  constructor(index, start, bytes) {
    this.index = index;
    this.start = start;
    this.bytes = bytes;
  }

  /** @param {number} index @param {number} offset @param {number} len */
  holds(index, offset, len) {
    return index === this.index && offset >= this.start && offset + len <= this.start + this.bytes.length;
  }
}

export class Sender {
  #o;
  /** @type {Outgoing | null} */
  out = null;
  /** The engine of the transfer being sent. @type {SendEngine | null} */
  #engine = null;
  /** Wakes the chunk loop: a message may have opened the window or ended the transfer. */
  /** @type {(() => void) | null} */
  #wake = null;
  /** Resolves with the answer (`null`: declined or ended) to the pending offer. */
  /** @type {((answer: { resume?: ResumeClaim[] } | null) => void) | null} */
  #answer = null;
  /** What went on lanes is kept until acknowledged (§12): the records each acknowledgement covers. */
  /** @type {AckMarks | null} */
  #marks = null;
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
    out.cancel = () => this.#o.cancelAll();
    out.addEventListener('state', () => {
      if (['done', 'declined', 'cancelled'].includes(out.state)) offer?.forget();
      if (out.state !== 'active') this.#wakeUp();
    });
    this.#o.announce(out);
    try {
      const answered = new Promise((resolve) => (this.#answer = resolve));
      // A long offer goes in several manifest records (§11.1).
      const engine = new SendEngine(entries, offer?.id, channel.maxInner + RECORD_OVERHEAD);
      this.#engine = engine;
      // Its parts go back to back, all queued at once: a cancel never goes between them (§11.1).
      await Promise.all(engine.parts.map((part) => channel.send(encodeInner(part))));
      const answer = /** @type {{ resume?: ResumeClaim[] } | null} */ (await answered);
      if (!answer) return out;
      const starts = answer.resume ? await this.#answerClaims(engine, files, offer?.id, answer.resume) : [];
      if (out.state !== 'offered') return out;
      out.bytes = starts.reduce((a, s) => a + s.offset, 0);
      out.setState('active');
      // Lanes open now if the path calls for them (§12); chunks are then smaller.
      await channel.openLanes();
      engine.setMaxRecord(channel.chunkPayload + RECORD_OVERHEAD + 1);
      // What went on lanes is kept until acknowledged; without lanes nothing needs the marks.
      this.#marks = channel.sendsOverLanes ? new AckMarks() : null;
      await this.#sendChunks(engine, files, out);
      // Done when the receiver confirmed every file (`received` messages).
    } catch (e) {
      if (out.state === 'offered' || out.state === 'active') out.setState('error', e instanceof ProtocolError ? e.code : 'incomplete');
    }
    return out;
  }

  /**
   * Checks each claim against our own bytes and sends the `resume-ack` (§11.3).
   * @param {SendEngine} engine
   * @param {File[]} files
   * @param {string | undefined} id
   * @param {ResumeClaim[]} claims checked by the engine
   * @returns {Promise<ResumeStart[]>} where each claimed file continues
   */
  async #answerClaims(engine, files, id, claims) {
    const tid = b64uDecode(/** @type {string} */ (id));
    /** @type {ResumeStart[]} */
    const starts = [];
    for (const c of claims) {
      const file = files[c.index];
      const read = (/** @type {number} */ start, /** @type {number} */ end) => file.slice(start, end).arrayBuffer();
      // A file that cannot be read any more (moved, changed underneath) is sent from 0.
      const h = await chainOver(tid, c.index, c.offset, read).catch(() => null);
      starts.push({ index: c.index, offset: h && proofText(h) === c.proof ? c.offset : 0 });
    }
    if (this.out?.state !== 'offered') return starts;
    await this.#o.channel.send(encodeInner(engine.resume(starts)));
    return starts;
  }

  /**
   * Sends the chunks the engine plans until it has none left or the transfer ends; waits for
   * acknowledgements while the window is full.
   * @param {SendEngine} engine
   * @param {File[]} files
   * @param {Outgoing} out
   */
  async #sendChunks(engine, files, out) {
    const channel = this.#o.channel;
    const marks = this.#marks;
    // Blocks hold whole chunks, so a chunk never spans two of them.
    const payload = channel.chunkPayload;
    const blockLen = Math.max(1, Math.floor(READ_BLOCK / payload)) * payload;
    /** @param {number} index @param {number} at */
    const read = (index, at) => {
      const file = files[index];
      const end = Math.min(at + blockLen, file.size);
      return file
        .slice(at, end)
        .arrayBuffer()
        .then((b) => new Block(index, at, new Uint8Array(b)));
    };
    /** @type {Block | null} */
    let block = null;
    // The next block is read while the current one is encrypted and sent.
    /** @type {Promise<Block> | null} */
    let next = null;
    while (out.state === 'active') {
      const c = engine.pollChunk();
      if (!c) {
        await new Promise((resolve) => (this.#wake = () => resolve(undefined)));
        continue;
      }
      if (c.len === 0) {
        // An empty file, or one the receiver holds whole.
        await channel.send(encodeInner({ type: 'chunk', data: new Uint8Array(0) }), true);
        continue;
      }
      if (!block?.holds(c.index, c.offset, c.len)) {
        /** @type {Block | null} */
        const ahead = next ? await next : null;
        /** @type {Block} */
        const fresh = ahead?.holds(c.index, c.offset, c.len) ? ahead : await read(c.index, c.offset);
        const end = fresh.start + fresh.bytes.length;
        next = end < files[c.index].size ? read(c.index, end) : null;
        block = fresh;
      }
      const seq = await channel.sendFramed(frameChunk(block.bytes, c.offset - block.start, c.len, c.final));
      marks?.mark(engine.sent, seq);
      out.add(c.len);
    }
  }

  /**
   * A message for the sending side (accept, decline, received, progress, cancel).
   * @param {InnerMessage} msg
   * @throws {ProtocolError} what the engine refuses; the caller ends the session with it
   */
  onMessage(msg) {
    const engine = this.#engine;
    const out = this.out;
    if (!engine || !out) {
      // A cancel may cross a transfer that never started.
      if (msg.type === 'cancel') return;
      throw new ProtocolError('peer-misbehaved', `${msg.type} with no transfer of ours`);
    }
    engine.handleMessage(msg);
    for (let ev = engine.pollEvent(); ev; ev = engine.pollEvent()) {
      switch (ev.type) {
        case 'accepted':
          this.#answered({});
          break;
        case 'resume-requested':
          if (!out.transferId) throw new ProtocolError('peer-misbehaved', 'resume claims for an offer without id');
          this.#answered({ resume: ev.resume });
          break;
        case 'declined':
          this.#answered(null);
          out.setState('declined', 'declined');
          break;
        case 'file-received':
          break;
        case 'transfer-complete':
          out.setState('done');
          break;
        case 'cancelled':
          this.end('cancelled', 'cancelled');
          break;
      }
    }
    // `progress` and `received` acknowledge what went on lanes, and open the window.
    if (this.#marks && (msg.type === 'progress' || msg.type === 'received')) {
      const seq = this.#marks.ack(engine.stored);
      if (seq !== null) this.#o.channel.ackThrough(seq);
    }
    this.#wakeUp();
  }

  /**
   * Cancels what this side sends; returns the `cancel` to send, or null if nothing runs.
   * @returns {InnerMessage | null}
   */
  cancel() {
    const running = this.running;
    this.end('cancelled', 'cancelled');
    const msg = this.#engine?.cancel() ?? null;
    return running ? msg : null;
  }

  /** @param {{ resume?: ResumeClaim[] } | null} answer */
  #answered(answer) {
    this.#answer?.(answer);
    this.#answer = null;
  }

  #wakeUp() {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** The transfer ends: `cancelled` (either side), or the session ended (`code`). */
  /** @param {string} state @param {string} code */
  end(state, code) {
    this.#answered(null);
    const out = this.out;
    if (out && ['offered', 'active'].includes(out.state)) {
      // A session that closed under a resumable offer: it continues in the next one.
      if (state === 'error' && code === 'incomplete' && out.transferId) out.setState('interrupted', 'incomplete');
      else out.setState(state, code);
    }
    this.#wakeUp();
  }

  /** Whether an offer or transfer of ours is running. */
  get running() {
    return !!this.out && ['offered', 'active'].includes(this.out.state);
  }
}
