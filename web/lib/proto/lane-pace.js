/**
 * @file When the next chunk may go while a page sends over lanes (docs/protocol.md §12): one
 * window and one pace for all its channels, from what the receiver's acknowledgements show.
 * Pure: the caller hands in the clock (ms).
 *
 * Why: each lane is an SCTP association of its own, each growing its congestion window until a
 * loss. Sixteen of them together fill a router's queue and drop thousands of packets per 32 MiB
 * (measured: 3 000-9 000 at 20 ms, 100 Mbit/s, against 0-900 with one), then stall in loss
 * recovery. The CLI bounds the sum from SCTP's own counts (`transfer/window.rs`); a page sees no
 * such count (`bufferedAmount` is what waits to be sent, not what is unacknowledged), so here
 * the acknowledgements are the receiver's `progress` and `received` (every 256 KiB while the
 * sender's records are frames), and:
 * - **window** = `WINDOW_GAIN` × (highest delivery rate of the last `RATE_SPAN_MS`) × (lowest
 *   round trip an acknowledgement took in the last `ACK_RTT_SPAN_MS`, which includes the
 *   receiver's storing) + one acknowledgement step, never below `FLOOR`. While it limits the
 *   rate, each measured rate is the window over the round trip, so it grows by the gain every
 *   round trip until the path's rate stops growing. A loss holds every later acknowledgement up
 *   (`progress` counts bytes in order), so while the acknowledgements stand still for longer
 *   than they should (a repair) the window does not hold chunks back: the lanes that still move
 *   keep working, each under its own SCTP, at the pace below.
 * - **pace**: chunks leave at a gain × that rate, spread out in time: `STARTUP_GAIN` while the
 *   rate still grows, then a cycle of round trips (`CRUISE_GAINS`): one a quarter faster (does the
 *   path carry more?), one a quarter slower (drain the queue that made), six at the rate.
 *
 * A delivery-rate sample is the bytes acknowledged (two steps at least) over at least one
 * round trip (and `MIN_RATE_MS`), no faster than they were sent, and none over an interval where an
 * acknowledgement came late (a repair: the bytes that then arrive at once were not delivered at
 * that rate).
 */

import { LANE_PROGRESS_STEP } from './limits.js';

/** Bytes the receiver stores between two acknowledgements at most. */
const ACK_STEP = LANE_PROGRESS_STEP;
/**
 * The window's least size: three acknowledgement steps (two would leave the sender waiting for
 * each one). More would be more than a 100 Mbit/s path holds at 20 ms (a 250 KB product and a
 * 50 ms queue of 625 KB) at the end of the startup.
 */
export const FLOOR = 3 * ACK_STEP;
/** The least pace: this many bytes per round trip (a start with no rate measured yet). */
const PACE_FLOOR = 64 * 1024;
/**
 * The round trip the first window is spread over where the browser does not tell it (Firefox
 * reads 0): lanes open only on paths of 4 ms or more, and most are 10-60 ms.
 */
const FIRST_RTT_MS = 20;
/**
 * The window over the bandwidth-delay product. The product is measured from acknowledgements
 * that also carry the receiver's storing, so it is a little long already; a 50 ms router queue
 * holds 1.25 products at a 60 ms round trip with the step on top.
 */
export const WINDOW_GAIN = 1.25;
/**
 * The window's gain while the rate still grows: enough that a window-limited rate grows by
 * more than the quarter per round trip that tells a startup from a plateau (with
 * `WINDOW_GAIN` it grew by less, and the startup ended at 3.9 MB/s on a 12.5 MB/s path).
 */
export const STARTUP_WINDOW_GAIN = 1.5;
/** How much faster than the delivery rate chunks leave while the rate still grows. */
export const STARTUP_GAIN = 2;
/** Rounds without the rate growing by a quarter after which it counts as found. */
const STARTUP_PLATEAU = 3;
/** The pacing gains of the round trips once the rate is found. */
export const CRUISE_GAINS = [1.25, 0.75, 1, 1, 1, 1, 1, 1];
/** How long the acknowledgements' round trips are remembered for the window, in ms. */
const ACK_RTT_SPAN_MS = 1000;
/** The longest a receiver's storing is taken to add to a round trip, in ms (`#windowRtt`). */
const ACK_DELAY_MS = 50;
/** How long a highest delivery rate is remembered, in ms. */
const RATE_SPAN_MS = 4000;
/** The shortest interval a delivery rate is measured over, in ms (timer granularity). */
const MIN_RATE_MS = 10;
/** How far ahead of its schedule a chunk may leave, in ms (about one timer tick). */
const SLACK_MS = 4;

