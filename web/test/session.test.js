/**
 * @file The session engine (`web/lib/proto/session.js`) beyond the shared scenario vectors: two
 * JS engines pairing in memory (candidates held until the confirm, both sides established with
 * the same keys), the reconnection refusals with fresh keys (§10.3, §10.5, §10.6), what the
 * server may do to a session (§5: repeat a body, drop one, speak after the confirm), inputs kept
 * in order although WebCrypto is asynchronous, and the strict parse of relayed bodies (§4.2).
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { b64uEncode } from '../lib/proto/b64.js';
import { Handshake } from '../lib/proto/handshake.js';
import { generateKeyPair, randomBytes } from '../lib/proto/keys.js';
import { HANDSHAKE_TIMEOUT_MS, NOT_PAIRED_GRACE_MS } from '../lib/proto/limits.js';
import { forgottenNotice, reconnectRole } from '../lib/proto/remembered.js';
import { Session } from '../lib/proto/session.js';
import { canonicalJson, parsePeerSignal, withoutCandidates } from '../lib/proto/session/io.js';

/** @import { Action, Outcome } from '../lib/proto/session/io.js' */

const CONFIG = { relayedDelayMs: 0, hasTurn: false };

/** @param {string} fp */
const sdp = (fp) => `v=0\r\na=fingerprint:sha-256 ${fp}\r\na=candidate:1 1 udp 1 198.51.100.1 9 typ host\r\n`;
/** @param {number} n */
const host = (n) => ({ candidate: `candidate:${n} 1 udp 1 198.51.100.${n} 9 typ host`, sdpMid: '0', sdpMLineIndex: 0 });
/** @param {unknown} body */
const relay = (body) => /** @type {const} */ ({ type: 'frame', frame: { type: 'relay', body } });

/** A pairing: the initiator A and the responder B, whose `hello` went out already. */
async function pairing() {
  const secret = randomBytes(32);
  const idA = await generateKeyPair();
  const hsA = new Handshake({ role: 'initiator', secret, identity: idA, ephemeral: await generateKeyPair(), nonce: randomBytes(32) });
  const hsB = new Handshake({
    role: 'responder',
    secret,
    identity: await generateKeyPair(),
    ephemeral: await generateKeyPair(),
    nonce: randomBytes(32),
    expectedPeerIdentity: idA.publicRaw,
  });
  const a = new Session({ kind: 'initiator', handshake: hsA }, CONFIG, 0);
  const b = new Session({ kind: 'responder', handshake: hsB }, CONFIG, 0);
  return { a, b, helloB: hsB.hello() };
}

/**
 * Plays the caller of `s`: makes offers and answers at once; returns the bodies to relay and the
 * candidates added.
 * @param {Session} s
 * @param {string} fp this side's DTLS fingerprint
 */
async function run(s, fp) {
  /** @type {any[]} */
  const bodies = [];
  /** @type {any[]} */
  const added = [];
  for (let a = s.pollAction(); a; a = s.pollAction()) {
    if (a.type === 'relay') bodies.push(a.body);
    else if (a.type === 'create-offer') await s.offerCreated(sdp(fp), sdp(fp));
    else if (a.type === 'answer-offer') await s.answerCreated(sdp(fp), sdp(fp));
    else if (a.type === 'add-candidate') added.push(a.candidate);
  }
  return { bodies, added };
}

/** @param {any[]} bodies */
const kinds = (bodies) => bodies.map((b) => b.kind);

/**
 * @param {Session} s
 * @returns {string | undefined}
 */
function failed(s) {
  const o = s.pollOutcome();
  assert.equal(o?.type, 'failed', `not failed: ${JSON.stringify(o)}`);
  return /** @type {Extract<Outcome, { type: 'failed' }>} */ (o).code;
}

