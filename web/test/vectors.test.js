/**
 * @file Known-answer tests of `lib/` against the shared protocol vectors in
 * `testdata/vectors/*.json`, which the Rust crate generates and checks too: link, handshake, sdp,
 * records, transfer, names and errors. If JS and Rust disagree, `docs/protocol.md` decides.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { b64uEncode, fromHex, hex } from '../lib/proto/b64.js';
import { ERRORS, ProtocolError, sentence } from '../lib/proto/errors.js';
import { Handshake } from '../lib/proto/handshake.js';
import { computeIkm, confirmMac, deriveSessionSecrets, sasFromBytes, sdpFingerprint, transcriptHash } from '../lib/proto/key-schedule.js';
import { importPrivateForTest } from '../lib/proto/keys.js';
import * as limits from '../lib/proto/limits.js';
import { encodeFragment, encodeLink, parsePairFragment, roomId } from '../lib/proto/link.js';
import { parseSafeName } from '../lib/proto/name.js';
import { RecordOpener, RecordSealer, openRecord, sealRecord } from '../lib/proto/record.js';
import { decodeInner, encodeInner } from '../lib/proto/transfer.js';

/** @import { InnerMessage } from '../types/protocol.js' */

/**
 * @param {string} name file in testdata/vectors
 * @returns {any}
 */
function load(name) {
  return JSON.parse(readFileSync(new URL(`../../testdata/vectors/${name}`, import.meta.url), 'utf8'));
}

/**
 * Asserts that `promiseOrFn` fails with a ProtocolError of `code`.
 * @param {(() => unknown) | Promise<unknown>} f
 * @param {string} code
 * @param {string} [why]
 */
async function rejectsWith(f, code, why) {
  await assert.rejects(
    async () => (typeof f === 'function' ? f() : f),
    (/** @type {unknown} */ e) => e instanceof ProtocolError && e.code === code,
    why,
  );
}

/**
 * @param {Uint8Array} raw
 * @param {'encrypt' | 'decrypt'} usage
 */
function aesKey(raw, usage) {
  return crypto.subtle.importKey('raw', /** @type {Uint8Array<ArrayBuffer>} */ (raw), 'AES-GCM', false, [usage]);
}

test('errors.json: the catalogue, in order, with the same sentences', () => {
  /** @type {{code: string, sentence: string}[]} */
  const v = load('errors.json');
  assert.deepEqual(
    Object.entries(ERRORS).map(([code, s]) => ({ code, sentence: s })),
    v,
  );
  for (const { code, sentence: s } of v) assert.equal(sentence(code), s);
  assert.equal(new ProtocolError('bad-link').code, 'bad-link');
});

