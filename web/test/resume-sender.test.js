/**
 * @file The sending side of resume (§11.3) through `Transfers` over a scripted channel: offers
 * to a known device carry an id, the same files offered again carry the same id; claims are
 * answered with a `resume-ack` (the claimed offset where the proof matches the file's own
 * bytes, 0 where it does not) and each file's chunks start there; a session that closes makes
 * the transfer `interrupted`; bad claims are `peer-misbehaved`.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { b64uDecode } from '../lib/proto/b64.js';
import { Transfers } from '../lib/transfers/file-transfer.js';
import { RESUME_BLOCK } from '../lib/proto/limits.js';
import { chainOver, proofText } from '../lib/proto/resume.js';
import { ResumeStore } from '../lib/storage/resume-store.js';
import { memoryBackend } from '../lib/storage/store.js';
import { decodeInner, encodeAcceptResume, encodeInner } from '../lib/proto/transfer.js';

const MiB = RESUME_BLOCK;

/** A channel that records what is sent and lets the test play the other device. */
class FakeChannel extends EventTarget {
  maxInner = 64 * 1024;
  chunkPayload = 64 * 1024 - 1;
  seq = 0n;
  /** @type {bigint[]} */
  acked = [];
  /** @type {{ msg: any, final: boolean }[]} */
  sent = [];
  /** @type {unknown} */
  failed = null;
  /** @param {Uint8Array} inner @param {boolean} [final] */
  async send(inner, final = false) {
    this.sent.push({ msg: decodeInner(inner, final), final });
  }
  /** @param {Uint8Array} framed flags || type || data */
  async sendFramed(framed) {
    this.sent.push({ msg: decodeInner(framed.slice(1), framed[0] === 1), final: framed[0] === 1 });
    return this.seq++;
  }
  async openLanes() {}
  sendsOverLanes = false;
  /** @param {bigint} seq */
  ackThrough(seq) {
    this.acked.push(seq);
  }
  /** @param {unknown} e */
  fail(e) {
    this.failed = e;
  }
  /** @param {Uint8Array} inner */
  deliver(inner) {
    this.dispatchEvent(new CustomEvent('message', { detail: { msg: decodeInner(inner), final: false } }));
  }
  /** @param {string} type */
  of(type) {
    return this.sent.filter((s) => s.msg.type === type);
  }
}

/** @param {() => boolean} cond */
async function until(cond) {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(cond(), 'condition not reached');
}

/** @param {number} len @param {number} seed */
function bytes(len, seed) {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 13 + seed) & 0xff;
  return out;
}

/**
 * @param {ResumeStore} resume
 */
function session(resume) {
  const channel = new FakeChannel();
  const t = new Transfers(/** @type {any} */ (channel), { peer: Promise.resolve('peer-1'), resume });
  /** @type {any[]} */
  const outs = [];
  t.addEventListener('outgoing', (ev) => outs.push(/** @type {CustomEvent} */ (ev).detail));
  return { channel, t, outs };
}

