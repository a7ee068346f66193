/**
 * @file The sending side of one transfer (`docs/protocol.md` §6, §11): the offer in manifest
 * parts, the answer, chunks planned in order under the transfer window (§11.4), resume answers
 * (§11.3), `received` in order. The twin of `transfer/sender.rs` in `pairwise-proto`: the same
 * states, answers and errors, and both replay `testdata/vectors/scenarios/sender-*.json`.
 * Sans-IO: the engine says which bytes go next (`pollChunk`); reading and sending them, and
 * checking resume proofs against the file, are the caller's.
 */

/** @import { InnerMessage, ManifestFile, ManifestPart, ResumeClaim, ResumeStart } from '../../../types/protocol.js' */

import { ProtocolError } from '../errors.js';
import { RECORD_OVERHEAD, TRANSFER_WINDOW } from '../limits.js';
import { manifestParts } from '../manifest.js';
import { checkAck, checkClaims } from './rules.js';

/**
 * The largest chunk payload for records of at most `maxRecord` bytes (at least 1).
 * @param {number} maxRecord
 */
export function maxChunk(maxRecord) {
  return Math.max(maxRecord - RECORD_OVERHEAD - 1, 1);
}

/**
 * One chunk to send: `len` bytes of file `index` from `offset`, FINAL when `final`.
 * @typedef {{ index: number, offset: number, len: number, final: boolean }} ChunkSpec
 */

/**
 * What the sender tells its caller.
 * @typedef {{ type: 'accepted' }
 *   | { type: 'resume-requested', resume: ResumeClaim[] }
 *   | { type: 'declined' }
 *   | { type: 'file-received', index: number }
 *   | { type: 'transfer-complete' }
 *   | { type: 'cancelled' }} SenderEvent
 */

/** The chunks of the rest of one file, from `offset`; at `size` it is one empty FINAL chunk. */
export class ChunkPlan {
  /**
   * @param {number} size
   * @param {number} offset
   * @param {number} maxRecord
   */
  constructor(size, offset, maxRecord) {
    this.size = size;
    this.offset = Math.min(offset, size);
    this.maxChunk = maxChunk(maxRecord);
    this.done = false;
  }

  /** @returns {[number, number, boolean] | null} offset, length, FINAL */
  next() {
    if (this.done) return null;
    const offset = this.offset;
    const len = Math.min(this.size - offset, this.maxChunk);
    this.offset += len;
    this.done = this.offset === this.size;
    return [offset, len, this.done];
  }
}

/**
 * @typedef {{ kind: 'offered' }
 *   | { kind: 'await-decision', claims: ResumeClaim[] }
 *   | { kind: 'sending', index: number, plan: ChunkPlan }
 *   | { kind: 'await-received' }
 *   | { kind: 'done' }} State
 */

export class Sender {
  #manifest;
  #maxRecord;
  /** @type {State} */
  #state = { kind: 'offered' };
  /** Where each file starts (0 unless resumed). @type {number[]} */
  #starts;
  /** Files whose FINAL chunk was handed out, and files the peer confirmed with `received`. */
  #finished = 0;
  #acked = 0;
  /** Chunk bytes handed out in this transfer, in total and at the end of each finished file. */
  #sent = 0;
  /** @type {number[]} */
  #sentAtFileEnd = [];
  /** Chunk bytes the peer acknowledged (`progress`, or `received` for whole files), and the last `progress`. */
  #stored = 0;
  #progress = 0;
  /** This side cancelled: the receiver's answers sent before it saw the cancel are dropped. */
  #draining = false;
  /** @type {SenderEvent[]} */
  #events = [];

  /**
   * A sender for the offer; `parts` holds the manifest record(s) to send, in order, each for a
   * record of at most `maxRecord` bytes.
   * @param {ManifestFile[]} files
   * @param {string | undefined} id the transfer id (base64url) if the offer can resume
   * @param {number} maxRecord
   */
  constructor(files, id, maxRecord) {
    /** @type {InnerMessage[]} */
    this.parts = manifestParts(files, id, maxRecord - RECORD_OVERHEAD - 1).map((p) => ({ type: 'manifest', ...p }));
    /** @type {ManifestPart} */
    this.#manifest = id === undefined ? { files } : { files, id };
    this.#maxRecord = maxRecord;
    this.#starts = files.map(() => 0);
  }

  /** The offer being sent. */
  get manifest() {
    return this.#manifest;
  }

  /** Chunk bytes handed out so far in this transfer. */
  get sent() {
    return this.#sent;
  }

  /** Chunk bytes the peer acknowledged so far (`progress`, `received`). */
  get stored() {
    return this.#stored;
  }

  /** Whether the transfer ended (complete, declined or cancelled). */
  get isDone() {
    return this.#state.kind === 'done';
  }

  /**
   * Chunks planned from now on, the rest of the current file's included, fit records of at most
   * `maxRecord` bytes. The page opens lanes (§12), whose records are smaller, after the accept;
   * the CLI opens them before its offer and never needs this.
   * @param {number} maxRecord
   */
  setMaxRecord(maxRecord) {
    this.#maxRecord = maxRecord;
    const s = this.#state;
    if (s.kind === 'sending') s.plan = new ChunkPlan(s.plan.size, s.plan.offset, maxRecord);
  }