test('errors.json: the ErrorCode type of web/types/protocol.d.ts lists every code, in order', () => {
  const dts = readFileSync(new URL('../types/protocol.d.ts', import.meta.url), 'utf8');
  const union = /export type ErrorCode =([^;]*);/.exec(dts);
  assert.ok(union, 'protocol.d.ts declares ErrorCode');
  const codes = [...union[1].matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
  assert.deepEqual(codes, load('errors.json').map((/** @type {{code: string}} */ e) => e.code));
});

test('link.json: encode to exactly the fragment, parse back, derive the room', async () => {
  const v = load('link.json');
  assert.ok(v.valid.length > 0);
  for (const c of v.valid) {
    const secret = fromHex(c.secret);
    const pub = fromHex(c.identity_pub);
    assert.equal(encodeFragment(secret, pub), c.fragment);
    assert.equal(encodeLink('https://pair.example:8443', secret, pub), `https://pair.example:8443/#${c.fragment}`);
    for (const hash of [c.fragment, `#${c.fragment}`, `#x=1&${c.fragment}&y`, c.fragment_v1]) {
      const parsed = await parsePairFragment(hash);
      assert.equal(hex(parsed.secret), c.secret);
      assert.equal(hex(parsed.identityPub), c.identity_pub);
    }
    assert.equal(await roomId(secret), c.room);
    assert.equal(c.room.length, 22);
  }
});

test('link.json: every invalid fragment is bad-link', async () => {
  const v = load('link.json');
  assert.ok(v.invalid.length > 0);
  for (const c of v.invalid) await rejectsWith(() => parsePairFragment(c.fragment), 'bad-link', c.why);
});

test('sdp.json: fingerprints of valid SDPs, peer-misbehaved for the rest', () => {
  const v = load('sdp.json');
  for (const c of v.valid) assert.equal(sdpFingerprint(c.sdp), c.fingerprint);
  for (const c of v.invalid) {
    assert.throws(
      () => sdpFingerprint(c.sdp),
      (/** @type {unknown} */ e) => e instanceof ProtocolError && e.code === 'peer-misbehaved',
      c.why,
    );
  }
});

test('handshake.json: keys, hellos, ikm, th, schedule, sas and both confirms', async () => {
  const vectors = load('handshake.json');
  assert.ok(vectors.length > 0);
  for (const c of vectors) {
    const side = async (/** @type {any} */ s) => ({
      identity: await importPrivateForTest(s.identity_priv),
      ephemeral: await importPrivateForTest(s.ephemeral_priv),
      nonce: fromHex(s.nonce),
    });
    const init = await side(c.initiator);
    const resp = await side(c.responder);
    // Public keys derived from the private scalars.
    assert.equal(hex(init.identity.publicRaw), c.initiator.identity_pub, c.name);
    assert.equal(hex(init.ephemeral.publicRaw), c.initiator.ephemeral_pub, c.name);
    assert.equal(hex(resp.identity.publicRaw), c.responder.identity_pub, c.name);
    assert.equal(hex(resp.ephemeral.publicRaw), c.responder.ephemeral_pub, c.name);

    // ikm from either side.
    const ikmI = await computeIkm(init.ephemeral.privateKey, resp.ephemeral.publicRaw, init.identity.privateKey, resp.identity.publicRaw);
    const ikmR = await computeIkm(resp.ephemeral.privateKey, init.ephemeral.publicRaw, resp.identity.privateKey, init.identity.publicRaw);
    assert.equal(hex(ikmI), c.ikm);
    assert.equal(hex(ikmR), c.ikm);

    const th = await transcriptHash({
      initiator: { identity: init.identity.publicRaw, ephemeral: init.ephemeral.publicRaw, nonce: init.nonce },
      responder: { identity: resp.identity.publicRaw, ephemeral: resp.ephemeral.publicRaw, nonce: resp.nonce },
      fpOffer: c.fp_offer,
      fpAnswer: c.fp_answer,
    });
    assert.equal(hex(th), c.transcript_hash);

    const keys = await deriveSessionSecrets(fromHex(c.ikm), fromHex(c.secret), th);
    assert.deepEqual(
      {
        confirm_initiator: hex(keys.confirmInitiator),
        confirm_responder: hex(keys.confirmResponder),
        record_initiator: hex(keys.recordInitiator),
        record_responder: hex(keys.recordResponder),
        pairing_key: hex(keys.pairingKey),
        sas_bytes: hex(keys.sasBytes),
      },
      c.keys,
    );
    assert.equal(sasFromBytes(keys.sasBytes), c.sas);
    assert.equal(b64uEncode(await confirmMac(keys.confirmInitiator, th)), c.confirm_initiator.mac);
    assert.equal(b64uEncode(await confirmMac(keys.confirmResponder, th)), c.confirm_responder.mac);

    // The Handshake objects produce exactly the vector bodies and accept each other's.
    const secret = fromHex(c.secret);
    const hsI = new Handshake({ role: 'initiator', secret, ...init });
    const hsR = new Handshake({ role: 'responder', secret, ...resp, expectedPeerIdentity: init.identity.publicRaw });
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
    for (const s of [sI, sR]) {
      assert.equal(s.sas, c.sas);
      assert.equal(hex(s.transcriptHash), c.transcript_hash);
      assert.equal(hex(s.pairingKey), c.keys.pairing_key);
      assert.equal(s.sendKey.extractable, false);
      assert.equal(s.recvKey.extractable, false);
    }
    // Session keys are the vector's record keys: check by sealing and opening across them.
    const inner = new Uint8Array([4, 1, 2, 3]);
    const fromI = await new RecordSealer(sI.sendKey).seal(inner, true);
    assert.deepEqual(await openRecord(await aesKey(keys.recordInitiator, 'decrypt'), 0, fromI), { inner, final: true });
    const fromR = await sealRecord(await aesKey(keys.recordResponder, 'encrypt'), 0, 0, inner);
    assert.deepEqual(await new RecordOpener(sI.recvKey).open(fromR), { inner, final: false });
    assert.deepEqual(await new RecordOpener(sR.recvKey).open(fromI), { inner, final: true });
  }
});

test('handshake.json: fingerprints of the second vector come from sdp.json', () => {
  const fps = new Set(load('sdp.json').valid.map((/** @type {any} */ c) => c.fingerprint));
  const c = load('handshake.json').find((/** @type {any} */ h) => /sdp\.json/.test(h.name));
  if (!c) return;
  assert.ok(fps.has(c.fp_offer) && fps.has(c.fp_answer));
});

test('records.json: seal to exactly the record, open back; every rejected record is refused', async () => {
  const v = load('records.json');
  assert.ok(v.valid.length > 0 && v.rejected.length > 0);
  for (const c of v.valid) {
    const raw = fromHex(c.key);
    const record = await sealRecord(await aesKey(raw, 'encrypt'), c.seq, c.flags, fromHex(c.inner));
    assert.equal(hex(record), c.record, `seq ${c.seq}`);
    const opened = await openRecord(await aesKey(raw, 'decrypt'), c.seq, fromHex(c.record));
    assert.equal(hex(opened.inner), c.inner);
    assert.equal(opened.final, c.flags === 1);
  }
  for (const c of v.rejected) {
    const key = await aesKey(fromHex(c.key), 'decrypt');
    await rejectsWith(() => openRecord(key, c.seq, fromHex(c.record)), 'record-rejected', c.why);
  }
  // The sealer numbers from 0: the first valid vector at seq 0 comes out of a fresh sealer.
  const first = v.valid.find((/** @type {any} */ c) => c.seq === 0);
  const sealer = new RecordSealer(await aesKey(fromHex(first.key), 'encrypt'));
  assert.equal(hex(await sealer.seal(fromHex(first.inner), first.flags === 1)), first.record);
});

test('transfer.json: encode to exactly the inner bytes and decode back; invalid ones fail with their code', () => {
  const v = load('transfer.json');
  assert.ok(v.valid.length > 0 && v.invalid.length > 0);
  for (const c of v.valid) {
    /** @type {InnerMessage} */
    const msg = c.message.type === 'chunk' ? { type: 'chunk', data: fromHex(c.message.data) } : c.message;
    assert.equal(hex(encodeInner(msg)), c.inner, c.message.type);
    const decoded = decodeInner(fromHex(c.inner));
    assert.deepEqual(decoded.type === 'chunk' ? { type: 'chunk', data: hex(decoded.data) } : decoded, c.message);
  }
  for (const c of v.invalid) {
    assert.throws(
      () => decodeInner(fromHex(c.inner), c.final ?? false),
      (/** @type {unknown} */ e) => e instanceof ProtocolError && e.code === c.code,
      c.why,
    );
  }
});

test('names.json: valid names unchanged, invalid ones bad-name', () => {
  const v = load('names.json');
  for (const name of v.valid) assert.equal(parseSafeName(name), name);
  for (const c of v.invalid) {
    assert.throws(
      () => parseSafeName(c.name),
      (/** @type {unknown} */ e) => e instanceof ProtocolError && e.code === 'bad-name',
      c.why,
    );
  }
});

test('limits.json: every shared limit has the same value in lib/proto/limits.js, and the page has no limit of its own but its flow control', () => {
  const v = load('limits.json');
  /** @type {Record<string, unknown>} */
  const page = { ...limits };
  for (const [name, value] of Object.entries(v.shared)) assert.equal(page[name], value, name);
  // The page's own: its data channel's buffer marks (peer.js), which the CLI's stack keeps itself.
  const ownToThePage = ['HIGH_WATER', 'LOW_WATER'];
  for (const name of Object.keys(page)) {
    assert.ok(name in v.shared || ownToThePage.includes(name), `${name} (lib/proto/limits.js) is not in limits.json`);
  }
  for (const name of Object.keys(v.server_only)) assert.ok(!(name in page), `${name} is the server's`);
});
