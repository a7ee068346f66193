/**
 * @file The session driver (`web/lib/net/session-driver.js`) as the IO around the session engine,
 * on the paths that need no WebRTC: what the engine relays goes to `relay`, its outcome becomes
 * the `error` event callers know (a stranger as `key-changed`, a verified `forgotten` notice as
 * final), server frames reach the engine in order with relayed bodies, its timer follows
 * `pollTimeout` on the driver's clock, and nothing happens after `close`. The decisions
 * themselves are the engine's (`session.test.js`, `scenarios.test.js`).
 */

import assert from 'node:assert/strict';
import { mock, test } from 'node:test';

import { b64uEncode } from '../lib/proto/b64.js';
import { Handshake } from '../lib/proto/handshake.js';
import { generateKeyPair, randomBytes } from '../lib/proto/keys.js';
import { HANDSHAKE_TIMEOUT_MS } from '../lib/proto/limits.js';
import { forgottenNotice, reconnectRole } from '../lib/proto/remembered.js';
import { SessionDriver } from '../lib/net/session-driver.js';

/**
 * A reconnecting driver for a fresh identity remembering another, with its relayed bodies, its
 * errors and a clock the test moves.
 * @param {{ role?: 'initiator' | 'responder' }} [o] retry until this side has that role
 */
async function setup({ role } = {}) {
  for (;;) {
    const own = await generateKeyPair();
    const peer = await generateKeyPair();
    const ownRole = reconnectRole(own.publicRaw, peer.publicRaw);
    if (role && ownRole !== role) continue;
    const pairingKey = randomBytes(32);
    const nonce = randomBytes(32);
    const hs = new Handshake({
      role: ownRole,
      mode: 'reconnect',
      secret: pairingKey,
      identity: own,
      ephemeral: await generateKeyPair(),
      nonce,
      expectedPeerIdentity: peer.publicRaw,
    });
    /** @type {any[]} */
    const sent = [];
    const clock = { t: 1000 };
    const driver = new SessionDriver({
      hs,
      relay: (b) => sent.push(b),
      reconnect: { pairingKey, peerIdentity: peer.publicRaw },
      now: () => clock.t,
    });
    /** @type {{ code: string, final: boolean }[]} */
    const errors = [];
    driver.addEventListener('error', (ev) => errors.push(/** @type {CustomEvent} */ (ev).detail));
    return { own, peer, pairingKey, ownHello: { nonce, identity: own.publicRaw }, role: ownRole, driver, sent, errors, clock };
  }
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
 * Lets the driver's asynchronous work (WebCrypto, its input chain) run until `done` holds, or
 * for `ms` of real time (WebCrypto runs on other threads: a loaded machine takes its time).
 * @param {() => boolean} [done]
 * @param {number} [ms]
 */
async function settle(done = () => false, ms = done() ? 0 : 200) {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setImmediate(r));
}

/**
 * Waits for the driver's first error (up to 10 s).
 * @param {{ errors: unknown[] }} s
 */
const anError = (s) => settle(() => s.errors.length > 0, 10_000);

test("a stranger's hello is answered not-paired and reported as key-changed (not final)", async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle(await helloFrom((await generateKeyPair()).publicRaw, other(s.role)));
  await anError(s);
  assert.deepEqual(s.errors, [{ code: 'key-changed', final: false }]);
  assert.deepEqual(s.sent.map((b) => b.kind), ['hello', 'not-paired']);
});

test('a not-paired answer is unknown-device, not final: the server could forge it', async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle({ kind: 'not-paired' });
  await anError(s);
  assert.deepEqual(s.errors, [{ code: 'unknown-device', final: false }]);
});

test('a forgotten notice that verifies against our hello is forgotten, final', async () => {
  const s = await setup();
  s.driver.sendHello();
  s.driver.handle(await forgottenNotice(s.pairingKey, s.ownHello, s.peer.publicRaw));
  await anError(s);
  assert.deepEqual(s.errors, [{ code: 'forgotten', final: true }]);
});

test('server frames reach the engine in order with the bodies: peer-left waits behind a wrong-role hello', async () => {
  let s = await setup();
  s.driver.sendHello();
  s.driver.handleServer({ type: 'peer-left' });
  await anError(s);
  assert.deepEqual(s.errors, [{ code: 'peer-left', final: false }]);

  s = await setup();
  s.driver.sendHello();
  s.driver.handle(await helloFrom(s.peer.publicRaw, s.role));
  s.driver.handleServer({ type: 'peer-left' });
  s.driver.handle({ kind: 'not-paired' });
  await anError(s);
  assert.deepEqual(s.errors, [{ code: 'unknown-device', final: false }], 'the not-paired that followed explains the hello');
});

test('nothing is relayed or reported after close', async () => {
  const s = await setup();
  s.driver.close();
  s.driver.sendHello();
  s.driver.handle({ kind: 'not-paired' });
  s.driver.serverClosed();
  await settle();
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.sent, []);
});

test("the engine's deadline is the driver's timer: connect-failed after HANDSHAKE_TIMEOUT_MS", async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const s = await setup({ role: 'responder' });
    s.driver.sendHello();
    s.driver.handle(await helloFrom(s.peer.publicRaw, 'initiator'));
    await settle();
    /** @param {number} ms */
    const advance = async (ms) => {
      s.clock.t += ms;
      mock.timers.tick(ms);
      await settle();
    };
    // The peer's offer and confirm never come (a server that drops them).
    await advance(HANDSHAKE_TIMEOUT_MS - 1);
    assert.deepEqual(s.errors, []);
    await advance(1);
    await anError(s);
    assert.deepEqual(s.errors, [{ code: 'connect-failed', final: false }]);
  } finally {
    mock.timers.reset();
  }
});