test('a pairing confirms both sides and releases candidates only then', async () => {
  const { a, b, helloB } = await pairing();
  // Candidates gathered early are held on both sides.
  await b.handlePeer({ type: 'local-candidate', candidate: host(2) });
  await a.handleServer(0, relay(helloB));
  let toB = (await run(a, 'AA:01')).bodies;
  assert.deepEqual(kinds(toB), ['hello', 'offer']);
  assert.ok(!toB[1].sdp.includes('a=candidate'), 'candidates go only as candidate bodies');
  await a.handlePeer({ type: 'local-candidate', candidate: host(1) });
  for (const body of toB) await b.handleServer(10, relay(body));
  let fromB = await run(b, 'BB:02');
  assert.deepEqual(kinds(fromB.bodies), ['answer', 'confirm'], "nothing else before A's confirm");
  assert.deepEqual(fromB.added, []);
  for (const body of fromB.bodies) await a.handleServer(20, relay(body));
  toB = (await run(a, 'AA:01')).bodies;
  assert.deepEqual(kinds(toB), ['confirm', 'candidate'], "A's candidate once B's confirm verified");
  assert.ok(a.isConfirmed && a.sas);
  for (const body of toB) await b.handleServer(30, relay(body));
  fromB = await run(b, 'BB:02');
  assert.deepEqual(kinds(fromB.bodies), ['candidate']);
  assert.deepEqual(fromB.added, [host(1)]);
  await a.handleServer(40, relay(fromB.bodies[0]));
  assert.deepEqual((await run(a, 'AA:01')).added, [host(2)]);
  await a.handlePeer({ type: 'channel-open' });
  await b.handlePeer({ type: 'channel-open' });
  const [oa, ob] = [a.pollOutcome(), b.pollOutcome()];
  assert.ok(oa?.type === 'established' && ob?.type === 'established');
  assert.deepEqual(oa.session.pairingKey, ob.session.pairingKey);
  assert.equal(oa.session.sas, ob.session.sas);
  assert.ok(a.isOver && b.isOver);
});

test('inputs given without waiting are still taken in order', async () => {
  const { a, helloB } = await pairing();
  // The hello's keys are checked with WebCrypto; a body right behind it must wait for it.
  await Promise.all([a.handleServer(0, relay(helloB)), a.handleServer(1, relay(structuredClone(helloB)))]);
  assert.deepEqual(kinds((await run(a, 'AA:01')).bodies), ['hello', 'offer'], 'the repeat is ignored, not a second hello');
  assert.equal(a.isOver, false);
});

test('the server repeating a body or speaking after the confirm changes nothing', async () => {
  const { a, b, helloB } = await pairing();
  await a.handleServer(0, relay(helloB));
  // The same body with its keys in another order is the same body.
  const reordered = Object.fromEntries(Object.entries(helloB).reverse());
  await a.handleServer(1, relay(reordered));
  const toB = (await run(a, 'AA:01')).bodies;
  assert.deepEqual(kinds(toB), ['hello', 'offer'], 'a repeated hello is ignored');
  for (const body of toB) await b.handleServer(10, relay(body));
  for (const body of (await run(b, 'BB:02')).bodies) await a.handleServer(20, relay(body));
  assert.ok(a.isConfirmed);
  await a.handleServer(30, relay(helloB));
  await a.handleServer(31, relay({ kind: 'nonsense' }));
  await a.handleServer(32, { type: 'frame', frame: { type: 'peer-left' } });
  await a.handleServer(33, { type: 'closed', why: '' });
  assert.equal(a.isOver, false);
  await a.handlePeer({ type: 'channel-open' });
  assert.equal(a.pollOutcome()?.type, 'established');
});

test('before the confirm the server ends the session', async () => {
  let { b } = await pairing();
  await b.handleServer(0, { type: 'frame', frame: { type: 'peer-left' } });
  assert.equal(failed(b), 'peer-left');
  ({ b } = await pairing());
  await b.handleServer(0, { type: 'closed', why: '' });
  assert.equal(failed(b), 'signaling-lost');
  ({ b } = await pairing());
  await b.handleServer(0, { type: 'frame', frame: { type: 'error', code: 'no-peer', message: 'x' } });
  assert.equal(failed(b), 'no-peer');
  ({ b } = await pairing());
  await b.handleServer(0, relay({ kind: 'hello', v: 2 }));
  assert.equal(failed(b), 'peer-misbehaved');
  ({ b } = await pairing());
  await b.handlePeer({ type: 'data' });
  assert.equal(failed(b), 'peer-misbehaved');
});

test('the handshake has its deadline from the first hello', async () => {
  const { a, b, helloB } = await pairing();
  assert.equal(a.pollTimeout(), null, 'a pairing initiator waits for its peer as long as it likes');
  assert.equal(b.pollTimeout(), HANDSHAKE_TIMEOUT_MS);
  await a.handleServer(500, relay(helloB));
  assert.equal(a.pollTimeout(), 500 + HANDSHAKE_TIMEOUT_MS);
  await a.handleTimeout(500 + HANDSHAKE_TIMEOUT_MS - 1);
  assert.equal(a.isOver, false);
  await a.handleTimeout(500 + HANDSHAKE_TIMEOUT_MS);
  assert.equal(failed(a), 'connect-failed');
  await b.handleTimeout(HANDSHAKE_TIMEOUT_MS);
  assert.equal(failed(b), 'connect-failed');
});

