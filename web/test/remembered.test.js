/**
 * @file Remembered devices (§10) against `testdata/vectors/remembered.json`, which the Rust
 * crate generates and checks too: day numbers, daily rooms, roles, a whole reconnection
 * handshake, the `forgotten` notice, device names; plus the refusals a hostile server or a
 * foreign key meets.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { fromHex, hex } from '../lib/proto/b64.js';
import { SUFFIX_ALPHABET, decodeDevicePayload, defaultDeviceName, isDeviceName, nameSuffix, sanitizeDeviceName } from '../lib/proto/device.js';
import { ProtocolError } from '../lib/proto/errors.js';
import { Handshake } from '../lib/proto/handshake.js';
import { transcriptHash } from '../lib/proto/key-schedule.js';
import { generateKeyPair, importPrivateForTest } from '../lib/proto/keys.js';
import {
  deviceRoom,
  forgottenNotice,
  isNotPaired,
  notPairedBody,
  reconnectRole,
  utcDay,
  verifyForgotten,
} from '../lib/proto/remembered.js';

/** @returns {any} */
function load() {
  return JSON.parse(readFileSync(new URL('../../testdata/vectors/remembered.json', import.meta.url), 'utf8'));
}

/**
 * @param {Promise<unknown>} p
 * @param {string} code
 */
async function rejectsWith(p, code) {
  await assert.rejects(p, (/** @type {unknown} */ e) => e instanceof ProtocolError && e.code === code);
}

/** @param {any} s a party of the vector */
async function side(s) {
  return {
    identity: await importPrivateForTest(s.identity_priv),
    ephemeral: await importPrivateForTest(s.ephemeral_priv),
    nonce: fromHex(s.nonce),
  };
}

test('remembered.json: UTC days, daily rooms and roles', async () => {
  const v = load();
  for (const c of v.days) assert.equal(utcDay(c.unix_seconds * 1000), c.day);
  for (const c of v.rooms) assert.equal(await deviceRoom(fromHex(c.pairing_key), c.day), c.room);
  for (const c of v.roles) {
    assert.equal(reconnectRole(fromHex(c.own), fromHex(c.peer)), c.role);
    assert.equal(reconnectRole(fromHex(c.peer), fromHex(c.own)), c.role === 'initiator' ? 'responder' : 'initiator');
  }
  assert.throws(() => reconnectRole(fromHex(v.roles[0].own), fromHex(v.roles[0].own)), ProtocolError);
});

test('remembered.json: a reconnection handshake gives exactly the vector hellos, th and confirms', async () => {
  const v = load();
  assert.ok(v.sessions.length > 0);
  for (const c of v.sessions) {
    const init = await side(c.initiator);
    const resp = await side(c.responder);
    const secret = fromHex(c.pairing_key);
    const th = await transcriptHash({
      initiator: { identity: init.identity.publicRaw, ephemeral: init.ephemeral.publicRaw, nonce: init.nonce },
      responder: { identity: resp.identity.publicRaw, ephemeral: resp.ephemeral.publicRaw, nonce: resp.nonce },
      fpOffer: c.fp_offer,
      fpAnswer: c.fp_answer,
      label: 'pairwise/v1/reconnect-transcript',
    });
    assert.equal(hex(th), c.transcript_hash, c.name);
    const hsI = new Handshake({ role: 'initiator', secret, ...init, expectedPeerIdentity: resp.identity.publicRaw, mode: 'reconnect' });
    const hsR = new Handshake({ role: 'responder', secret, ...resp, expectedPeerIdentity: init.identity.publicRaw, mode: 'reconnect' });
    assert.deepEqual(hsI.hello(), c.hello_initiator);
    assert.deepEqual(hsR.hello(), c.hello_responder);
    await hsI.handlePeerHello(c.hello_responder);
    await hsR.handlePeerHello(c.hello_initiator);
    hsI.setFingerprints(c.fp_offer, c.fp_answer);
    hsR.setFingerprints(c.fp_offer, c.fp_answer);
    assert.deepEqual(await hsI.confirm(), c.confirm_initiator);
    assert.deepEqual(await hsR.confirm(), c.confirm_responder);
    const sI = await hsI.handlePeerConfirm(c.confirm_responder);
    const sR = await hsR.handlePeerConfirm(c.confirm_initiator);
    assert.equal(hex(sI.transcriptHash), c.transcript_hash);
    assert.equal(hex(sR.transcriptHash), c.transcript_hash);
  }
});

