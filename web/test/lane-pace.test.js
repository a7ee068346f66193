/**
 * @file `LanePace` (lib/proto/lane-pace.js), the one window and pace of a page's lanes, against a
 * simulated path: a bottleneck with a drop-tail queue, a one-way delay each way, and a receiver
 * that acknowledges every 256 KiB it stored, as a page's `progress` does while the sender's
 * records are frames. Checks that the sender finds the path's rate without overfilling the
 * queue, and that a held-up acknowledgement (a loss being repaired) does not stop the chunks.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { FLOOR, LanePace } from '../lib/proto/lane-pace.js';

const CHUNK = 16 * 1024;
const ACK_STEP = 256 * 1024;
/** The seq of the chunk that brings the bytes sent to `bytes` (chunks are seq 1, 2, …). @param {number} bytes */
const seqOf = (bytes) => BigInt(bytes / CHUNK);

/**
 * Runs `ms` milliseconds of a sender with `pace` (null: chunks go whenever 16 MiB allow, the
 * page without a pacer) through a path of `rate` bytes/ms, round trip `rtt` ms and a queue of
 * `queueMs` at that rate; 0.1 ms steps.
 * `ackDelay`: the receiver acknowledges that long after a step arrived (its storing).
 * @param {{ pace: LanePace | null, rate: number, rtt: number, queueMs: number, ms: number, holdAcksAt?: number, holdMs?: number, ackDelay?: number }} p
 */
function simulate({ pace, rate, rtt, queueMs, ms, holdAcksAt = Infinity, holdMs = 0, ackDelay = 0 }) {
  const step = 0.1;
  const queueCap = rate * queueMs;
  /** @type {number[]} chunk sizes waiting at the bottleneck */
  const queue = [];
  let queued = 0;
  let credit = 0;
  /** @type {[number, number][]} (arrival time, bytes) on their way to the receiver */
  const toReceiver = [];
  /** @type {[number, number][]} (arrival time, acked bytes) on their way back */
  const toSender = [];
  let sent = 0;
  let delivered = 0;
  let reported = 0;
  let acked = 0;
  let drops = 0;
  let lateDrops = 0;
  let maxQueued = 0;
  /** @type {number[]} */
  const heldAcks = [];
  for (let t = 0; t < ms; t += step) {
    while (toSender.length > 0 && toSender[0][0] <= t) {
      acked = /** @type {[number, number]} */ (toSender.shift())[1];
      pace?.onAck(seqOf(acked), t);
    }
    for (;;) {
      if (pace) {
        if (pace.delay(CHUNK, t) !== 0) break;
      } else if (sent - acked + CHUNK > 16 * 1024 * 1024) break;
      sent += CHUNK;
      pace?.onSend(seqOf(sent), CHUNK, t);
      if (queued + CHUNK > queueCap) {
        drops++;
        if (t > 1000) lateDrops++;
      } else {
        queue.push(CHUNK);
        queued += CHUNK;
      }
      maxQueued = Math.max(maxQueued, queued);
    }
    credit = Math.min(credit + rate * step, CHUNK);
    while (queue.length > 0 && credit >= queue[0]) {
      const c = /** @type {number} */ (queue.shift());
      credit -= c;
      queued -= c;
      toReceiver.push([t + rtt / 2, c]);
    }
    if (queue.length === 0) credit = Math.min(credit, 0);
    while (toReceiver.length > 0 && toReceiver[0][0] <= t) {
      delivered += /** @type {[number, number]} */ (toReceiver.shift())[1];
      if (delivered - reported >= ACK_STEP) {
        reported = delivered;
        if (t >= holdAcksAt && t < holdAcksAt + holdMs) heldAcks.push(reported);
        else toSender.push([t + rtt / 2 + ackDelay, reported]);
      }
    }
    if (t >= holdAcksAt + holdMs && heldAcks.length > 0) {
      heldAcks.length = 0;
      toSender.push([t + rtt / 2, reported]);
    }
  }
  return { delivered, drops, lateDrops, maxQueued, sent };
}

