/**
 * @file Primitives below the vectors: canonical base64url and hex, HKDF-SHA-256 against
 * RFC 5869 appendix A (cases 1 and 3), ECDH agreement, the pairing link's own edge cases, and
 * the error catalogue helpers.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { b64uDecode, b64uEncode, fromHex, hex } from '../lib/proto/b64.js';
import { ERRORS, ProtocolError, sentence } from '../lib/proto/errors.js';
import { deriveKeyBytes, ecdh, generateKeyPair, importPublicKey, randomBytes } from '../lib/proto/keys.js';
import { encodeLink, parsePairFragment, roomId } from '../lib/proto/link.js';

test('b64u: round trips of every length, URL alphabet, no padding', () => {
  for (let n = 0; n < 70; n++) {
    const bytes = randomBytes(n);
    const text = b64uEncode(bytes);
    assert.equal(text, Buffer.from(bytes).toString('base64url'));
    assert.deepEqual(b64uDecode(text), bytes);
  }
  assert.equal(b64uEncode(new Uint8Array([0xfb, 0xff])), '-_8');
});

test('b64u: only the canonical form decodes', () => {
  for (const bad of ['-_8=', '+/8', '-_9', ' -_8', '-_8 ', 'A', 'AAAAA', '-_\n8', 'é', 'AB==', 'AB=']) {
    assert.throws(() => b64uDecode(bad), TypeError, JSON.stringify(bad));
  }
  assert.deepEqual(b64uDecode(''), new Uint8Array(0));
});

test('hex round trip', () => {
  assert.equal(hex(new Uint8Array([0, 1, 0xab, 0xff])), '0001abff');
  assert.deepEqual(fromHex('0001ABff'), new Uint8Array([0, 1, 0xab, 0xff]));
  assert.throws(() => fromHex('abc'), TypeError);
  assert.throws(() => fromHex('zz'), TypeError);
});

test('HKDF-SHA-256: RFC 5869 A.1 and A.3 (empty salt and info)', async () => {
  const okm1 = await deriveKeyBytes(
    fromHex('0b'.repeat(22)),
    fromHex('000102030405060708090a0b0c'),
    '',
    fromHex('f0f1f2f3f4f5f6f7f8f9'),
    42,
  );
  assert.equal(hex(okm1), '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  const okm3 = await deriveKeyBytes(fromHex('0b'.repeat(22)), new Uint8Array(0), '', new Uint8Array(0), 42);
  assert.equal(hex(okm3), '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
  // The label and th are concatenated into info.
  const split = await deriveKeyBytes(fromHex('0b'.repeat(22)), fromHex('00'), 'pairwise/', new TextEncoder().encode('v1'), 32);
  const joined = await deriveKeyBytes(fromHex('0b'.repeat(22)), fromHex('00'), 'pairwise/v1', new Uint8Array(0), 32);
  assert.deepEqual(split, joined);
});

test('ECDH agrees on both sides and refuses invalid points', async () => {
  const a = await generateKeyPair();
  const b = await generateKeyPair();
  const ab = await ecdh(a.privateKey, b.publicRaw);
  assert.equal(ab.length, 32);
  assert.deepEqual(ab, await ecdh(b.privateKey, a.publicRaw));
  const bad = b.publicRaw.slice();
  bad[64] ^= 1;
  await assert.rejects(ecdh(a.privateKey, bad), TypeError);
  await assert.rejects(importPublicKey(b.publicRaw.subarray(0, 33)), TypeError);
  await assert.rejects(importPublicKey(new Uint8Array(65)), TypeError);
});

test('pairing link: origin, fragment parameters, room length', async () => {
  const secret = randomBytes(32);
  const { publicRaw } = await generateKeyPair();
  const link = encodeLink('https://h:8443/', secret, publicRaw);
  const url = new URL(link);
  assert.equal(url.origin + url.pathname, 'https://h:8443/');
  assert.equal(url.hash.length, 1 + 5 + 88);
  const parsed = await parsePairFragment(url.hash);
  assert.deepEqual(parsed, { secret, identityPub: publicRaw });
  assert.deepEqual(await parsePairFragment(`${url.hash}&v=2`), parsed);
  for (const bad of [`##${url.hash.slice(1)}`, `${url.hash}&${url.hash.slice(1)}`, `${url.hash}x`, 'pair=']) {
    await assert.rejects(parsePairFragment(bad), (e) => e instanceof ProtocolError && e.code === 'bad-link', bad);
  }
  const room = await roomId(secret);
  assert.match(room, /^[A-Za-z0-9_-]{22}$/);
  assert.notEqual(room, await roomId(randomBytes(32)));
  assert.throws(() => encodeLink('https://h', secret.subarray(1), publicRaw), TypeError);
});

test('link: keys of both Y parities come back whole from the compressed link', async () => {
  const parities = new Set();
  for (let i = 0; i < 16; i++) {
    const secret = randomBytes(32);
    const { publicRaw } = await generateKeyPair();
    parities.add(publicRaw[64] & 1);
    const parsed = await parsePairFragment(new URL(encodeLink('http://h', secret, publicRaw)).hash);
    assert.deepEqual(parsed.identityPub, publicRaw);
  }
  assert.equal(parities.size, 2, 'sixteen random keys have both parities (1 in 32768 to fail)');
});

test('errors: codes, sentences and ProtocolError', () => {
  assert.equal(Object.keys(ERRORS).length, 28);
  assert.equal(sentence('verify-failed'), ERRORS['verify-failed']);
  // The server's refusal for too many sessions has its own sentence, not a lost connection's.
  assert.match(sentence('rate-limited'), /refusing new sessions from this network/);
  assert.match(sentence('no-such-code'), /\S/);
  assert.equal(sentence('toString'), sentence('no-such-code'));
  const e = new ProtocolError('record-rejected', 'tag');
  assert.ok(e instanceof Error);
  assert.equal(e.code, 'record-rejected');
  assert.equal(e.name, 'ProtocolError');
  assert.match(e.message, /tag/);
});