/** @param {number} rtt @returns {number} when an acknowledgement counts as late */
const late = (rtt) => rtt * 4 + 10;

export class LanePace {
  #sent = 0;
  #acked = 0;
  /** (a chunk's record seq, bytes sent through it, when), oldest first, until acknowledged. @type {[bigint, number, number][]} */
  #marks = [];
  /** The lowest round trip: the browser's, or measured from acknowledgements. @type {number | null} */
  #minRtt;
  /** (round trip of an acknowledgement, when) of the last `ACK_RTT_SPAN_MS`. @type {[number, number][]} */
  #ackRtts = [];
  /** (rate in bytes/ms, when), the best of the last RATE_SPAN_MS. @type {[number, number][]} */
  #rates = [];
  /** @type {{ acked: number, at: number, firstSent: number | null, slowest: number } | null} */
  #interval = null;
  /** @type {number | null} */
  #lastAckedSent = null;
  #nextSend = 0;
  /** When the acknowledgements last moved (or the first chunk went after none were out). */
  #lastProgress = 0;
  /** @type {{ startup: true, grownTo: number, rounds: number } | { startup: false, index: number, since: number }} */
  #phase = { startup: true, grownTo: 0, rounds: 0 };

  /** @param {number | null} rttMs the path's round trip as the browser measured it, if it did */
  constructor(rttMs) {
    this.#minRtt = rttMs !== null && rttMs > 0 ? rttMs : null;
  }

  /** Bytes sent and not acknowledged. */
  get inFlight() {
    return this.#sent - this.#acked;
  }

  /** Whether the rate is still being found (the startup). */
  get startup() {
    return this.#phase.startup;
  }

  /** What it measured, for the console: `rate 11.8 MB/s, round trip 21 ms, window 544 KiB`. */
  describe() {
    const rate = this.#maxRate();
    const rtt = this.#minRtt;
    const acks = this.#windowRtt();
    return `rate ${rate === null ? '?' : (rate / 1000).toFixed(1)} MB/s, round trip ${rtt === null ? '?' : rtt.toFixed(0)} ms (acknowledged after ${acks === null ? '?' : acks.toFixed(0)}), window ${(this.window / 1024).toFixed(0)} KiB`;
  }

  /** The window now, in bytes. */
  get window() {
    const rate = this.#maxRate();
    const rtt = this.#windowRtt();
    if (rate === null || rtt === null) return FLOOR;
    const gain = this.#phase.startup ? STARTUP_WINDOW_GAIN : WINDOW_GAIN;
    return Math.max(FLOOR, gain * rate * rtt + ACK_STEP);
  }

