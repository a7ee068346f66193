/**
 * @file Resuming in the app (§11.3): the sender's chain over its own file (`chainOver`, against
 * `testdata/vectors/resume.json`), the offer ids kept per device and file list, the receiver's
 * claims and its checks of the sender's answer, and the coalesced checkpoint writes.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { fromHex, hex } from '../lib/proto/b64.js';
import { RESUME_BLOCK } from '../lib/proto/limits.js';
import { chainOver, proofText } from '../lib/proto/resume.js';
import {
  Checkpoints,
  SAVE_STEP,
  KEEP_MS,
  MAX_OFFERS,
  ResumeStore,
  claimsFor,
  fingerprint,
  keptBytes,
  partialName,
  staleOffers,
} from '../lib/storage/resume-store.js';
import { memoryBackend } from '../lib/storage/store.js';

const v = JSON.parse(readFileSync(new URL('../../testdata/vectors/resume.json', import.meta.url), 'utf8'));
const MiB = RESUME_BLOCK;

/** @param {number} len */
function pattern(len) {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 31 + 7) % 251;
  return out;
}

/** @param {() => unknown} fn */
function misbehaved(fn) {
  assert.throws(fn, (/** @type {any} */ e) => e.code === 'peer-misbehaved');
}

test('chainOver: the value over a file prefix read in blocks equals the vectors (checkpoint and whole file)', async () => {
  const id = fromHex(v.id);
  for (const c of v.cases) {
    const data = pattern(c.length);
    /** @type {number[]} */
    const reads = [];
    const read = async (/** @type {number} */ s, /** @type {number} */ e) => {
      reads.push(e - s);
      return data.slice(s, e).buffer;
    };
    assert.equal(hex(await chainOver(id, v.index, c.checkpoint_offset, read)), c.checkpoint, `prefix of ${c.length}`);
    assert.equal(hex(await chainOver(id, v.index, c.length, read)), c.finish, `whole ${c.length}`);
    assert.ok(reads.every((n) => n <= MiB), 'reads at most one block at a time');
  }
});

test('chainOver: a changed byte before the offset changes the proof', async () => {
  const id = fromHex(v.id);
  const data = pattern(3 * MiB);
  const read = async (/** @type {number} */ s, /** @type {number} */ e) => data.slice(s, e);
  const before = hex(await chainOver(id, 0, 2 * MiB, read));
  data[MiB + 5] ^= 1;
  assert.notEqual(hex(await chainOver(id, 0, 2 * MiB, read)), before);
  const other = hex(await chainOver(id, 1, 2 * MiB, read));
  assert.notEqual(other, hex(await chainOver(id, 0, 2 * MiB, read)), 'the file index is in the chain');
});

test('fingerprint: same list same value; a name, folder, size, time or order changes it', async () => {
  const a = { name: 'a.bin', size: 10, lastModified: 1000 };
  const b = { name: 'b.bin', dir: ['x'], size: 20, lastModified: 2000 };
  const base = await fingerprint([a, b]);
  assert.equal(base, await fingerprint([{ ...a }, { ...b }]));
  assert.match(base, /^[0-9a-f]{64}$/);
  for (const changed of [
    [{ ...a, name: 'c.bin' }, b],
    [a, { ...b, dir: ['y'] }],
    [{ ...a, size: 11 }, b],
    [{ ...a, lastModified: 1001 }, b],
    [b, a],
  ]) {
    assert.notEqual(await fingerprint(changed), base);
  }
});

test('offer ids: the same files for the same device get the same id; another device or list a new one; forgotten ones are new', async () => {
  const store = new ResumeStore(memoryBackend());
  const now = 1_000_000;
  const id = await store.offerId('peer1', 'fp1', now);
  assert.equal(fromB64Length(id), 16);
  assert.equal(await store.offerId('peer1', 'fp1', now + 5), id);
  assert.notEqual(await store.offerId('peer2', 'fp1', now), id);
  assert.notEqual(await store.offerId('peer1', 'fp2', now), id);
  await store.forgetOffer('peer1', 'fp1');
  const fresh = await store.offerId('peer1', 'fp1', now);
  assert.notEqual(fresh, id);
  assert.notEqual(await store.offerId('peer1', 'fp1', now + KEEP_MS), fresh, 'an expired id is not reused');
});

/** @param {string} s */
function fromB64Length(s) {
  return Buffer.from(s, 'base64url').length;
}

test('offer ids are bounded: expired ones and the oldest beyond the limit go', () => {
  const now = 10 * KEEP_MS;
  const records = Array.from({ length: MAX_OFFERS + 3 }, (_, i) => ({ key: `k${i}`, id: 'x', created: now - i * 1000 }));
  records.push({ key: 'old', id: 'x', created: now - KEEP_MS });
  const stale = staleOffers(records, now);
  assert.deepEqual(stale.sort(), ['old', `k${MAX_OFFERS}`, `k${MAX_OFFERS + 1}`, `k${MAX_OFFERS + 2}`].sort());
  assert.deepEqual(staleOffers(records.slice(0, 3), now), []);
});

