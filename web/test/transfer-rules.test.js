/**
 * @file The resume rules both transfer engines share (`lib/proto/transfer/rules.js`, §11.3):
 * the sender checks a receiver's claims against its offer, the receiver the sender's
 * `resume-ack` against its claims, and continues each file where the answer says.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RESUME_BLOCK } from '../lib/proto/limits.js';
import { Receiver } from '../lib/proto/transfer/receiver.js';
import { checkClaims } from '../lib/proto/transfer/rules.js';

const MiB = RESUME_BLOCK;

/** @param {() => unknown} fn */
function misbehaved(fn) {
  assert.throws(fn, (/** @type {any} */ e) => e.code === 'peer-misbehaved');
}

test('sender checks claims: order, files offered, offsets a receiver can hold', () => {
  const offer = {
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    files: [
      { name: 'a', size: 5, type: '' },
      { name: 'b', size: 3 * MiB, type: '' },
    ],
  };
  const p = 'x';
  checkClaims(offer, [{ index: 0, offset: 5, proof: p }, { index: 1, offset: 2 * MiB, proof: p }]);
  checkClaims(offer, [{ index: 1, offset: 3 * MiB, proof: p }]);
  misbehaved(() => checkClaims(offer, [{ index: 1, offset: MiB, proof: p }, { index: 0, offset: 5, proof: p }]));
  misbehaved(() => checkClaims(offer, [{ index: 1, offset: MiB, proof: p }, { index: 1, offset: MiB, proof: p }]));
  misbehaved(() => checkClaims(offer, [{ index: 2, offset: 1, proof: p }]));
  misbehaved(() => checkClaims(offer, [{ index: 0, offset: 0, proof: p }]));
  misbehaved(() => checkClaims(offer, [{ index: 0, offset: 6, proof: p }]));
  misbehaved(() => checkClaims(offer, [{ index: 1, offset: MiB + 1, proof: p }]));
});

/**
 * Where each of `count` files continues after `acks` answered `claims`, as the receive engine
 * reports it (`resumed` events).
 * @param {import('../types/protocol.js').ResumeClaim[]} claims
 * @param {import('../types/protocol.js').ResumeStart[]} acks
 * @param {number} count
 */
function startsFromAck(claims, acks, count) {
  const r = new Receiver();
  const files = Array.from({ length: count }, (_, i) => ({ name: `f${i}`, size: 2 * MiB, type: '' }));
  files[0].size = 5;
  r.handleMessage({ type: 'manifest', id: 'AAAAAAAAAAAAAAAAAAAAAA', files }, false);
  r.acceptResume(claims);
  while (r.pollEvent());
  r.handleMessage({ type: 'resume-ack', files: acks }, false);
  const starts = files.map(() => 0);
  for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) if (ev.type === 'resumed') starts[ev.index] = ev.offset;
  return starts;
}

test('receiver checks the resume-ack: every claim answered in order, with its offset or 0', () => {
  const claims = [
    { index: 0, offset: 5, proof: 'x' },
    { index: 2, offset: MiB, proof: 'y' },
  ];
  assert.deepEqual(startsFromAck(claims, [{ index: 0, offset: 5 }, { index: 2, offset: 0 }], 3), [5, 0, 0]);
  assert.deepEqual(startsFromAck(claims, [{ index: 0, offset: 0 }, { index: 2, offset: MiB }], 4), [0, 0, MiB, 0]);
  misbehaved(() => startsFromAck(claims, [{ index: 0, offset: 5 }], 3));
  misbehaved(() => startsFromAck(claims, [{ index: 2, offset: MiB }, { index: 0, offset: 5 }], 3));
  misbehaved(() => startsFromAck(claims, [{ index: 0, offset: 4 }, { index: 2, offset: MiB }], 3));
  misbehaved(() => startsFromAck(claims, [{ index: 0, offset: 5 }, { index: 1, offset: 0 }], 3));
});
