/**
 * @file The receiving side of one transfer (`docs/protocol.md` §6, §11): manifest parts joined,
 * accept or decline, chunks checked against the manifest sizes, `progress` once stored. The
 * twin of `transfer/receiver.rs` in `pairwise-proto`: the same states, answers and errors, and
 * both replay `testdata/vectors/scenarios/receiver-*.json`. Sans-IO: messages in, messages to
 * send and events out; storing, asking the user and sending are the caller's.
 *
 * - idle --manifest (part)--> offering while parts say `more` --last part--> offered
 *   (event `offered` with the whole offer);
 * - offered --`accept()`--> receiving file 0; `decline()` -> idle; `acceptResume(claims)` ->
 *   awaiting the `resume-ack` --resume-ack--> `resumed` per claim, then receiving with each
 *   file's bytes counted from where the sender continues;
 * - receiving --chunk--> `data`, and on FINAL `file-complete`, then the next file or
 *   `transfer-complete`;
 * - any state --cancel--> idle (`cancelled` if something was in progress).
 *
 * Sending `received` once a file is safely stored is the caller's job, and so is telling
 * `stored(n)` how many bytes reached storage: it returns the `progress` to send (§11.4).
 */

/** @import { InnerMessage, ManifestPart, ResumeClaim } from '../../../types/protocol.js' */

import { ProtocolError } from '../errors.js';
import { LANE_PROGRESS_STEP, PROGRESS_STEP } from '../limits.js';
import { checkAck, checkClaims, joinParts, partOf } from './rules.js';

/**
 * What the receiver tells its caller.
 * @typedef {{ type: 'offered', manifest: ManifestPart }
 *   | { type: 'resumed', index: number, offset: number }
 *   | { type: 'data', index: number, data: Uint8Array }
 *   | { type: 'file-complete', index: number }
 *   | { type: 'transfer-complete' }
 *   | { type: 'cancelled' }} ReceiverEvent
 */

/**
 * @typedef {{ kind: 'idle' }
 *   | { kind: 'offering', manifest: ManifestPart }
 *   | { kind: 'offered', manifest: ManifestPart }
 *   | { kind: 'await-ack', manifest: ManifestPart, claims: ResumeClaim[] }
 *   | { kind: 'receiving', manifest: ManifestPart, index: number, got: number, starts: number[] }} State
 */

/** @type {State} */
const IDLE = Object.freeze({ kind: 'idle' });

export class Receiver {
  /** @type {State} */
  #state = IDLE;
  /** @type {ReceiverEvent[]} */
  #events = [];
  /** Chunk bytes of the current transfer stored, and the value last reported. */
  #stored = 0;
  #reported = 0;
  /** How often a `progress` goes: PROGRESS_STEP, or LANE_PROGRESS_STEP once the peer's records are frames. */
  #step = PROGRESS_STEP;
  /** This side cancelled: chunks (and a resume-ack) sent before the peer saw it are dropped, until the next manifest. */
  #draining = false;
  /** This side cancelled while an offer's parts were arriving: the rest of them, through the part without `more`, are dropped (§11.1: nothing goes between the parts of one offer). */
  #skippingParts = false;

  /** The peer sends over lanes (§12): `progress` goes every LANE_PROGRESS_STEP bytes. */
  peerUsesLanes() {
    this.#step = LANE_PROGRESS_STEP;
  }

  /** Whether an offer is shown or a transfer is under way (not idle, not between manifest parts). */
  get busy() {
    return this.#state.kind !== 'idle' && this.#state.kind !== 'offering';
  }

  /** Whether chunks (or the `resume-ack` before them) are expected now. */
  get receiving() {
    return this.#state.kind === 'receiving' || this.#state.kind === 'await-ack';
  }