  /**
   * The round trip the window covers: the lowest of the acknowledgements of the last
   * `ACK_RTT_SPAN_MS`. It includes the time the receiver took to store and acknowledge, which
   * the path's own round trip does not: sized from that alone, the window held a 60 ms path to
   * 3-4 MB/s (acknowledgements came 170 ms after the chunk went).
   * @returns {number | null}
   */
  #windowRtt() {
    const path = this.#minRtt;
    if (this.#ackRtts.length === 0 || path === null) return path;
    let low = Infinity;
    for (const [r] of this.#ackRtts) low = Math.min(low, r);
    // After a repair every acknowledgement of the next second is late (its chunk went before
    // the stall): unbounded, the window grew to 26 MB and flooded the path.
    return Math.min(Math.max(low, path), path * 2 + ACK_DELAY_MS);
  }

  /**
   * The pace now in bytes per ms: a gain × the delivery rate; before any rate is measured, the
   * first window spread over one round trip (all at once, it alone filled a 50 ms queue of a
   * 100 Mbit/s path), over `FIRST_RTT_MS` if the browser did not tell the round trip.
   */
  get rate() {
    const rate = this.#maxRate();
    const rtt = this.#minRtt === null ? null : Math.max(this.#minRtt, 1);
    if (rate === null) return FLOOR / (rtt ?? FIRST_RTT_MS);
    const gain = this.#phase.startup ? STARTUP_GAIN : CRUISE_GAINS[this.#phase.index];
    // Never slower than a floor per round trip, so a slow start does not hold the first chunks.
    return Math.max(gain * rate, PACE_FLOOR / (rtt ?? 1));
  }

  /**
   * How long the next chunk of `len` bytes must wait: 0 to go now, Infinity until an
   * acknowledgement comes. What waits in the channels' send buffers counts as out: left out,
   * the associations' own windows sent it in bursts that overfilled the router again.
   * @param {number} len @param {number} now
   */
  delay(len, now) {
    const out = this.inFlight;
    // Late by the path's round trip, not the acknowledgements': with a receiver that takes
    // 70 ms to store, 4 of those held chunks back for 400 ms at every loss (10-20 % slower at
    // 1 % loss than with no pace at all).
    const rtt = this.#minRtt;
    const repairing = out > 0 && rtt !== null && now - this.#lastProgress > late(rtt) + ACK_STEP / Math.max(this.#maxRate() ?? Infinity, 1);
    if (out > 0 && out + len > this.window && !repairing) return Infinity;
    return Math.max(0, this.#nextSend - SLACK_MS - now);
  }

  /**
   * The chunk of record `seq`, `len` bytes, went.
   * @param {bigint} seq @param {number} len @param {number} now
   */
  onSend(seq, len, now) {
    if (this.inFlight === 0) this.#lastProgress = now;
    this.#sent += len;
    this.#marks.push([seq, this.#sent, now]);
    if (this.#interval === null || this.inFlight === len) this.#interval = this.#start(now);
    const rate = this.rate;
    if (rate !== null) this.#nextSend = Math.max(this.#nextSend, now - SLACK_MS) + len / rate;
  }

  /**
   * The receiver acknowledged every record through `seq` (a `progress` or `received`).
   * @param {bigint} seq @param {number} now
   */
  onAck(seq, now) {
    /** @type {[bigint, number, number] | null} */
    let newest = null;
    while (this.#marks.length > 0 && this.#marks[0][0] <= seq) newest = /** @type {[bigint, number, number]} */ (this.#marks.shift());
    if (newest === null) return;
    const [, acked, sentAt] = newest;
    this.#acked = acked;
    this.#lastProgress = now;
    this.#lastAckedSent = sentAt;
    // The round trip is the newest chunk's: the older ones an acknowledgement covers waited for
    // the receiver to store a whole step, not for the path.
    const rtt = now - sentAt;
    if (this.#minRtt === null || rtt < this.#minRtt) this.#minRtt = Math.max(rtt, 1);
    this.#ackRtts.push([rtt, now]);
    while (this.#ackRtts.length > 1 && now - this.#ackRtts[0][1] > ACK_RTT_SPAN_MS) this.#ackRtts.shift();
    const i = this.#interval;
    if (!i) return;
    i.slowest = Math.max(i.slowest, rtt);
    const path = this.#minRtt ?? 0;
    const span = now - i.at;
    if (span < Math.max(path, MIN_RATE_MS) || this.#acked - i.acked < 2 * ACK_STEP) return;
    if (i.slowest <= late(this.#windowRtt() ?? path)) {
      const sentSpan = i.firstSent !== null && this.#lastAckedSent !== null ? this.#lastAckedSent - i.firstSent : 0;
      this.#rates.push([(this.#acked - i.acked) / Math.max(span, sentSpan), now]);
      this.#nextRound(now);
    }
    this.#interval = this.#start(now);
  }

  /** @param {number} now */
  #start(now) {
    return { acked: this.#acked, at: now, firstSent: this.#marks[0]?.[2] ?? null, slowest: 0 };
  }

  /** @returns {number | null} the highest delivery rate of the last RATE_SPAN_MS, bytes/ms */
  #maxRate() {
    const newest = this.#rates.at(-1);
    if (!newest) return null;
    while (this.#rates.length > 1 && newest[1] - this.#rates[0][1] > RATE_SPAN_MS) this.#rates.shift();
    let best = 0;
    for (const [r] of this.#rates) best = Math.max(best, r);
    return best;
  }

  /** @param {number} now */
  #nextRound(now) {
    const rate = /** @type {number} */ (this.#maxRate());
    const p = this.#phase;
    if (p.startup) {
      if (rate >= 1.25 * p.grownTo) this.#phase = { startup: true, grownTo: rate, rounds: 0 };
      // A rate held by the window's floor says nothing about the path: early on the lanes'
      // associations are still growing their own windows, and counting those rounds ended
      // the startup at 3-4 MB/s on a 60 ms path.
      else if (this.#windowRtt() !== null && STARTUP_WINDOW_GAIN * rate * /** @type {number} */ (this.#windowRtt()) + ACK_STEP < FLOOR) return;
      else if (p.rounds + 1 >= STARTUP_PLATEAU) this.#phase = { startup: false, index: 1, since: now };
      else this.#phase = { ...p, rounds: p.rounds + 1 };
    } else if (now - p.since >= (this.#minRtt ?? 0)) {
      this.#phase = { startup: false, index: (p.index + 1) % CRUISE_GAINS.length, since: now };
    }
  }
}
