/**
 * @file The end of a session (§6.1) between two `SecureChannel`s over a fake, in-memory pair
 * of peers with real record keys: a refusal is told to the peer in `close {code}` before the
 * channel closes, and the peer shows `name-refused` or `peer-refused`, not `peer-left`; a
 * `close {}` ends the session like a channel that closed; a failure that is not a check on the
 * peer's data sends no `close`; nothing is sent after a `close`.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ProtocolError } from '../lib/proto/errors.js';
import { RecordOpener } from '../lib/proto/record.js';
import { SecureChannel } from '../lib/net/secure-channel.js';
import { decodeInner, encodeClose, encodeManifest } from '../lib/proto/transfer.js';

/** One end of an in-memory data channel: `send` arrives at the other end as a `message`. */
class FakePeer extends EventTarget {
  /** @type {FakePeer | null} */
  other = null;
  open = true;
  bufferedAmount = 0;
  /** @type {Uint8Array[]} */
  sent = [];
  maxMessageSize = 262144;

  /** @param {Uint8Array} bytes */
  async send(bytes) {
    if (!this.open) throw new Error('data channel is not open');
    this.sent.push(bytes);
    const other = this.other;
    setTimeout(() => other?.open && other.dispatchEvent(new CustomEvent('message', { detail: bytes })), 1);
  }

  close() {
    if (!this.open) return;
    this.open = false;
    this.dispatchEvent(new Event('closed'));
    // The other end sees its channel close a moment later, as over a network.
    setTimeout(() => this.other?.close(), 5);
  }

  path() {
    return Promise.resolve(null);
  }
}

const key = (/** @type {number} */ fill, /** @type {KeyUsage[]} */ usages) =>
  crypto.subtle.importKey('raw', new Uint8Array(32).fill(fill), 'AES-GCM', false, usages);

/** Two channels joined back to back; `b` also gets a raw opener of what `a` sends. */
async function pair() {
  const [pa, pb] = [new FakePeer(), new FakePeer()];
  pa.other = pb;
  pb.other = pa;
  const both = /** @type {KeyUsage[]} */ (['encrypt', 'decrypt']);
  const aToB = await key(1, both);
  const bToA = await key(2, both);
  const a = new SecureChannel(/** @type {any} */ (pa), /** @type {any} */ ({ sendKey: aToB, recvKey: bToA, sas: '' }));
  const b = new SecureChannel(/** @type {any} */ (pb), /** @type {any} */ ({ sendKey: bToA, recvKey: aToB, sas: '' }));
  return { a, b, pa, pb };
}

/**
 * The `error` codes and whether `closed` came, on `channel`, in order.
 * @param {SecureChannel} channel
 */
function events(channel) {
  /** @type {string[]} */
  const seen = [];
  channel.addEventListener('error', (ev) => seen.push(/** @type {CustomEvent} */ (ev).detail.code));
  channel.addEventListener('closed', () => seen.push('closed'));
  channel.addEventListener('message', (ev) => seen.push(/** @type {CustomEvent} */ (ev).detail.msg.type));
  return seen;
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Console noise of the failures these tests cause on purpose. */
const quiet = () => {
  const { warn, info } = console;
  console.warn = () => {};
  console.info = () => {};
  return () => Object.assign(console, { warn, info });
};

test('a refused offer: the receiver sends close {"code":"bad-name"}, the sender says name-refused', async (t) => {
  t.after(quiet());
  const { a, b, pb } = await pair();
  const seenA = events(a);
  const seenB = events(b);
  // The receiver's check on an offered name fails (what file-transfer.js does for `bad-name`).
  b.addEventListener('message', () => b.fail(new ProtocolError('bad-name', 'CON.txt')));
  await a.send(encodeManifest([{ name: 'x', size: 1, type: '' }]));
  await sleep(60);
  assert.deepEqual(seenB, ['manifest', 'bad-name', 'closed']);
  assert.deepEqual(seenA, ['name-refused', 'closed'], 'a refusal, not peer-left');
  assert.equal(pb.sent.length, 1, 'one record: the close');
});

test('any other refusal reads as peer-refused; the peer code is only in the log', async (t) => {
  const logged = /** @type {string[]} */ ([]);
  const { warn, info } = console;
  console.warn = (/** @type {string} */ m) => logged.push(m);
  console.info = () => {};
  t.after(() => Object.assign(console, { warn, info }));
  const { a, b } = await pair();
  const seenA = events(a);
  b.addEventListener('message', () => b.fail(new ProtocolError('record-rejected', 'tag')));
  await a.send(encodeManifest([{ name: 'x', size: 1, type: '' }]));
  await sleep(60);
  assert.deepEqual(seenA, ['peer-refused', 'closed']);
  assert.ok(logged.some((m) => m.includes('peer-refused') && m.includes('record-rejected')), logged.join('\n'));
});

test('close {} ends the session like a channel that closed; later records are not read', async (t) => {
  t.after(quiet());
  const { a, b } = await pair();
  const seenB = events(b);
  await a.send(encodeClose());
  await a.send(encodeManifest([{ name: 'late', size: 1, type: '' }]));
  await sleep(60);
  assert.deepEqual(seenB, ['closed'], 'no error, no manifest after the close');
});

test('a failure that is no check on the peer data sends no close', async (t) => {
  t.after(quiet());
  const { a, b, pa } = await pair();
  const seenB = events(b);
  a.fail(new Error('the data channel went away'));
  a.fail(new ProtocolError('incomplete', 'disk full'));
  await sleep(60);
  assert.equal(pa.sent.length, 0);
  assert.deepEqual(seenB, ['closed']);
});

test('nothing is sent after this side sent its close', async (t) => {
  t.after(quiet());
  const { a, pa } = await pair();
  a.fail(new ProtocolError('peer-misbehaved', 'test'));
  await sleep(30);
  assert.equal(pa.sent.length, 1);
  const record = await new RecordOpener(await key(1, ['decrypt'])).open(pa.sent[0]);
  assert.deepEqual(decodeInner(record.inner, record.final), { type: 'close', code: 'peer-misbehaved' });
  await assert.rejects(a.send(encodeClose()), (e) => e instanceof ProtocolError);
});

test('records that arrived before the channel closed are delivered before closed', async (t) => {
  t.after(quiet());
  const { a, b, pb } = await pair();
  const seenB = events(b);
  // The peer's last records are in; the channel's close comes while they are being opened (as
  // under load: WebCrypto is async), not after.
  const received = new Promise((r) => pb.addEventListener('message', r, { once: true }));
  await a.send(encodeManifest([{ name: 'last', size: 1, type: '' }]));
  await received;
  pb.open = false;
  pb.dispatchEvent(new Event('closed'));
  await sleep(30);
  assert.deepEqual(seenB, ['manifest', 'closed'], 'the manifest counts, then the close');
});