test('the same files offered again to the same device carry the same id; claims are answered and chunks start there', async () => {
  const resume = new ResumeStore(memoryBackend());
  const a = new File([bytes(3 * MiB + 10, 1)], 'a.bin', { lastModified: 1000 });
  const b = new File([bytes(2 * MiB, 2)], 'b.bin', { lastModified: 1000 });
  const c = new File([bytes(5, 3)], 'c.bin', { lastModified: 1000 });

  // Session 1: offered, then the session closes: interrupted.
  const s1 = session(resume);
  s1.t.send([a, b, c]);
  await until(() => s1.channel.of('manifest').length === 1);
  const id = s1.channel.of('manifest')[0].msg.id;
  assert.equal(b64uDecode(id).length, 16);
  s1.channel.dispatchEvent(new Event('closed'));
  await until(() => s1.outs[0]?.state === 'interrupted');

  // Session 2: the same files again: the same id. The receiver claims a 2 MiB prefix of a (right
  // proof), all of b (wrong proof) and all of c (right proof).
  const s2 = session(resume);
  const done = s2.t.send([a, b, c], { resuming: true });
  await until(() => s2.channel.of('manifest').length === 1);
  assert.equal(s2.channel.of('manifest')[0].msg.id, id);
  assert.equal(s2.outs[0].resuming, true);
  const tid = b64uDecode(id);
  const read = (/** @type {File} */ f) => (/** @type {number} */ s, /** @type {number} */ e) => f.slice(s, e).arrayBuffer();
  const proofA = proofText(await chainOver(tid, 0, 2 * MiB, read(a)));
  const proofC = proofText(await chainOver(tid, 2, 5, read(c)));
  const wrong = proofText(new Uint8Array(32));
  s2.channel.deliver(
    encodeAcceptResume([
      { index: 0, offset: 2 * MiB, proof: proofA },
      { index: 1, offset: 2 * MiB, proof: wrong },
      { index: 2, offset: 5, proof: proofC },
    ]),
  );
  await until(() => s2.channel.sent.filter((s) => s.final).length === 3);
  const ack = s2.channel.of('resume-ack');
  assert.deepEqual(ack[0].msg.files, [
    { index: 0, offset: 2 * MiB },
    { index: 1, offset: 0 },
    { index: 2, offset: 5 },
  ]);
  // The ack precedes every chunk; a: 1 MiB + 10 bytes from 2 MiB on; b: all; c: one empty FINAL chunk.
  const order = s2.channel.sent.map((s) => s.msg.type);
  assert.ok(order.indexOf('resume-ack') < order.indexOf('chunk'));
  const chunks = s2.channel.of('chunk');
  /** @type {number[][]} */
  const perFile = [[]];
  for (const ch of chunks) {
    perFile[perFile.length - 1].push(ch.msg.data.length);
    if (ch.final) perFile.push([]);
  }
  const sum = (/** @type {number[]} */ xs) => xs.reduce((x, y) => x + y, 0);
  assert.equal(sum(perFile[0]), MiB + 10);
  assert.equal(sum(perFile[1]), 2 * MiB);
  assert.deepEqual(perFile[2], [0]);
  assert.deepEqual(chunks[0].msg.data.slice(0, 4), bytes(3 * MiB + 10, 1).slice(2 * MiB, 2 * MiB + 4), 'a continues at 2 MiB');
  assert.equal(s2.outs[0].chunkBytes, 3 * MiB + 10);
  for (let i = 0; i < 3; i++) s2.channel.deliver(encodeInner({ type: 'received', index: i }));
  await done;
  assert.equal(s2.outs[0].state, 'done');

  // Done: the id is forgotten, the same files get a new one.
  const s3 = session(resume);
  s3.t.send([a, b, c]);
  await until(() => s3.channel.of('manifest').length === 1);
  assert.notEqual(s3.channel.of('manifest')[0].msg.id, id);
});

test('bad claims are peer-misbehaved: out of order, beyond the file, not at a block boundary', async () => {
  const f = new File([bytes(3 * MiB, 4)], 'f.bin', { lastModified: 1 });
  const g = new File([bytes(10, 5)], 'g.bin', { lastModified: 1 });
  const proof = proofText(new Uint8Array(32));
  for (const claims of [
    [
      { index: 1, offset: 10, proof },
      { index: 0, offset: MiB, proof },
    ],
    [{ index: 0, offset: 4 * MiB, proof }],
    [{ index: 0, offset: MiB + 1, proof }],
    [{ index: 2, offset: 1, proof }],
  ]) {
    const s = session(new ResumeStore(memoryBackend()));
    s.t.send([f, g]);
    await until(() => s.channel.of('manifest').length === 1);
    s.channel.deliver(encodeAcceptResume(claims));
    assert.equal(/** @type {any} */ (s.channel.failed)?.code, 'peer-misbehaved', JSON.stringify(claims));
  }
});

test('without a store an offer has no id, and claims for it are peer-misbehaved', async () => {
  const channel = new FakeChannel();
  const t = new Transfers(/** @type {any} */ (channel));
  t.send([new File([bytes(10, 6)], 'x.bin')]);
  await until(() => channel.of('manifest').length === 1);
  assert.equal(channel.of('manifest')[0].msg.id, undefined);
  channel.deliver(encodeAcceptResume([{ index: 0, offset: 10, proof: proofText(new Uint8Array(32)) }]));
  assert.equal(/** @type {any} */ (channel.failed)?.code, 'peer-misbehaved');
});
