/**
 * @file The opener's side of lanes (protocol §12, `lib/proto/lanes.js`): when the browser opens lanes
 * and how many, the frame layout, and `LaneFlight`, which keeps what went on lanes until a
 * `progress` covers it, so that a failed or held-up lane costs no byte; and the transfer
 * marks (`AckMarks`), which turn `progress` into the last record it covers.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AckMarks } from '../lib/proto/flow.js';
import { FRAME_HEADER, frameSeq, LaneFlight, LANES_OPENED, lanesToOpen, lanesWanted, MAX_LANES, STALL_MIN_MS, stallAfterMs, toFrame } from '../lib/proto/lanes.js';

test('lanes open by themselves only on a direct path of 4 ms or more, toward a peer that takes them', () => {
  const path = { forced: null, declared: 32, relayed: false, rttMs: 20 };
  assert.equal(lanesToOpen(path), LANES_OPENED);
  assert.equal(lanesToOpen({ ...path, declared: 5 }), 5, 'no more than the peer takes');
  assert.equal(lanesToOpen({ ...path, declared: 0 }), 0, 'a peer that declared none gets none');
  assert.equal(lanesToOpen({ ...path, rttMs: 1 }), 0, 'a LAN does not need them');
  assert.equal(lanesToOpen({ ...path, rttMs: null }), 0, 'unknown round trip, host to host: a LAN, none');
  assert.equal(lanesToOpen({ ...path, rttMs: null, natted: true }), LANES_OPENED, 'unknown round trip through a NAT: lanes');
  assert.equal(lanesToOpen({ ...path, rttMs: 1, natted: true }), 0, 'a measured round trip wins');
  assert.equal(lanesToOpen({ ...path, rttMs: null, natted: true, relayed: true }), 0, 'never over a relay');
  assert.equal(lanesToOpen({ ...path, relayed: true }), 0, 'a relay pays for each');
  assert.equal(lanesToOpen({ ...path, rttMs: 0.1, forced: 4 }), 4, '?lanes=4 forces them');
  assert.equal(lanesToOpen({ ...path, forced: 0 }), 0, '?lanes=0 forbids them');
  assert.equal(lanesToOpen({ ...path, declared: 0, forced: 4 }), 0, 'never toward a peer that declared none');
});

test('?lanes=N in the address; anything else says nothing', () => {
  assert.equal(lanesWanted('?lanes=4'), 4);
  assert.equal(lanesWanted('?ice=relay&lanes=0'), 0);
  assert.equal(lanesWanted('?lanes=99'), MAX_LANES);
  assert.equal(lanesWanted(''), null);
  for (const s of ['?lanes=', '?lanes=-1', '?lanes=4x', '?lanes=1e1', '?lanes=123']) assert.equal(lanesWanted(s), null, s);
});

test('a frame is the seq, big-endian, then the record', () => {
  const f = toFrame(0x0102030405060708n, new Uint8Array([9, 10]));
  assert.deepEqual([...f], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(frameSeq(f), 0x0102030405060708n);
  assert.equal(f.length, FRAME_HEADER + 2);
});

test('a held-up lane waits max(400 ms, 6 round trips)', () => {
  assert.equal(stallAfterMs(null), STALL_MIN_MS);
  assert.equal(stallAfterMs(20), 400);
  assert.equal(stallAfterMs(100), 600);
});

/** @param {number} n */
const bytes = (n) => new Uint8Array(n);

test('LaneFlight: acknowledged frames leave; a failed lane gives back its own, in seq order', () => {
  const f = new LaneFlight(0);
  f.onSend(5n, bytes(10), 2, 0);
  f.onSend(6n, bytes(10), 1, 0);
  f.onSend(7n, bytes(10), 2, 0);
  f.onSend(9n, bytes(10), 1, 0);
  assert.equal(f.bytes, 40);
  f.ack(6n, 10);
  assert.equal(f.bytes, 20, 'everything through seq 6 is stored');
  assert.deepEqual(f.takeLane(1).map((x) => x.seq), [9n]);
  assert.deepEqual(f.takeLane(1), [], 'given back once');
  assert.deepEqual(f.takeLane(2).map((x) => x.seq), [7n]);
  assert.equal(f.bytes, 0);
});

test('LaneFlight: no acknowledgement for a while: the lane holding the oldest frame sends again, once', () => {
  const f = new LaneFlight(0);
  assert.equal(f.stalled(10_000, 400), false, 'nothing out: never held up');
  f.onSend(3n, bytes(1), 1, 1000);
  f.onSend(4n, bytes(1), 2, 1000);
  f.onSend(5n, bytes(1), 1, 1000);
  assert.equal(f.stalled(1300, 400), false);
  f.ack(2n, 1350);
  assert.equal(f.stalled(1401, 400), true, 'an ack that covers nothing new is no progress');
  const again = f.takeStalled(1401);
  assert.deepEqual(again.map((x) => [x.seq, x.lane]), [[3n, 1], [5n, 1]]);
  // They go again elsewhere; the copies are kept under their new lane.
  for (const x of again) f.onSend(x.seq, x.frame, 2, 1401, true);
  assert.equal(f.stalled(1700, 400), false, 'the wait starts again');
  assert.equal(f.stalled(1802, 400), true);
  assert.deepEqual(f.takeStalled(1802), [], 'never a third time');
  f.ack(5n, 1900);
  assert.equal(f.bytes, 0);
  assert.equal(f.stalled(5000, 400), false);
});

test('AckMarks: each acknowledgement tells the last record it covers, once', () => {
  const m = new AckMarks();
  m.mark(100, 10n);
  m.mark(200, 11n);
  m.mark(300, 13n);
  assert.equal(m.ack(150), 10n, 'the record through byte 100 only');
  assert.equal(m.ack(150), null, 'nothing new');
  assert.equal(m.ack(200), 11n);
  assert.equal(m.ack(300), 13n, 'received covers the whole file');
});
