/**
 * @file One remembered device's link (`web/lib/net/device-link.js`) over a fake signaling
 * connection: it joins the pair's room of the UTC day and the next day's at 00:00 UTC, says
 * `hello` with its fixed role on seeing the peer, tries again later after `not-paired` (unauthenticated), reports a
 * verified `forgotten` notice, reconnects after a lost connection, steps back from another tab of
 * itself, reports a server's `rate-limited` and gives it its minute; a tombstone link says nothing first and answers the forgotten device's hello with a
 * notice that device can verify, and a stranger's with `not-paired`.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { b64uDecode, b64uEncode } from '../lib/proto/b64.js';
import { DeviceLink } from '../lib/net/device-link.js';
import { generateKeyPair, randomBytes } from '../lib/proto/keys.js';
import { deviceRoom, forgottenNotice, notPairedBody, reconnectRole, utcDay, verifyForgotten } from '../lib/proto/remembered.js';

class FakeSignaling extends EventTarget {
  /** @type {string[]} */
  joined = [];
  /** @type {any[]} */
  relayed = [];
  closed = false;
  /** @param {string} room */
  join(room) {
    this.joined.push(room);
  }
  /** @param {unknown} body */
  relay(body) {
    this.relayed.push(body);
  }
  close() {
    this.closed = true;
  }
  /** @param {string} type @param {unknown} [detail] */
  emit(type, detail) {
    this.dispatchEvent(detail === undefined ? new Event(type) : new CustomEvent(type, { detail }));
  }
}

/**
 * Polls `cond` until it holds.
 * @param {() => unknown} cond
 * @param {string} what
 * @param {number} [ms]
 */
async function until(cond, what, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** @param {{ tombstone?: boolean, now?: () => number }} [o] */
async function setup({ tombstone = false, now = Date.now } = {}) {
  const own = await generateKeyPair();
  const peer = await generateKeyPair();
  const pairingKey = randomBytes(32);
  /** @type {FakeSignaling[]} */
  const conns = [];
  const link = new DeviceLink({
    own,
    peerIdentity: peer.publicRaw,
    pairingKey,
    tombstone,
    now,
    connect: () => {
      const s = new FakeSignaling();
      conns.push(s);
      return s;
    },
  });
  /** @type {string[]} */
  const events = [];
  for (const t of ['online', 'offline', 'forgotten', 'told', 'recovered']) link.addEventListener(t, () => events.push(t));
  link.addEventListener('error', (ev) => events.push(`error:${/** @type {CustomEvent} */ (ev).detail.code}`));
  return { own, peer, pairingKey, link, conns, events };
}

/**
 * The peer's hello, with its own fresh nonce.
 * @param {Uint8Array} identity
 * @param {Uint8Array} other the identity it talks to
 */
async function helloFrom(identity, other) {
  return {
    kind: 'hello',
    v: 1,
    role: reconnectRole(identity, other),
    identity: b64uEncode(identity),
    ephemeral: b64uEncode((await generateKeyPair()).publicRaw),
    nonce: b64uEncode(randomBytes(32)),
  };
}

test("joins the pair's room of the day and says hello with its fixed role when the peer is there", async (t) => {
  const s = await setup();
  t.after(() => s.link.stop());
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  assert.equal(s.conns[0].joined[0], await deviceRoom(s.pairingKey, utcDay(Date.now())));
  s.conns[0].emit('joined', { peers: 2 });
  await until(() => s.conns[0].relayed.length === 1, 'a hello');
  const hello = s.conns[0].relayed[0];
  assert.equal(hello.kind, 'hello');
  assert.equal(hello.role, reconnectRole(s.own.publicRaw, s.peer.publicRaw));
  assert.deepEqual(b64uDecode(hello.identity), s.own.publicRaw);
});

test("a hello relayed before this side's keys are made is kept for the session", async (t) => {
  const s = await setup();
  t.after(() => s.link.stop());
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  const stranger = await generateKeyPair();
  const hello = await helloFrom(stranger.publicRaw, s.own.publicRaw);
  // Same task: the relay arrives before the session's ephemeral key pair exists.
  s.conns[0].emit('joined', { peers: 2 });
  s.conns[0].emit('relay', hello);
  await until(() => s.conns[0].relayed.length === 2, 'hello and not-paired');
  assert.equal(s.conns[0].relayed[0].kind, 'hello');
  assert.deepEqual(s.conns[0].relayed[1], notPairedBody());
});

test('moves to the next UTC day\'s room at 00:00 UTC', async (t) => {
  const start = Date.now();
  const day = utcDay(start) + 5;
  // 0.1 s before midnight UTC after `day`: the link joins again 2 s after midnight.
  const now = () => (day + 1) * 86_400_000 - 100 + (Date.now() - start);
  const s = await setup({ now });
  t.after(() => s.link.stop());
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'the first join');
  assert.equal(s.conns[0].joined[0], await deviceRoom(s.pairingKey, day));
  await until(() => s.conns[1]?.joined.length === 1, "the next day's join", 5000);
  assert.equal(s.conns[1].joined[0], await deviceRoom(s.pairingKey, day + 1));
  assert.ok(s.conns[0].closed, "the old day's connection is closed");
});

