/**
 * @file The transfer window (`docs/protocol.md` §11.4): a sender keeps at most
 * `TRANSFER_WINDOW` chunk bytes unacknowledged; the receiver acknowledges what reached storage
 * with `progress` (at least every `PROGRESS_STEP` bytes), and `received` acknowledges whole
 * files. So the receiver's disk, not its memory, sets the pace. Mirrors the window in
 * `transfer/sender.rs` and `Receiver::stored` in `transfer/receiver.rs`. Pure.
 */

import { ProtocolError } from './errors.js';
import { PROGRESS_STEP, TRANSFER_WINDOW } from './limits.js';

/** The sender's side: how many bytes may go now. */
export class SendWindow {
  #sent = 0;
  #stored = 0;
  #progress = 0;
  /** @type {number[]} chunk bytes sent through the end of each finished file */
  #fileEnds = [];
  /** @type {(() => void) | null} */
  #wake = null;
  #closed = false;
  /** (chunk bytes sent through a record, its seq), oldest first, until acknowledged. @type {[number, bigint][]} */
  #marks = [];
  #onAcked;

  /**
   * @param {{ onAcked?: (seq: bigint) => void }} [opts] told the last record (by `mark`) that
   *   the receiver's acknowledgements cover, each time they move on (lanes keep what they sent
   *   until then, §12)
   */
  constructor({ onAcked } = {}) {
    this.#onAcked = onAcked;
  }

  /**
   * Waits until `len` more bytes fit in the window, then counts them as sent.
   * @param {number} len
   * @returns {Promise<void>} rejects once the window is closed (transfer ended)
   */
  async reserve(len) {
    while (this.#sent + len > this.#stored + TRANSFER_WINDOW) {
      if (this.#closed) throw new Error('transfer ended');
      await new Promise((resolve) => (this.#wake = () => resolve(undefined)));
    }
    if (this.#closed) throw new Error('transfer ended');
    this.#sent += len;
  }

  /**
   * The chunk counted last went as record `seq`.
   * @param {bigint} seq
   */
  mark(seq) {
    // Only someone listening needs them (a window without `onAcked` keeps none).
    if (this.#onAcked) this.#marks.push([this.#sent, seq]);
  }

  /** The current file's FINAL chunk was counted. */
  fileEnd() {
    this.#fileEnds.push(this.#sent);
  }

  /**
   * A `progress` from the receiver.
   * @param {number} n stored bytes of this transfer
   * @throws {ProtocolError} `peer-misbehaved` if it goes back or beyond what was sent
   */
  onProgress(n) {
    if (n < this.#progress || n > this.#sent) {
      throw new ProtocolError('peer-misbehaved', 'progress that goes back or beyond the bytes sent');
    }
    this.#progress = n;
    this.#ack(n);
  }

  /**
   * A `received` for file `index`: every byte through its end is stored.
   * @param {number} index
   */
  onReceived(index) {
    this.#ack(this.#fileEnds[index] ?? 0);
  }

  /** Ends the transfer: a waiting `reserve` rejects. */
  close() {
    this.#closed = true;
    this.#wakeUp();
  }

  /** @param {number} n */
  #ack(n) {
    if (n > this.#stored) {
      this.#stored = n;
      this.#wakeUp();
    }
    /** @type {bigint | null} */
    let last = null;
    while (this.#marks.length > 0 && this.#marks[0][0] <= n) last = /** @type {[number, bigint]} */ (this.#marks.shift())[1];
    if (last !== null) this.#onAcked?.(last);
  }

  #wakeUp() {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/** The receiver's side: when to send `progress`. */
export class StoredCounter {
  #stored = 0;
  #reported = 0;

  /**
   * `n` more bytes reached storage.
   * @param {number} n
   * @param {number} [step] how often a `progress` goes: PROGRESS_STEP, or LANE_PROGRESS_STEP
   *   while the sender's records are frames (a lost one is then repaired by fast retransmission)
   * @returns {number | null} the value to send in a `progress`, or null if not yet due
   */
  add(n, step = PROGRESS_STEP) {
    this.#stored += n;
    if (this.#stored - this.#reported < step) return null;
    this.#reported = this.#stored;
    return this.#stored;
  }
}