test('ResumeStore keeps at most MAX_OFFERS ids', async () => {
  const backend = memoryBackend();
  const store = new ResumeStore(backend);
  for (let i = 0; i < MAX_OFFERS + 5; i++) await store.offerId('p', `fp${i}`, 1000 + i);
  assert.equal((await backend.all('offers')).length, MAX_OFFERS);
});

/** @returns {import('../lib/storage/resume-store.js').PartialRecord} */
function record() {
  return {
    peer: 'p',
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    created: 0,
    updated: 0,
    files: {
      0: { path: 'a.bin', size: 5, offset: 5, h: proofText(new Uint8Array(32).fill(1)) },
      1: { path: 'd/b.bin', size: 3 * MiB, offset: 2 * MiB, h: proofText(new Uint8Array(32).fill(2)) },
      2: { path: 'c.bin', size: 3 * MiB, offset: MiB, h: proofText(new Uint8Array(32).fill(3)) },
    },
  };
}

test('claims: kept files whose path and size are unchanged, in index order; others are not claimed', () => {
  const files = [
    { name: 'a.bin', size: 5, type: '' },
    { name: 'b.bin', size: 3 * MiB, type: '', dir: ['d'] },
    { name: 'c.bin', size: 4 * MiB, type: '' },
  ];
  const r = record();
  assert.deepEqual(
    claimsFor(r, files).map((c) => [c.index, c.offset]),
    [
      [0, 5],
      [1, 2 * MiB],
    ],
  );
  assert.equal(claimsFor(r, files)[1].proof, r.files[1].h);
  assert.deepEqual(claimsFor(r, [{ name: 'a.bin', size: 5, type: '' }]).length, 1, 'files beyond the offer are not claimed');
  assert.deepEqual(claimsFor(r, [{ name: 'other.bin', size: 5, type: '' }]), [], 'a renamed file is not claimed');
  assert.equal(keptBytes(r), 5 + 3 * MiB);
  assert.equal(partialName('abc', 2), 'abc-2');
});

test('checkpoints: written every SAVE_STEP, coalesced while a write is under way, flushed, none after removal', async () => {
  const backend = memoryBackend();
  /** @type {number[]} */
  const written = [];
  const slow = {
    ...backend,
    /** @type {typeof backend.put} */
    put: async (t, k, val) => {
      written.push(/** @type {any} */ (val).files[0]?.offset ?? -1);
      await new Promise((r) => setTimeout(r, 5));
      await backend.put(t, k, val);
    },
  };
  assert.equal(SAVE_STEP, 4 * MiB);
  const store = new ResumeStore(slow);
  const cp = new Checkpoints(store, { peer: 'p', id: 'i', created: 0, updated: 0, files: {} });
  const file = { name: 'f', size: 20 * MiB, type: '' };
  const settle = () => new Promise((r) => setTimeout(r, 30));
  for (let i = 1; i <= 9; i++) cp.set(0, file, i * MiB, new Uint8Array(32).fill(i));
  await settle();
  assert.deepEqual(written, [4 * MiB, 9 * MiB], 'at 4 MiB, then only the latest state (8 and 9 MiB came while it was written)');
  assert.equal(cp.record.files[0].offset, 9 * MiB);
  cp.set(0, file, 10 * MiB, new Uint8Array(32));
  await settle();
  assert.deepEqual(written, [4 * MiB, 9 * MiB], 'less than SAVE_STEP later: not written yet');
  cp.flush();
  await settle();
  assert.deepEqual(written, [4 * MiB, 9 * MiB, 10 * MiB], 'flush writes what was held back');
  cp.flush();
  cp.set(0, file, 20 * MiB, new Uint8Array(32));
  await settle();
  assert.deepEqual(written, [4 * MiB, 9 * MiB, 10 * MiB, 20 * MiB], 'a whole file is written at once; a flush with nothing new writes nothing');
  const kept = await store.partial('p', 'i');
  assert.equal(kept?.files[0].offset, 20 * MiB);
  assert.equal(kept?.files[0].path, 'f');
  assert.deepEqual(await store.livePartialNames(1000), new Set(['i-0']));
  await cp.remove();
  cp.set(0, file, 20 * MiB, new Uint8Array(32));
  cp.flush();
  await settle();
  assert.equal(await store.partial('p', 'i'), undefined);
});

test('kept partial transfers expire after KEEP_MS', async () => {
  const store = new ResumeStore(memoryBackend());
  await store.savePartial({ peer: 'p', id: 'old', created: 0, updated: 0, files: { 0: { path: 'a', size: 1, offset: 1, h: 'x' } } });
  await store.savePartial({ peer: 'p', id: 'new', created: 0, updated: KEEP_MS, files: { 1: { path: 'a', size: 1, offset: 1, h: 'x' } } });
  assert.deepEqual(await store.livePartialNames(KEEP_MS + 1), new Set(['new-1']));
  assert.equal(await store.partial('p', 'old'), undefined);
});