/** A and B of a pairing, both confirmed (channels not open yet). */
async function confirmed() {
  const { a, b, helloB } = await pairing();
  await a.handleServer(0, relay(helloB));
  for (const body of (await run(a, 'AA:01')).bodies) await b.handleServer(0, relay(body));
  for (const body of (await run(b, 'BB:02')).bodies) await a.handleServer(0, relay(body));
  for (const body of (await run(a, 'AA:01')).bodies) await b.handleServer(0, relay(body));
  assert.ok(a.isConfirmed && b.isConfirmed);
  return { a, b };
}

test('a failed connection is no-route only once confirmed and without TURN', async () => {
  const { a } = await confirmed();
  await a.handlePeer({ type: 'failed', why: 'ice failed' });
  assert.equal(failed(a), 'no-route');
  const { b } = await pairing();
  await b.handlePeer({ type: 'failed', why: 'ice failed' });
  assert.equal(failed(b), 'connect-failed', 'before the confirm no path was tried');
});

test('once confirmed, our candidates go at once, the peer\'s null one is never added', async () => {
  const { a } = await confirmed();
  await a.handlePeer({ type: 'local-candidate', candidate: host(5) });
  await a.handleServer(10, relay({ kind: 'candidate', candidate: null }));
  await a.handleServer(11, relay({ kind: 'candidate', candidate: host(6) }));
  assert.deepEqual(actions(a), [
    { type: 'relay', body: { kind: 'candidate', candidate: host(5) } },
    { type: 'add-candidate', candidate: host(6) },
  ]);
});

/**
 * A remembered device's engine (its hello sent), remembering `peer`.
 * @param {{ pairing?: boolean }} [o] a pairing responder instead, for the bodies only reconnection takes
 */
async function remembered({ pairing = false } = {}) {
  const own = await generateKeyPair();
  const peer = await generateKeyPair();
  const pairingKey = randomBytes(32);
  const nonce = randomBytes(32);
  const role = reconnectRole(own.publicRaw, peer.publicRaw);
  const handshake = new Handshake({
    role: pairing ? 'responder' : role,
    mode: pairing ? 'pairing' : 'reconnect',
    secret: pairingKey,
    identity: own,
    ephemeral: await generateKeyPair(),
    nonce,
    expectedPeerIdentity: peer.publicRaw,
  });
  const s = pairing
    ? new Session({ kind: 'responder', handshake }, CONFIG, 0)
    : new Session({ kind: 'reconnect', handshake, peer: { identity: peer.publicRaw, pairingKey } }, CONFIG, 0);
  return { s, own, peer, pairingKey, ownHello: { nonce, identity: own.publicRaw }, role };
}

/**
 * A hello from `identity` claiming `role`.
 * @param {Uint8Array} identity
 * @param {'initiator' | 'responder'} role
 */
async function helloFrom(identity, role) {
  return {
    kind: 'hello',
    v: 1,
    role,
    identity: b64uEncode(identity),
    ephemeral: b64uEncode((await generateKeyPair()).publicRaw),
    nonce: b64uEncode(randomBytes(32)),
  };
}

/** @param {'initiator' | 'responder'} r */
const other = (r) => (r === 'initiator' ? 'responder' : 'initiator');

/**
 * @param {Session} s
 * @returns {Action[]}
 */
function actions(s) {
  const out = [];
  for (let a = s.pollAction(); a; a = s.pollAction()) out.push(a);
  return out;
}

test("a stranger's hello is answered not-paired and ends as stranger", async () => {
  const r = await remembered();
  await r.s.handleServer(0, relay(await helloFrom((await generateKeyPair()).publicRaw, other(r.role))));
  assert.deepEqual(actions(r.s), [{ type: 'relay', body: { kind: 'not-paired' } }]);
  assert.deepEqual(r.s.pollOutcome(), { type: 'stranger' });
});

test('not-paired during a reconnection is unknown-device', async () => {
  const r = await remembered();
  await r.s.handleServer(0, relay({ kind: 'not-paired' }));
  assert.equal(failed(r.s), 'unknown-device');
});

