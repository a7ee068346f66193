/**
 * @file `testdata/vectors/lanes.json` (protocol §12) against the browser's implementation
 * (`lib/proto/lanes.js`, `lib/proto/record.js`, `lib/proto/transfer.js`): frames seal to exactly the bytes the
 * Rust implementation wrote, the receiver delivers them in sequence order whatever the arrival
 * order, drops copies and refuses the bad ones with their code; the lane messages decode and
 * re-encode byte for byte; the SDP line gives the declared lanes.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { fromHex, hex } from '../lib/proto/b64.js';
import { ProtocolError } from '../lib/proto/errors.js';
import { declaredLanes, declareLanes, FRAME_HEADER, frameSeq, MAX_LANES, Reorder } from '../lib/proto/lanes.js';
import { RecordOpener, sealRecord } from '../lib/proto/record.js';
import { decodeInner, encodeInner } from '../lib/proto/transfer.js';

const v = JSON.parse(readFileSync(new URL('../../testdata/vectors/lanes.json', import.meta.url), 'utf8'));

/** @param {Uint8Array} raw @param {KeyUsage} usage */
const aesKey = (raw, usage) => crypto.subtle.importKey('raw', /** @type {Uint8Array<ArrayBuffer>} */ (raw), 'AES-GCM', false, [usage]);

/** @param {number} seq */
const frameOf = (seq) => fromHex(v.frames.find((/** @type {any} */ f) => f.seq === seq).frame);

/**
 * Opens `frames` in order into a Reorder from `v.next`, as SecureChannel does; the seqs delivered.
 * @param {Uint8Array[]} frames
 * @returns {Promise<bigint[]>}
 */
async function deliver(frames) {
  const opener = new RecordOpener(await aesKey(fromHex(v.key), 'decrypt'));
  /** @type {Reorder<bigint>} */
  const reorder = new Reorder(BigInt(v.next));
  const out = [];
  for (const f of frames) {
    const seq = frameSeq(f);
    if (seq === null) throw new ProtocolError('peer-misbehaved', 'short frame');
    if (!reorder.check(seq, f.length)) continue;
    await opener.openAt(seq, f.subarray(FRAME_HEADER));
    reorder.insert(seq, seq, f.length);
    for (let s = reorder.pop(); s !== undefined; s = reorder.pop()) out.push(s);
  }
  return out;
}

test('lanes.json: frames seal to exactly the bytes written, with the seq in front', async () => {
  const key = await aesKey(fromHex(v.key), 'encrypt');
  for (const f of v.frames) {
    const record = await sealRecord(key, f.seq, f.final ? 1 : 0, fromHex(f.inner));
    const header = new Uint8Array(FRAME_HEADER);
    new DataView(header.buffer).setBigUint64(0, BigInt(f.seq), false);
    assert.equal(hex(header) + hex(record), f.frame, `seq ${f.seq}`);
  }
});

test('lanes.json: delivered in seq order whatever the arrival order; copies dropped', async () => {
  assert.deepEqual(await deliver(v.arrival.map(frameOf)), v.delivered.map(BigInt));
  for (const c of v.copies) assert.deepEqual(await deliver(c.arrival.map(frameOf)), c.delivered.map(BigInt), c.why);
});

test('Reorder: what is held beyond a gap is listed in seq order', () => {
  /** @type {Reorder<string>} */
  const r = new Reorder(0n);
  r.insert(9n, 'cancel', 1);
  r.insert(3n, 'chunk', 1);
  assert.equal(r.pop(), undefined, '0 has not arrived');
  assert.deepEqual(r.held(), ['chunk', 'cancel']);
});

test('lanes.json: every rejected frame is refused with its code', async () => {
  for (const c of v.rejected) {
    const frames = [...c.before.map(frameOf), fromHex(c.frame)];
    await assert.rejects(
      deliver(frames),
      (/** @type {unknown} */ e) => e instanceof ProtocolError && e.code === c.code,
      c.why,
    );
  }
});

test('lanes.json: lane messages decode and encode back byte for byte; invalid ones fail', () => {
  const enc = new TextEncoder();
  for (const c of v.messages.valid) {
    const inner = new Uint8Array([c.type, ...enc.encode(c.inner)]);
    const msg = decodeInner(inner);
    assert.match(msg.type, /^lane-/);
    assert.equal(hex(encodeInner(msg)), hex(inner));
  }
  for (const c of v.messages.invalid) {
    const text = c.inner_repeat ? c.inner_repeat.prefix + c.inner_repeat.char.repeat(c.inner_repeat.count) + c.inner_repeat.suffix : c.inner;
    assert.throws(
      () => decodeInner(new Uint8Array([c.type, ...enc.encode(text)])),
      (/** @type {unknown} */ e) => e instanceof ProtocolError && e.code === c.code,
      c.why,
    );
  }
});

test('lanes.json: the SDP line gives the declared lanes; declaring adds it before the first m= line', () => {
  for (const c of v.sdp) assert.equal(declaredLanes(c.sdp), c.lanes);
  const plain = v.sdp.find((/** @type {any} */ c) => c.lanes === 0 && !c.sdp.includes('pairwise-lanes')).sdp;
  const marked = declareLanes(plain, 8);
  assert.match(marked, /t=0 0\r\na=pairwise-lanes:8\r\nm=application/);
  assert.equal(declaredLanes(declareLanes(marked, 200)), MAX_LANES);
  assert.equal(declareLanes(marked, 200).match(/pairwise-lanes/g)?.length, 1);
});
