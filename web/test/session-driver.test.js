/**
 * @file The session driver's reconnection paths that need no WebRTC (`web/lib/net/session-driver.js`,
 * `docs/protocol.md` §10.3, §10.5, §10.6): a stranger's hello is answered `not-paired`; a
 * `not-paired` body ends the session (the device is tried again: the body is unauthenticated); a `forgotten` notice counts only if its MAC
 * verifies against this side's own hello; a wrong-role hello followed by `not-paired` reads as
 * `unknown-device`; in pairing mode the reconnection-only bodies are refused. What the server
 * may do to any session (§5): repeat a body (ignored) or drop one (the handshake deadline).
 */

import assert from 'node:assert/strict';
import { mock, test } from 'node:test';

import { b64uEncode } from '../lib/proto/b64.js';
import { Handshake } from '../lib/proto/handshake.js';
import { generateKeyPair, randomBytes } from '../lib/proto/keys.js';
import { forgottenNotice, notPairedBody, reconnectRole } from '../lib/proto/remembered.js';
import { bodyShapeError, SessionDriver } from '../lib/net/session-driver.js';

/**
 * A reconnecting driver for `own`, remembering `peer`, with its relayed bodies and errors.
 * @param {{ own?: import('../types/protocol.js').KeyPair, peer?: import('../types/protocol.js').KeyPair, pairing?: boolean }} [o]
 */
async function setup({ own, peer, pairing = false } = {}) {
  own ??= await generateKeyPair();
  peer ??= await generateKeyPair();
  const pairingKey = randomBytes(32);
  const nonce = randomBytes(32);
  const role = reconnectRole(own.publicRaw, peer.publicRaw);
  const hs = new Handshake({
    role: pairing ? 'responder' : role,
    mode: pairing ? 'pairing' : 'reconnect',
    secret: pairingKey,
    identity: own,
    ephemeral: await generateKeyPair(),
    nonce,
    expectedPeerIdentity: peer.publicRaw,
  });
  /** @type {any[]} */
  const sent = [];
  const ownHello = { nonce, identity: own.publicRaw };
  const driver = new SessionDriver({
    hs,
    relay: (b) => sent.push(b),
    reconnect: pairing ? undefined : { pairingKey, peerIdentity: peer.publicRaw, ownHello },
  });
  /** @type {Promise<{ code: string, final: boolean }>} */
  const error = new Promise((resolve) => driver.addEventListener('error', (ev) => resolve(/** @type {CustomEvent} */ (ev).detail)));
  return { own, peer, pairingKey, ownHello, role, driver, sent, error };
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

test("a stranger's hello is answered not-paired and fails with key-changed (not final)", async () => {
  const s = await setup();
  const stranger = await generateKeyPair();
  s.driver.sendHello();
  s.driver.handle(await helloFrom(stranger.publicRaw, s.role === 'initiator' ? 'responder' : 'initiator'));
  assert.deepEqual(await s.error, { code: 'key-changed', final: false });
  assert.equal(s.sent.length, 2);
  assert.equal(s.sent[0].kind, 'hello');
  assert.deepEqual(s.sent[1], notPairedBody());
});

test('a not-paired answer is unknown-device, not final: the server could forge it, so the device is tried again', async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle(notPairedBody());
  assert.deepEqual(await s.error, { code: 'unknown-device', final: false });
});

test('a wrong-role hello from the paired identity, then not-paired, reads as unknown-device', async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle(await helloFrom(s.peer.publicRaw, s.role));
  s.driver.handle(notPairedBody());
  assert.deepEqual(await s.error, { code: 'unknown-device', final: false });
});

test('a wrong-role hello followed by anything else is peer-misbehaved', async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle(await helloFrom(s.peer.publicRaw, s.role));
  s.driver.handle({ kind: 'offer', sdp: 'v=0' });
  assert.deepEqual(await s.error, { code: 'peer-misbehaved', final: false });
});

test('a forgotten notice that verifies against our hello is forgotten, final', async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle(await forgottenNotice(s.pairingKey, s.ownHello, s.peer.publicRaw));
  assert.deepEqual(await s.error, { code: 'forgotten', final: true });
});