test('a wrong-role hello waits for the not-paired that explains it, ignoring everything else', async () => {
  let r = await remembered();
  await r.s.handleServer(0, relay(await helloFrom(r.peer.publicRaw, r.role)));
  assert.equal(r.s.isOver, false);
  assert.equal(r.s.pollTimeout(), NOT_PAIRED_GRACE_MS);
  await r.s.handleServer(10, { type: 'frame', frame: { type: 'peer-left' } });
  await r.s.handleServer(15, relay({ kind: 'offer', sdp: 'v=0' }));
  await r.s.handleServer(20, relay({ kind: 'not-paired' }));
  assert.equal(failed(r.s), 'unknown-device');

  r = await remembered();
  await r.s.handleServer(0, relay(await helloFrom(r.peer.publicRaw, r.role)));
  await r.s.handleTimeout(NOT_PAIRED_GRACE_MS);
  assert.equal(failed(r.s), 'peer-misbehaved', 'no explanation came: the role is wrong');

  r = await remembered();
  await r.s.handleServer(0, relay(await helloFrom(r.peer.publicRaw, r.role)));
  await r.s.handleServer(10, { type: 'closed', why: 'gone' });
  assert.equal(failed(r.s), 'peer-misbehaved', 'the server going away ends the grace');
});

test('a forgotten notice that verifies against our hello is forgotten; for another nonce, verify-failed', async () => {
  let r = await remembered();
  await r.s.handleServer(0, relay(await forgottenNotice(r.pairingKey, r.ownHello, r.peer.publicRaw)));
  assert.equal(failed(r.s), 'forgotten');
  r = await remembered();
  await r.s.handleServer(0, relay(await forgottenNotice(r.pairingKey, { ...r.ownHello, nonce: randomBytes(32) }, r.peer.publicRaw)));
  assert.equal(failed(r.s), 'verify-failed');
});

test('pairing sessions refuse not-paired and forgotten bodies', async () => {
  for (const body of [{ kind: 'not-paired' }, { kind: 'forgotten', mac: b64uEncode(randomBytes(32)) }]) {
    const r = await remembered({ pairing: true });
    await r.s.handleServer(0, relay(body));
    assert.equal(failed(r.s), 'peer-misbehaved');
    assert.deepEqual(actions(r.s), []);
  }
});

test('a different second hello is refused', async () => {
  const r = await remembered();
  await r.s.handleServer(0, relay(await helloFrom(r.peer.publicRaw, other(r.role))));
  assert.equal(r.s.isOver, false);
  actions(r.s);
  await r.s.handleServer(10, relay(await helloFrom(r.peer.publicRaw, other(r.role))));
  assert.equal(failed(r.s), 'peer-misbehaved');
});

test('relayed bodies hold exactly their fields (§4.2)', async () => {
  const good = [
    { kind: 'offer', sdp: 'v=0' },
    { kind: 'answer', sdp: '' },
    { kind: 'candidate', candidate: null },
    { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: null, sdpMLineIndex: 0 } },
    { kind: 'confirm', mac: b64uEncode(new Uint8Array(32)) },
    { kind: 'forgotten', mac: b64uEncode(new Uint8Array(32)) },
    { kind: 'not-paired' },
  ];
  for (const b of good) assert.equal((await parsePeerSignal(b)).kind, b.kind, JSON.stringify(b));
  const bad = [
    'hello',
    null,
    [],
    { kind: 'bye' },
    { kind: 'offer' },
    { kind: 'offer', sdp: 1 },
    { kind: 'answer', sdp: 'v=0', extra: true },
    { kind: 'candidate' },
    { kind: 'candidate', candidate: 'candidate:1' },
    { kind: 'candidate', candidate: [] },
    { kind: 'candidate', candidate: { sdpMid: '0' } },
    { kind: 'candidate', candidate: null, sdpMid: '0' },
    { kind: 'confirm', mac: b64uEncode(new Uint8Array(31)) },
    { kind: 'confirm', mac: b64uEncode(new Uint8Array(32)), x: 1 },
    { kind: 'not-paired', x: 1 },
    { kind: 'hello', v: 1 },
  ];
  for (const b of bad) await assert.rejects(parsePeerSignal(b), /peer-misbehaved/, JSON.stringify(b));
});

test('candidates are taken out of an SDP, line ends kept', () => {
  assert.equal(withoutCandidates('v=0\r\na=candidate:1 x\r\na=end-of-candidates\r\na=x\r\n'), 'v=0\r\na=x\r\n');
  assert.equal(withoutCandidates('v=0\na=candidate:1 x\na=y'), 'v=0\na=y');
});

test('canonical JSON sorts keys at every level', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { f: null, e: 'x' }], c: true } }), '{"a":{"c":true,"d":[1,{"e":"x","f":null}]},"b":1}');
});
