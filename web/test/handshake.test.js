/**
 * @file Two `Handshake`s talking in memory through a relay that may rewrite bodies, as the
 * signaling server could: a clean run confirms both sides with equal SAS and matching record
 * keys; substituted keys, nonces or SDP fingerprints end in `verify-failed` on both sides;
 * malformed or repeated bodies are `peer-misbehaved`. Also `sdpFingerprint` edge cases.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { b64uDecode, b64uEncode } from '../lib/proto/b64.js';
import { ProtocolError } from '../lib/proto/errors.js';
import { Handshake } from '../lib/proto/handshake.js';
import { sdpFingerprint } from '../lib/proto/key-schedule.js';
import { generateKeyPair, randomBytes } from '../lib/proto/keys.js';
import { RecordOpener, RecordSealer } from '../lib/proto/record.js';

/** @import { HelloBody, Session } from '../types/protocol.js' */

const FP_OFFER = 'sha-256 ' + Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');
const FP_ANSWER = 'sha-256 ' + Array.from({ length: 32 }, (_, i) => (255 - i).toString(16).toUpperCase()).join(':');

/**
 * @param {unknown} e
 * @param {string} code
 */
function isCode(e, code) {
  return e instanceof ProtocolError && e.code === code;
}

/** Fresh keys for both devices and a link secret. */
async function setup() {
  const secret = randomBytes(32);
  const initIdentity = await generateKeyPair();
  const hsI = new Handshake({
    role: 'initiator',
    secret,
    identity: initIdentity,
    ephemeral: await generateKeyPair(),
    nonce: randomBytes(32),
  });
  const hsR = new Handshake({
    role: 'responder',
    secret,
    identity: await generateKeyPair(),
    ephemeral: await generateKeyPair(),
    nonce: randomBytes(32),
    expectedPeerIdentity: initIdentity.publicRaw,
  });
  return { secret, hsI, hsR, initIdentity };
}

/**
 * Runs the §5 flow; `tamper` may rewrite what each side receives.
 * @param {{
 *   helloToI?: (b: HelloBody) => Promise<HelloBody> | HelloBody,
 *   helloToR?: (b: HelloBody) => Promise<HelloBody> | HelloBody,
 *   fpsI?: [string, string], fpsR?: [string, string],
 * }} [tamper]
 * @returns {Promise<{ i: Session | ProtocolError, r: Session | ProtocolError }>}
 */
async function run(tamper = {}) {
  const { hsI, hsR } = await setup();
  /** @param {Promise<Session>} p */
  const settle = (p) => p.catch((/** @type {ProtocolError} */ e) => e);
  let rFailed = null;
  // 2. responder -> hello; 3. initiator checks it and answers with its hello.
  await hsI.handlePeerHello(await (tamper.helloToI ?? ((b) => b))(hsR.hello()));
  await hsR.handlePeerHello(await (tamper.helloToR ?? ((b) => b))(hsI.hello())).catch((e) => {
    rFailed = e;
  });
  hsI.setFingerprints(...(tamper.fpsI ?? [FP_OFFER, FP_ANSWER]));
  const confirmI = await hsI.confirm();
  if (rFailed) return { i: await settle(Promise.reject(new Error('no responder confirm'))), r: rFailed };
  hsR.setFingerprints(...(tamper.fpsR ?? [FP_OFFER, FP_ANSWER]));
  const confirmR = await hsR.confirm();
  return {
    i: await settle(hsI.handlePeerConfirm(confirmR)),
    r: await settle(hsR.handlePeerConfirm(confirmI)),
  };
}

test('a clean handshake confirms both sides with the same SAS and crossed record keys', async () => {
  const { i, r } = await run();
  assert.ok(!(i instanceof Error) && !(r instanceof Error));
  assert.match(i.sas, /^\d{6}$/);
  assert.equal(i.sas, r.sas);
  assert.deepEqual(i.transcriptHash, r.transcriptHash);
  assert.deepEqual(i.pairingKey, r.pairingKey);
  assert.equal(i.pairingKey.length, 32);
  for (const k of [i.sendKey, i.recvKey, r.sendKey, r.recvKey]) {
    assert.equal(k.extractable, false);
    assert.equal(k.algorithm.name, 'AES-GCM');
  }
  const inner = new TextEncoder().encode('\x04hello');
  const rec = await new RecordSealer(i.sendKey).seal(inner, true);
  assert.deepEqual(await new RecordOpener(r.recvKey).open(rec), { inner, final: true });
  const back = await new RecordSealer(r.sendKey).seal(inner, false);
  assert.deepEqual(await new RecordOpener(i.recvKey).open(back), { inner, final: false });
  // Own key does not open own records: the two directions have distinct keys.
  await assert.rejects(new RecordOpener(i.recvKey).open(rec), (e) => isCode(e, 'record-rejected'));
});