test('not-paired is unknown-device, and the link tries again later (the server could forge it)', async (t) => {
  const s = await setup();
  t.after(() => s.link.stop());
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  s.conns[0].emit('peer-joined');
  await until(() => s.conns[0].relayed.length === 1, 'a hello');
  s.conns[0].emit('relay', notPairedBody());
  await until(() => s.events.includes('error:unknown-device'), 'unknown-device');
  assert.ok(s.conns[0].closed);
  assert.ok(!s.events.includes('forgotten'), 'the device is kept');
  await until(() => s.conns[1]?.joined.length === 1, 'a later join', 3000);
});

test('a verified forgotten notice reports forgotten; the link stops', async () => {
  const s = await setup();
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  s.conns[0].emit('joined', { peers: 2 });
  await until(() => s.conns[0].relayed.length === 1, 'a hello');
  const mine = s.conns[0].relayed[0];
  const notice = await forgottenNotice(s.pairingKey, { nonce: b64uDecode(mine.nonce), identity: s.own.publicRaw }, s.peer.publicRaw);
  s.conns[0].emit('relay', notice);
  await until(() => s.events.includes('forgotten'), 'forgotten');
  assert.deepEqual(s.events, ['error:forgotten', 'forgotten']);
  assert.ok(s.conns[0].closed);
});

test('a lost signaling connection is retried with a new one', async (t) => {
  const s = await setup();
  t.after(() => s.link.stop());
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  s.conns[0].emit('closed');
  await until(() => s.conns[1]?.joined.length === 1, 'a second join', 3000);
  assert.equal(s.conns[1].joined[0], s.conns[0].joined[0]);
});

test("a server's rate-limited is reported and not asked again at once; the next join clears it", async (t) => {
  const s = await setup();
  t.after(() => s.link.stop());
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  s.conns[0].emit('server-error', { code: 'rate-limited', message: '' });
  s.conns[0].emit('closed');
  assert.deepEqual(s.events, ['error:rate-limited']);
  assert.ok(s.conns[0].closed);
  // Any other refusal is retried within a second (see above); this one waits the minute.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(s.conns.length, 1, 'no new connection within the minute');
  // The person restarts it (e.g. reopens the page): the server lets it in again.
  s.link.stop();
  s.link.start();
  await until(() => s.conns[1]?.joined.length === 1, 'a join after the restart');
  s.conns[1].emit('joined', { peers: 1 });
  assert.deepEqual(s.events, ['error:rate-limited', 'recovered']);
});

test('a hello with its own identity (another tab) makes it step back and try again', async (t) => {
  const s = await setup();
  t.after(() => s.link.stop());
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  s.conns[0].emit('peer-joined');
  await until(() => s.conns[0].relayed.length === 1, 'a hello');
  s.conns[0].emit('relay', await helloFrom(s.own.publicRaw, s.peer.publicRaw));
  await until(() => s.conns[0].closed, 'stepping back');
  assert.equal(s.conns[0].relayed.length, 1, 'no not-paired to itself');
  assert.deepEqual(s.events, []);
  await until(() => s.conns[1]?.joined.length === 1, 'a later join', 3000);
});

test('a tombstone says nothing first, then answers the forgotten device with a verifiable notice', async () => {
  const s = await setup({ tombstone: true });
  s.link.start();
  await until(() => s.conns[0]?.joined.length === 1, 'a join');
  s.conns[0].emit('joined', { peers: 2 });
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(s.conns[0].relayed, [], 'no hello from a tombstone');
  const stranger = await generateKeyPair();
  s.conns[0].emit('relay', await helloFrom(stranger.publicRaw, s.own.publicRaw));
  await until(() => s.conns[0].relayed.length === 1, 'an answer to the stranger');
  assert.deepEqual(s.conns[0].relayed[0], notPairedBody());
  const hello = await helloFrom(s.peer.publicRaw, s.own.publicRaw);
  s.conns[0].emit('relay', hello);
  await until(() => s.events.includes('told'), 'told');
  /** @type {unknown} */
  const notice = s.conns[0].relayed[1];
  await verifyForgotten(notice, s.pairingKey, s.own.publicRaw, { nonce: b64uDecode(hello.nonce), identity: s.peer.publicRaw });
  s.conns[0].emit('peer-left');
  assert.ok(s.conns[0].closed, 'leaves once the peer left');
});