test('reconnecting: a hello from another identity is unknown-device; a replayed confirm is verify-failed', async () => {
  const c = load().sessions[0];
  const init = await side(c.initiator);
  const resp = await side(c.responder);
  const secret = fromHex(c.pairing_key);
  const stranger = await generateKeyPair();
  // The initiator remembers someone else: the vector responder is a stranger to it.
  const hs = new Handshake({ role: 'initiator', secret, ...init, expectedPeerIdentity: stranger.publicRaw, mode: 'reconnect' });
  await rejectsWith(hs.handlePeerHello(c.hello_responder), 'key-changed');

  // A server replays the recorded responder messages to an initiator with a fresh ephemeral key.
  const fresh = new Handshake({
    role: 'initiator',
    secret,
    identity: init.identity,
    ephemeral: await generateKeyPair(),
    nonce: crypto.getRandomValues(new Uint8Array(32)),
    expectedPeerIdentity: resp.identity.publicRaw,
    mode: 'reconnect',
  });
  await fresh.handlePeerHello(c.hello_responder);
  fresh.setFingerprints(c.fp_offer, c.fp_answer);
  await fresh.confirm();
  await rejectsWith(fresh.handlePeerConfirm(c.confirm_responder), 'verify-failed');
});

test('remembered.json: the forgotten notice is exact, single-use and bound to the pairing key', async () => {
  const v = load();
  for (const c of v.forgotten) {
    const pk = fromHex(c.pairing_key);
    const forgetting = fromHex(c.forgetting_identity_pub);
    const ownHello = { nonce: fromHex(c.forgotten.nonce), identity: fromHex(c.forgotten.identity_pub) };
    assert.deepEqual(await forgottenNotice(pk, ownHello, forgetting), c.notice);
    await verifyForgotten(c.notice, pk, forgetting, ownHello);
    // Replayed against another hello nonce: refused.
    await rejectsWith(
      verifyForgotten(c.notice, pk, forgetting, { ...ownHello, nonce: fromHex(c.replayed_nonce) }),
      'verify-failed',
    );
    // Made without the pairing key: refused.
    await rejectsWith(verifyForgotten(c.notice, new Uint8Array(32), forgetting, ownHello), 'verify-failed');
    await rejectsWith(verifyForgotten({ kind: 'forgotten', mac: c.notice.mac, x: 1 }, pk, forgetting, ownHello), 'peer-misbehaved');
    await rejectsWith(verifyForgotten({ kind: 'forgotten', mac: 'AAAA' }, pk, forgetting, ownHello), 'peer-misbehaved');
  }
  assert.ok(isNotPaired(notPairedBody()));
  assert.ok(!isNotPaired({ kind: 'not-paired', extra: 1 }));
});

test('remembered.json: device names', () => {
  const v = load().device_names;
  for (const n of v.valid) assert.ok(isDeviceName(n), n);
  for (const n of v.invalid) assert.ok(!isDeviceName(n), JSON.stringify(n));
  const enc = new TextEncoder();
  assert.equal(decodeDevicePayload(enc.encode('{"name":"Pixel 8"}')), 'Pixel 8');
  assert.throws(() => decodeDevicePayload(enc.encode('{"name":"\\ud800"}')), ProtocolError);
  assert.equal(sanitizeDeviceName('  my-host\n', 'Device'), 'my-host');
  assert.equal(sanitizeDeviceName('\u202e', 'Device'), 'Device');
  assert.equal(
    defaultDeviceName('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36'),
    'Chrome on Android',
  );
  assert.equal(defaultDeviceName('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'), 'Firefox on Linux');
});

test('default names: browser, system and a suffix of unambiguous characters', () => {
  const chromium = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0 Safari/537.36';
  assert.equal(defaultDeviceName(chromium, 'K7R'), 'Chrome on Linux (K7R)');
  assert.equal(defaultDeviceName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari/604.1', 'AC2'), 'Safari on iOS (AC2)');
  assert.equal(defaultDeviceName('curl/8', 'AC2'), 'Browser (AC2)');
  assert.equal(SUFFIX_ALPHABET.length, 24);
  for (const c of '0O1IlLQSZBGUV') assert.ok(!SUFFIX_ALPHABET.includes(c), `${c} looks like another character`);
  // Bytes map uniformly: 240 = 10 × 24 are used, 240-255 are drawn again.
  const feed = [[0, 23, 240], [255, 25]];
  assert.equal(nameSuffix(() => Uint8Array.from(/** @type {number[]} */ (feed.shift()))), 'A9C');
  for (let i = 0; i < 200; i++) {
    const s = nameSuffix();
    assert.match(s, /^[ACDEFHJKMNPRTWXY2-9]{3}$/);
    assert.ok(isDeviceName(defaultDeviceName(chromium, s)));
  }
  // The longest default still fits a device name.
  assert.ok(isDeviceName(defaultDeviceName('Mozilla/5.0 (X11; CrOS x86_64) Chrome/131.0', 'WWW')));
});