test('private keys from generateKeyPair are not extractable', async () => {
  const kp = await generateKeyPair();
  assert.equal(kp.privateKey.extractable, false);
  assert.equal(kp.publicRaw.length, 65);
  assert.equal(kp.publicRaw[0], 4);
});

/** A server-side key pair to substitute. */
const mallory = await generateKeyPair();

test('substituted responder ephemeral key: verify-failed on both sides', async () => {
  const { i, r } = await run({ helloToI: (b) => ({ ...b, ephemeral: b64uEncode(mallory.publicRaw) }) });
  assert.ok(isCode(i, 'verify-failed'), String(i));
  assert.ok(isCode(r, 'verify-failed'), String(r));
});

test('substituted initiator ephemeral key: verify-failed on both sides', async () => {
  const { i, r } = await run({ helloToR: (b) => ({ ...b, ephemeral: b64uEncode(mallory.publicRaw) }) });
  assert.ok(isCode(i, 'verify-failed'), String(i));
  assert.ok(isCode(r, 'verify-failed'), String(r));
});

test('substituted responder identity: verify-failed on both sides', async () => {
  const { i, r } = await run({ helloToI: (b) => ({ ...b, identity: b64uEncode(mallory.publicRaw) }) });
  assert.ok(isCode(i, 'verify-failed'), String(i));
  assert.ok(isCode(r, 'verify-failed'), String(r));
});

test('substituted initiator identity: the responder refuses the hello (verify-failed)', async () => {
  const { r } = await run({ helloToR: (b) => ({ ...b, identity: b64uEncode(mallory.publicRaw) }) });
  assert.ok(isCode(r, 'verify-failed'), String(r));
});

test('substituted nonce: verify-failed on both sides', async () => {
  const { i, r } = await run({ helloToI: (b) => ({ ...b, nonce: b64uEncode(randomBytes(32)) }) });
  assert.ok(isCode(i, 'verify-failed') && isCode(r, 'verify-failed'));
});

test('rewritten SDP fingerprint (each side sees another one): verify-failed on both sides', async () => {
  const other = FP_ANSWER.replace(/^sha-256 ../, 'sha-256 00');
  const { i, r } = await run({ fpsI: [FP_OFFER, other] });
  assert.ok(isCode(i, 'verify-failed') && isCode(r, 'verify-failed'));
});

test('a replayed confirm from another session does not verify', async () => {
  const a = await setup();
  const b = await setup();
  for (const s of [a, b]) {
    await s.hsI.handlePeerHello(s.hsR.hello());
    await s.hsR.handlePeerHello(s.hsI.hello());
    s.hsI.setFingerprints(FP_OFFER, FP_ANSWER);
    s.hsR.setFingerprints(FP_OFFER, FP_ANSWER);
  }
  await assert.rejects(a.hsI.handlePeerConfirm(await b.hsR.confirm()), (e) => isCode(e, 'verify-failed'));
});

test('malformed hellos are peer-misbehaved', async () => {
  const { hsR } = await setup();
  const good = hsR.hello();
  const short = b64uEncode(randomBytes(31));
  const offCurve = b64uDecode(good.ephemeral);
  offCurve[64] ^= 1;
  /** @type {[string, unknown][]} */
  const cases = [
    ['not an object', 'hello'],
    ['null', null],
    ['array', [good]],
    ['extra field', { ...good, extra: 1 }],
    ['missing nonce', { ...good, nonce: undefined }],
    ['v 2', { ...good, v: 2 }],
    ['v "1"', { ...good, v: '1' }],
    ['kind offer', { ...good, kind: 'offer' }],
    ['wrong role (initiator hello to initiator)', { ...good, role: 'initiator' }],
    ['unknown role', { ...good, role: 'server' }],
    ['short nonce', { ...good, nonce: short }],
    ['padded base64', { ...good, nonce: good.nonce + '=' }],
    ['standard base64 alphabet', { ...good, nonce: good.nonce.slice(0, -2) + '+/' }],
    ['whitespace in base64', { ...good, nonce: ' ' + good.nonce.slice(1) }],
    ['point off the curve', { ...good, ephemeral: b64uEncode(offCurve) }],
    ['compressed key', { ...good, identity: b64uEncode(new Uint8Array([2, ...b64uDecode(good.identity).subarray(1, 33)])) }],
    ['key as bytes array', { ...good, identity: Array.from(b64uDecode(good.identity)) }],
  ];
  for (const [why, body] of cases) {
    const { hsI } = await setup();
    const b = /** @type {any} */ (body);
    if (b && typeof b === 'object' && !Array.isArray(b) && 'nonce' in b && b.nonce === undefined) delete b.nonce;
    await assert.rejects(hsI.handlePeerHello(body), (e) => isCode(e, 'peer-misbehaved'), why);
  }
});