  /**
   * Answers a `resume-requested` event: for every claim in order, where the file continues (the
   * claimed offset if its proof matched this side's bytes, else 0). Returns the `resume-ack` to
   * send before any chunk.
   * @param {ResumeStart[]} starts
   * @returns {InnerMessage}
   * @throws {ProtocolError} `peer-misbehaved` if no claims are pending or `starts` does not answer them
   */
  resume(starts) {
    const s = this.#state;
    if (s.kind !== 'await-decision') throw new ProtocolError('peer-misbehaved', 'resume answer without claims');
    checkAck(s.claims, starts);
    for (const a of starts) if (a.index < this.#starts.length) this.#starts[a.index] = a.offset;
    this.#state = this.#fileState(0);
    this.#events.push({ type: 'accepted' });
    return { type: 'resume-ack', files: starts.map((a) => ({ index: a.index, offset: a.offset })) };
  }

  /**
   * Handles a message routed to the sender (accept, decline, received, progress, cancel).
   * @param {InnerMessage} msg
   * @throws {ProtocolError} `peer-misbehaved` for an answer to nothing, a `received` out of
   *   order or for a file not yet sent, a `progress` that goes back or past what was sent, or a
   *   receiver-side message
   */
  handleMessage(msg) {
    const kind = this.#state.kind;
    const sending = kind === 'sending' || kind === 'await-received';
    if (msg.type === 'accept' && kind === 'offered') {
      if (msg.resume) {
        checkClaims(this.#manifest, msg.resume);
        this.#events.push({ type: 'resume-requested', resume: msg.resume });
        this.#state = { kind: 'await-decision', claims: msg.resume };
      } else {
        this.#state = this.#fileState(0);
        this.#events.push({ type: 'accepted' });
      }
    } else if (msg.type === 'decline' && kind === 'offered') {
      this.#state = { kind: 'done' };
      this.#events.push({ type: 'declined' });
    } else if (msg.type === 'received' && sending) {
      const index = msg.index;
      if (index !== this.#acked || index >= this.#finished) throw new ProtocolError('peer-misbehaved', 'received out of order');
      this.#acked += 1;
      this.#stored = Math.max(this.#stored, this.#sentAtFileEnd[index] ?? 0);
      this.#events.push({ type: 'file-received', index });
      if (this.#acked >= this.#manifest.files.length) {
        this.#state = { kind: 'done' };
        this.#events.push({ type: 'transfer-complete' });
      }
    } else if (msg.type === 'progress' && sending) {
      if (msg.bytes < this.#progress || msg.bytes > this.#sent) {
        throw new ProtocolError('peer-misbehaved', 'progress that goes back or beyond the bytes sent');
      }
      this.#progress = msg.bytes;
      this.#stored = Math.max(this.#stored, msg.bytes);
    } else if ((msg.type === 'progress' || msg.type === 'cancel') && kind === 'done') {
      // A progress or cancel may cross our own end of the transfer.
    } else if (['accept', 'decline', 'received'].includes(msg.type) && kind === 'done' && this.#draining) {
      // Whatever the receiver sent before it saw our cancel.
    } else if (msg.type === 'cancel') {
      this.#state = { kind: 'done' };
      this.#events.push({ type: 'cancelled' });
    } else {
      throw new ProtocolError('peer-misbehaved', 'message for the sender in this state');
    }
  }

  /**
   * The next chunk to read and send, once accepted; null when there is nothing to send now: not
   * accepted yet, everything sent, or the window is full (wait for a message).
   * @returns {ChunkSpec | null}
   */
  pollChunk() {
    // Never more than the window unacknowledged, counting the chunk about to go.
    if (this.#sent + maxChunk(this.#maxRecord) > this.#stored + TRANSFER_WINDOW) return null;
    const s = this.#state;
    if (s.kind !== 'sending') return null;
    const next = s.plan.next();
    if (!next) return null;
    const [offset, len, final] = next;
    this.#sent += len;
    if (final) {
      this.#sentAtFileEnd.push(this.#sent);
      this.#finished = s.index + 1;
      this.#state = this.#fileState(s.index + 1);
    }
    return { index: s.index, offset, len, final };
  }

  /**
   * The next event, if any. Drain after every `handleMessage` call.
   * @returns {SenderEvent | undefined}
   */
  pollEvent() {
    return this.#events.shift();
  }

  /**
   * Cancels locally; returns the `cancel` to send, or null if already done.
   * @returns {InnerMessage | null}
   */
  cancel() {
    const was = this.#state.kind;
    this.#state = { kind: 'done' };
    if (was === 'done') return null;
    this.#draining = true;
    return { type: 'cancel' };
  }

  /**
   * @param {number} index
   * @returns {State}
   */
  #fileState(index) {
    const file = this.#manifest.files[index];
    if (!file) return { kind: 'await-received' };
    return { kind: 'sending', index, plan: new ChunkPlan(file.size, this.#starts[index] ?? 0, this.#maxRecord) };
  }
}