for (const rtt of [20, 60]) {
  test(`at ${rtt} ms and 12.5 MB/s, the pace finds the rate and the queue does not overflow; without it, it does`, () => {
    const path = { rate: 12_500, rtt, queueMs: 50, ms: 4000 };
    const paced = simulate({ ...path, pace: new LanePace(rtt) });
    const unpaced = simulate({ ...path, pace: null });
    const share = paced.delivered / (path.rate * path.ms);
    // A few chunks may go at the end of the startup (the pace is twice the rate until then),
    // none after; without the pace, hundreds.
    assert.ok(paced.drops <= 8, `${paced.drops} chunks dropped at the bottleneck (queue peaked at ${paced.maxQueued} B)`);
    assert.equal(paced.lateDrops, 0, 'none once the rate is found');
    assert.ok(share > 0.85, `the path is used: ${(share * 100).toFixed(0)} % of its rate`);
    assert.ok(unpaced.drops > 100, `the same path without the pace overflows: ${unpaced.drops} chunks (the test can fail)`);
  });
}

/**
 * Sends chunks as the pace lets them, in 0.1 ms steps, from `from` until the window is full.
 * @param {LanePace} pace @param {number} from @returns {{ sent: number, at: number }}
 */
function fillWindow(pace, from) {
  let sent = 0;
  let t = from;
  for (; t < from + 1000; t += 0.1) {
    const wait = pace.delay(CHUNK, t);
    if (wait === Infinity) break;
    if (wait === 0) {
      sent += CHUNK;
      pace.onSend(seqOf(sent), CHUNK, t);
    }
  }
  return { sent, at: t };
}

test('before any rate is known, FLOOR bytes go, spread over a round trip, then nothing until an acknowledgement', () => {
  const pace = new LanePace(20);
  const { sent, at } = fillWindow(pace, 0);
  assert.equal(sent, FLOOR);
  assert.ok(at > 15 && at < 25, `the first window took about one round trip (${at.toFixed(1)} ms)`);
  assert.equal(pace.delay(CHUNK, at + 1), Infinity, 'the window is full');
  pace.onAck(seqOf(ACK_STEP), at + 2);
  assert.ok(pace.delay(CHUNK, at + 2) < Infinity, 'an acknowledgement makes room');
});

test('an acknowledgement held up by a repair does not stop the chunks: past 4 round trips, the window lets go', () => {
  const pace = new LanePace(20);
  const { at } = fillWindow(pace, 0);
  assert.equal(pace.delay(CHUNK, at + 50), Infinity, 'within 4 round trips: a full window waits');
  assert.ok(pace.delay(CHUNK, at + 100) < Infinity, 'later: a loss is being repaired; the other lanes may go');
});

test('a receiver that acknowledges 40 ms late (storing) still gets the path at 20 ms', () => {
  const path = { rate: 12_500, rtt: 20, queueMs: 50, ms: 4000 };
  const slow = simulate({ ...path, pace: new LanePace(20), ackDelay: 40 });
  assert.equal(slow.drops, 0);
  assert.ok(slow.delivered / (path.rate * path.ms) > 0.7, `${((slow.delivered / (path.rate * path.ms)) * 100).toFixed(0)} %`);
});

test('a repair in the middle of a transfer costs a stall, not the rate: the path is still used', () => {
  const path = { rate: 12_500, rtt: 20, queueMs: 50, ms: 4000 };
  const held = simulate({ ...path, pace: new LanePace(20), holdAcksAt: 2000, holdMs: 300 });
  const share = held.delivered / (path.rate * path.ms);
  assert.ok(share > 0.8, `${(share * 100).toFixed(0)} % of the path's rate with a 300 ms repair`);
});

test('with no round trip from the browser, it is measured from the acknowledgements', () => {
  const path = { rate: 12_500, rtt: 20, queueMs: 50, ms: 4000 };
  const paced = simulate({ ...path, pace: new LanePace(null) });
  // Its first samples have the first window's queue in them: a few chunks at the end of the
  // startup, none after.
  assert.ok(paced.drops <= 8, `${paced.drops} chunks dropped`);
  assert.equal(paced.lateDrops, 0);
  assert.ok(paced.delivered / (path.rate * path.ms) > 0.85);
});
