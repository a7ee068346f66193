/**
 * @file What each acknowledgement covers on lanes (`docs/protocol.md` §11.4, §12): the sender
 * marks how many chunk bytes had gone through each record it sent, and a `progress` or
 * `received` (the engine's acknowledged byte count) tells the last record it covers, which the
 * lanes then forget (`SecureChannel.ackThrough`). The window itself is the send engine's
 * (`proto/transfer/sender.js`). Pure.
 */

export class AckMarks {
  /** (chunk bytes sent through a record, its seq), oldest first, until acknowledged. @type {[number, bigint][]} */
  #marks = [];

  /**
   * Record `seq` went; `sent` chunk bytes had gone through it.
   * @param {number} sent
   * @param {bigint} seq
   */
  mark(sent, seq) {
    this.#marks.push([sent, seq]);
  }

  /**
   * The receiver acknowledged `stored` chunk bytes; returns the last record that covers, or null
   * if no new record is covered.
   * @param {number} stored
   * @returns {bigint | null}
   */
  ack(stored) {
    /** @type {bigint | null} */
    let last = null;
    while (this.#marks.length > 0 && this.#marks[0][0] <= stored) last = /** @type {[number, bigint]} */ (this.#marks.shift())[1];
    return last;
  }
}