  /**
   * Handles a message routed to the receiver, with the record's FINAL flag.
   * @param {InnerMessage} msg
   * @param {boolean} final
   * @throws {ProtocolError} `peer-misbehaved` (or the manifest's own code) for FINAL on a
   *   non-chunk, a chunk when no file is expected, too many bytes, FINAL too early, a manifest
   *   during a transfer, or a sender-side message
   */
  handleMessage(msg, final) {
    if (final && msg.type !== 'chunk') throw new ProtocolError('peer-misbehaved', `FINAL on a ${msg.type} message`);
    const idle = this.#state.kind === 'idle';
    switch (msg.type) {
      case 'manifest':
        if (this.#skippingParts) {
          this.#skippingParts = msg.more === true;
          return;
        }
        this.#draining = false;
        return this.#manifest(msg);
      case 'chunk':
        if (this.#draining && idle) return;
        return this.#chunk(msg.data, final);
      case 'resume-ack':
        if (this.#draining && idle) return;
        return this.#resumeAck(msg.files);
      case 'cancel':
        if (!idle) {
          this.#state = IDLE;
          this.#events.push({ type: 'cancelled' });
        }
        return;
      case 'accept':
      case 'decline':
      case 'received':
      case 'progress':
        throw new ProtocolError('peer-misbehaved', 'sender-side message at the receiver');
      default:
        throw new ProtocolError('peer-misbehaved', 'session message routed to the receiver');
    }
  }

  /**
   * Accepts the offered manifest; returns the `accept` to send, or null if nothing is offered.
   * @returns {InnerMessage | null}
   */
  accept() {
    const s = this.#state;
    if (s.kind !== 'offered') return null;
    const starts = s.manifest.files.map(() => 0);
    this.#state = { kind: 'receiving', manifest: s.manifest, index: 0, got: 0, starts };
    return { type: 'accept' };
  }

  /**
   * Accepts the offered manifest claiming held prefixes (§11.3); the sender answers with a
   * `resume-ack` before any chunk.
   * @param {ResumeClaim[]} claims
   * @returns {InnerMessage}
   * @throws {ProtocolError} `peer-misbehaved` if nothing is offered, the offer has no id, or the
   *   claims are not for its files in order with valid offsets; the offer stays open (accept it
   *   without claims instead)
   */
  acceptResume(claims) {
    const s = this.#state;
    if (s.kind !== 'offered') throw new ProtocolError('peer-misbehaved', 'accept without an offer');
    checkClaims(s.manifest, claims);
    this.#state = { kind: 'await-ack', manifest: s.manifest, claims: [...claims] };
    return { type: 'accept', resume: [...claims] };
  }

  /**
   * Declines the offered manifest; returns the `decline` to send, or null if nothing is offered.
   * @returns {InnerMessage | null}
   */
  decline() {
    if (this.#state.kind !== 'offered') return null;
    this.#state = IDLE;
    return { type: 'decline' };
  }

  /**
   * The caller stored `n` more bytes of the current transfer; returns the `progress` to send
   * once a step's worth was stored since the last one (§11.4), else null.
   * @param {number} n
   * @returns {InnerMessage | null}
   */
  stored(n) {
    this.#stored += n;
    if (this.#stored - this.#reported < this.#step) return null;
    this.#reported = this.#stored;
    return { type: 'progress', bytes: this.#stored };
  }

  /**
   * Cancels locally; returns the `cancel` to send, or null if nothing is in progress. The rest of
   * an offer whose parts are arriving is dropped.
   * @returns {InnerMessage | null}
   */
  cancel() {
    if (this.#state.kind === 'idle') return null;
    this.#skippingParts = this.#state.kind === 'offering';
    this.#state = IDLE;
    this.#draining = true;
    return { type: 'cancel' };
  }

  /**
   * The data channel closed.
   * @throws {ProtocolError} `incomplete` if a transfer was accepted and not finished: the
   *   caller must discard (or keep, to resume) every incomplete file
   */
  handleClose() {
    const was = this.#state.kind;
    this.#state = IDLE;
    if (was === 'receiving' || was === 'await-ack') throw new ProtocolError('incomplete', 'the session ended during the transfer');
  }

  /**
   * The next event, if any. Drain after every `handle*` call.
   * @returns {ReceiverEvent | undefined}
   */
  pollEvent() {
    return this.#events.shift();
  }

  /** @param {ManifestPart} msg */
  #manifest(msg) {
    const s = this.#state;
    const part = partOf(msg);
    /** @type {ManifestPart} */
    let offer;
    if (s.kind === 'idle') offer = part;
    else if (s.kind === 'offering') offer = joinParts(s.manifest, part);
    else throw new ProtocolError('peer-misbehaved', 'manifest during a transfer');
    if (offer.more) {
      this.#state = { kind: 'offering', manifest: offer };
      return;
    }
    this.#stored = 0;
    this.#reported = 0;
    this.#events.push({ type: 'offered', manifest: offer });
    this.#state = { kind: 'offered', manifest: offer };
  }

  /** @param {import('../../../types/protocol.js').ResumeStart[]} acks */
  #resumeAck(acks) {
    const s = this.#state;
    if (s.kind !== 'await-ack') throw new ProtocolError('peer-misbehaved', 'resume-ack without claims');
    checkAck(s.claims, acks);
    const starts = s.manifest.files.map(() => 0);
    for (const a of acks) {
      if (a.index < starts.length) starts[a.index] = a.offset;
      this.#events.push({ type: 'resumed', index: a.index, offset: a.offset });
    }
    this.#state = { kind: 'receiving', manifest: s.manifest, index: 0, got: starts[0] ?? 0, starts };
  }

  /**
   * @param {Uint8Array} data
   * @param {boolean} final
   */
  #chunk(data, final) {
    const s = this.#state;
    if (s.kind !== 'receiving') throw new ProtocolError('peer-misbehaved', 'chunk when no file is expected');
    const file = s.manifest.files[s.index];
    if (!file) throw new ProtocolError('peer-misbehaved', 'chunk when no file is expected');
    const total = s.got + data.length;
    if (total > file.size) throw new ProtocolError('peer-misbehaved', `file ${s.index} got ${total} bytes, more than its ${file.size}`);
    if (final && total !== file.size) {
      throw new ProtocolError('peer-misbehaved', `file ${s.index} ended after ${total} of ${file.size} bytes`);
    }
    s.got = total;
    const index = s.index;
    if (data.length > 0) this.#events.push({ type: 'data', index, data });
    if (!final) return;
    this.#events.push({ type: 'file-complete', index });
    const next = index + 1;
    if (next >= s.manifest.files.length) {
      this.#state = IDLE;
      this.#events.push({ type: 'transfer-complete' });
    } else {
      s.index = next;
      s.got = s.starts[next] ?? 0;
    }
  }
}