test('a forgotten notice for another nonce (a replay) is verify-failed, not final', async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle(await forgottenNotice(s.pairingKey, { ...s.ownHello, nonce: randomBytes(32) }, s.peer.publicRaw));
  assert.deepEqual(await s.error, { code: 'verify-failed', final: false });
});

test('pairing sessions refuse not-paired and forgotten bodies', async () => {
  for (const body of [notPairedBody(), { kind: 'forgotten', mac: b64uEncode(randomBytes(32)) }]) {
    const s = await setup({ pairing: true });
    s.driver.handle(body);
    assert.deepEqual(await s.error, { code: 'peer-misbehaved', final: false });
    assert.deepEqual(s.sent, []);
  }
});

test('nothing is relayed or reported after close', async () => {
  const s = await setup();
  s.driver.close();
  s.driver.sendHello();
  s.driver.handle(notPairedBody());
  const outcome = await Promise.race([s.error, new Promise((r) => setTimeout(() => r('none'), 50))]);
  assert.equal(outcome, 'none');
  assert.deepEqual(s.sent, []);
});

/**
 * Advances the mocked clock by `ms` in steps, letting the driver's real asynchronous work
 * (WebCrypto) run between them; the error if one came meanwhile, else 'none'.
 * @param {Promise<unknown>} error
 * @param {number} ms
 */
async function advance(error, ms) {
  for (let t = 0; t < ms; t += 100) {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    mock.timers.tick(100);
  }
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  return Promise.race([error, Promise.resolve('none')]);
}

/** A reconnecting driver whose side is the responder (it makes no peer connection on hello). */
async function responderSetup() {
  for (;;) {
    const s = await setup();
    if (s.role === 'responder') return s;
  }
}

test('a body repeated by the server is ignored; a different second hello is refused', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const s = await responderSetup();
    s.driver.sendHello();
    const hello = await helloFrom(s.peer.publicRaw, 'initiator');
    s.driver.handle(hello);
    s.driver.handle(structuredClone(hello));
    // Past the wrong-hello grace (3 s), short of the handshake deadline.
    assert.equal(await advance(s.error, 5000), 'none', 'the repeat changed nothing');
    s.driver.handle(await helloFrom(s.peer.publicRaw, 'initiator'));
    assert.deepEqual(await advance(s.error, 5000), { code: 'peer-misbehaved', final: false });
  } finally {
    mock.timers.reset();
  }
});

test('a handshake that does not finish in HANDSHAKE_TIMEOUT_MS fails with connect-failed', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const s = await responderSetup();
    s.driver.sendHello();
    s.driver.handle(await helloFrom(s.peer.publicRaw, 'initiator'));
    // The peer's offer and confirm never come (a server that drops them).
    assert.equal(await advance(s.error, 29_000), 'none');
    assert.deepEqual(await advance(s.error, 1_000), { code: 'connect-failed', final: false });
  } finally {
    mock.timers.reset();
  }
});

test('relayed offer, answer and candidate bodies hold exactly their fields (§4.2)', () => {
  const good = [
    { kind: 'offer', sdp: 'v=0' },
    { kind: 'answer', sdp: '' },
    { kind: 'candidate', candidate: null },
    { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: null, sdpMLineIndex: 0 } },
    { kind: 'hello', anything: 'is checked where hellos are parsed' },
  ];
  for (const b of good) assert.equal(bodyShapeError(b), null, JSON.stringify(b));
  const bad = [
    { kind: 'offer' },
    { kind: 'offer', sdp: 1 },
    { kind: 'answer', sdp: 'v=0', extra: true },
    { kind: 'candidate' },
    { kind: 'candidate', candidate: 'candidate:1' },
    { kind: 'candidate', candidate: [] },
    { kind: 'candidate', candidate: { sdpMid: '0' } },
    { kind: 'candidate', candidate: null, sdpMid: '0' },
  ];
  for (const b of bad) assert.ok(bodyShapeError(b), `${JSON.stringify(b)} should be refused`);
});
