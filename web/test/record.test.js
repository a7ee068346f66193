/**
 * @file Records between a `RecordSealer` and a `RecordOpener` sharing a key: in-order delivery
 * opens, and a replayed, duplicated, reordered, dropped, truncated, tampered or re-flagged
 * record is `record-rejected`, after which the opener refuses everything. Sequence numbers are
 * taken at call time, so concurrent seals come out in call order.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ProtocolError } from '../lib/proto/errors.js';
import { MAX_RECORD_BYTES, RECORD_OVERHEAD } from '../lib/proto/limits.js';
import { MAX_INNER_BYTES, RecordOpener, RecordSealer, openRecord, sealRecord } from '../lib/proto/record.js';
import { frameChunk } from '../lib/proto/transfer.js';

const raw = crypto.getRandomValues(new Uint8Array(32));
const encKey = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
const decKey = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);

/** @param {unknown} e */
const rejected = (e) => e instanceof ProtocolError && e.code === 'record-rejected';

/**
 * Seals `n` records `[4, i]`, the last one FINAL.
 * @param {number} n
 */
async function sealMany(n) {
  const sealer = new RecordSealer(encKey);
  const out = [];
  for (let i = 0; i < n; i++) out.push(await sealer.seal(new Uint8Array([4, i]), i === n - 1));
  return out;
}

/**
 * Opens `records` in order with a fresh opener; returns how many opened before the first refusal.
 * @param {Uint8Array[]} records
 */
async function openAll(records) {
  const opener = new RecordOpener(decKey);
  let ok = 0;
  for (const r of records) {
    try {
      await opener.open(r);
      ok++;
    } catch (e) {
      assert.ok(rejected(e), String(e));
      return ok;
    }
  }
  return ok;
}

test('in-order records open with their inner bytes and FINAL flag', async () => {
  const recs = await sealMany(4);
  const opener = new RecordOpener(decKey);
  for (let i = 0; i < 4; i++) {
    const { inner, final } = await opener.open(recs[i]);
    assert.deepEqual(inner, new Uint8Array([4, i]));
    assert.equal(final, i === 3);
    assert.equal(recs[i].length, 2 + RECORD_OVERHEAD, 'the record is ciphertext and tag only');
  }
});

test('replay, duplicate, reorder and drop are rejected', async () => {
  const [a, b, c] = await sealMany(3);
  assert.equal(await openAll([a, b, c]), 3);
  assert.equal(await openAll([a, a]), 1, 'duplicate');
  assert.equal(await openAll([a, b, a]), 2, 'replay');
  assert.equal(await openAll([b, a]), 0, 'reorder');
  assert.equal(await openAll([a, c]), 1, 'drop');
});

test('tampered ciphertext, tag or flags, truncation and unknown flag bits are rejected', async () => {
  const [a] = await sealMany(1);
  /** @param {(r: Uint8Array) => Uint8Array} f */
  const mutate = async (f) => openAll([f(a.slice())]);
  assert.equal(await mutate((r) => ((r[1] ^= 1), r)), 0, 'ciphertext');
  assert.equal(await mutate((r) => ((r[r.length - 1] ^= 0x80), r)), 0, 'tag');
  assert.equal(await mutate((r) => ((r[0] ^= 1), r)), 0, 'first byte (the encrypted flags)');
  assert.equal(await mutate((r) => r.subarray(0, r.length - 1)), 0, 'truncated');
  assert.equal(await mutate(() => new Uint8Array(RECORD_OVERHEAD - 1)), 0, 'too short');
  assert.equal(await mutate(() => new Uint8Array(0)), 0, 'empty');
  // A record validly sealed with an unknown flag bit is refused for the bit alone.
  const iv = new Uint8Array(12);
  const withBit = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, encKey, new Uint8Array([2, 6])));
  await assert.rejects(openRecord(decKey, 0, withBit), rejected);
  await assert.rejects(openRecord(decKey, 0, new Uint8Array(MAX_RECORD_BYTES + 1)), rejected);
});

test('after one refusal the opener refuses everything', async () => {
  const [a, b] = await sealMany(2);
  const opener = new RecordOpener(decKey);
  await assert.rejects(opener.open(b), rejected);
  await assert.rejects(opener.open(a), rejected);
  await assert.rejects(opener.open(b), rejected);
});

test('concurrent seals and opens keep call order', async () => {
  const sealer = new RecordSealer(encKey);
  const sizes = [200000, 1, 50000, 0, 3];
  const recs = await Promise.all(sizes.map((n, i) => sealer.seal(new Uint8Array(n).fill(i), false)));
  const opener = new RecordOpener(decKey);
  const opened = await Promise.all(recs.map((r) => opener.open(r)));
  assert.deepEqual(opened.map((o) => o.inner.length), sizes);
  opened.forEach((o, i) => assert.ok(o.inner.every((b) => b === i)));
});

test('the largest inner message fits one record exactly; a larger one is refused when sealing', async () => {
  const rec = await sealRecord(encKey, 9, 1, new Uint8Array(MAX_INNER_BYTES));
  assert.equal(rec.length, MAX_RECORD_BYTES);
  assert.equal((await openRecord(decKey, 9, rec)).inner.length, MAX_INNER_BYTES);
  await assert.rejects(new RecordSealer(encKey).seal(new Uint8Array(MAX_INNER_BYTES + 1), false), RangeError);
  await assert.rejects(sealRecord(encKey, 0, 2, new Uint8Array(1)), RangeError);
});

test('seq is a u64 on the wire: 2^32 + 1 and 2^64 - 1 work, 2^64 does not', async () => {
  for (const seq of [2 ** 32 + 1, 2n ** 64n - 1n]) {
    const rec = await sealRecord(encKey, seq, 0, new Uint8Array([6]));
    assert.deepEqual((await openRecord(decKey, seq, rec)).inner, new Uint8Array([6]));
    await assert.rejects(openRecord(decKey, BigInt(seq) - 1n, rec), rejected);
  }
  await assert.rejects(sealRecord(encKey, 2n ** 64n, 0, new Uint8Array([6])), RangeError);
});

test('frameChunk lays out flags, type and data; sealFramed equals sealRecord and may be overwritten after the call', async () => {
  const block = new Uint8Array(64).map((_, i) => i);
  // A block's first chunk is copied; later chunks are framed in place over the previous tail.
  const first = frameChunk(block, 0, 10, false);
  assert.deepEqual(first, new Uint8Array([0, 4, ...block.subarray(0, 10)]));
  const sealer = new RecordSealer(encKey);
  const opener = new RecordOpener(decKey);
  const r0 = sealer.sealFramed(first);
  const expectLater = block.slice(10, 30);
  const later = frameChunk(block, 10, 20, true);
  assert.equal(later.buffer, block.buffer, 'framed in place, no copy');
  const r1 = sealer.sealFramed(later);
  later.fill(0xee); // WebCrypto copied the plaintext when sealFramed was called
  const o0 = await opener.open(await r0);
  assert.deepEqual(o0.inner, new Uint8Array([4, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 'the copied first chunk kept its bytes');
  const o1 = await opener.open(await r1);
  assert.equal(o1.final, true);
  assert.deepEqual(o1.inner, new Uint8Array([4, ...expectLater]));
  assert.deepEqual(await sealRecord(encKey, 1, 1, new Uint8Array([4, ...expectLater])), await r1);
});