test('a second hello is peer-misbehaved and ends the handshake, even a concurrent one', async () => {
  {
    const { hsI, hsR } = await setup();
    await hsI.handlePeerHello(hsR.hello());
    await assert.rejects(hsI.handlePeerHello(hsR.hello()), (e) => isCode(e, 'peer-misbehaved'));
    await assert.rejects(hsI.confirm(), (e) => isCode(e, 'peer-misbehaved'));
  }
  const { hsI, hsR } = await setup();
  const hello = hsR.hello();
  const results = await Promise.allSettled([hsI.handlePeerHello(hello), hsI.handlePeerHello(hello)]);
  for (const r of results) assert.ok(r.status === 'rejected' && isCode(r.reason, 'peer-misbehaved'));
});

test('a failed handshake stays failed', async () => {
  const { hsI, hsR } = await setup();
  await assert.rejects(hsI.handlePeerHello({ ...hsR.hello(), v: 2 }), (e) => isCode(e, 'peer-misbehaved'));
  await assert.rejects(hsI.handlePeerHello(hsR.hello()), (e) => isCode(e, 'peer-misbehaved'));
  assert.throws(() => hsI.setFingerprints(FP_OFFER, FP_ANSWER), (e) => isCode(e, 'peer-misbehaved'));
});

test('confirm: malformed, early or second is peer-misbehaved; confirm() is stable', async () => {
  const early = await setup();
  await early.hsR.handlePeerHello(early.hsI.hello());
  await assert.rejects(early.hsR.handlePeerConfirm({ kind: 'confirm', mac: b64uEncode(randomBytes(32)) }), (e) =>
    isCode(e, 'peer-misbehaved'),
  );

  for (const body of [
    { kind: 'confirm' },
    { kind: 'confirm', mac: b64uEncode(randomBytes(31)) },
    { kind: 'confirm', mac: b64uEncode(randomBytes(32)), x: 1 },
    { kind: 'hello', mac: b64uEncode(randomBytes(32)) },
  ]) {
    const { hsI, hsR } = await setup();
    await hsI.handlePeerHello(hsR.hello());
    hsI.setFingerprints(FP_OFFER, FP_ANSWER);
    await assert.rejects(hsI.handlePeerConfirm(body), (e) => isCode(e, 'peer-misbehaved'), JSON.stringify(body));
  }

  const { hsI, hsR } = await setup();
  await hsI.handlePeerHello(hsR.hello());
  await hsR.handlePeerHello(hsI.hello());
  hsI.setFingerprints(FP_OFFER, FP_ANSWER);
  hsR.setFingerprints(FP_OFFER, FP_ANSWER);
  hsR.setFingerprints(FP_OFFER, FP_ANSWER); // the same values again: no-op
  assert.deepEqual(await hsI.confirm(), await hsI.confirm());
  const confirmR = await hsR.confirm();
  await hsI.handlePeerConfirm(confirmR);
  await assert.rejects(hsI.handlePeerConfirm(confirmR), (e) => isCode(e, 'peer-misbehaved'));
  assert.throws(() => hsR.setFingerprints(FP_OFFER, FP_OFFER), (e) => isCode(e, 'peer-misbehaved'));
});

test('the responder cannot be built without the link identity', async () => {
  const kp = await generateKeyPair();
  assert.throws(
    () => new Handshake({ role: 'responder', secret: randomBytes(32), identity: kp, ephemeral: kp, nonce: randomBytes(32) }),
    TypeError,
  );
});

test('sdpFingerprint: first line wins, case is normalised, trailing CR and spaces ignored', () => {
  assert.equal(sdpFingerprint('v=0\na=fingerprint:SHA-256 ab:cd \r\na=fingerprint:sha-1 00\n'), 'sha-256 AB:CD');
  assert.equal(sdpFingerprint('a=fingerprint:x 0a'), 'x 0A');
  for (const bad of [
    '',
    'v=0\r\na=fingerprint:sha-256 AB:CD\r\na=fingerprint:sha-256 ZZ\r\n'.replace('AB:CD', 'AB::CD'),
    'v=0\r\na=fingerprint:sha-256\tAB:CD\r\n',
    'v=0\r\nA=fingerprint:sha-256 AB:CD\r\n',
    'v=0\r\na=fingerprint:sha-256 ABCD\r\n',
    'v=0\ra=fingerprint:sha-256 AB:CD\r\n',
  ]) {
    assert.throws(() => sdpFingerprint(bad), (e) => isCode(e, 'peer-misbehaved'), JSON.stringify(bad));
  }
});
