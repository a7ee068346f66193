/**
 * @file The key schedule of protocol v1 (`docs/protocol.md` §5.1, §5.2), sans IO: the DTLS
 * fingerprint of an SDP, the transcript hash `th`, `ikm`, the HKDF-derived keys, the
 * verification code and the confirm MAC, plus importing the derived keys into WebCrypto.
 * `handshake.js` runs them in order; checked against `testdata/vectors/handshake.json` and
 * `sdp.json` (mirrors `keys.rs` and `handshake/` of `crates/pairwise-proto`).
 */

/** @import { SessionSecrets } from '../../types/protocol.js' */

import { concat } from './bytes.js';
import { ProtocolError } from './errors.js';
import { bufferSource, deriveKeyBytes, ecdh, sha256 } from './keys.js';

/** HKDF labels and the transcript label (§5.1, §5.2). */
export const LABELS = Object.freeze({
  transcript: 'pairwise/v1/transcript',
  reconnectTranscript: 'pairwise/v1/reconnect-transcript',
  confirmInitiator: 'pairwise/v1/confirm/initiator',
  confirmResponder: 'pairwise/v1/confirm/responder',
  recordInitiator: 'pairwise/v1/record/initiator',
  recordResponder: 'pairwise/v1/record/responder',
  sas: 'pairwise/v1/sas',
  pairingKey: 'pairwise/v1/pairing-key',
});

const encoder = new TextEncoder();
const FINGERPRINT_PREFIX = 'a=fingerprint:';

/**
 * The DTLS fingerprint of the first line of `sdp` that starts with `a=fingerprint:`, canonical:
 * `lowercase(algorithm) + " " + UPPERCASE(hex:pairs)`. Lines end in `\n` or `\r\n`; trailing
 * spaces are ignored.
 * @param {string} sdp
 * @returns {string} e.g. `sha-256 AB:CD:…`
 * @throws {ProtocolError} `peer-misbehaved` if there is no such line or it is malformed
 */
export function sdpFingerprint(sdp) {
  /** @param {string} why */
  const bad = (why) => new ProtocolError('peer-misbehaved', why);
  if (typeof sdp !== 'string') throw bad('sdp is not a string');
  const line = sdp.split('\n').find((l) => l.startsWith(FINGERPRINT_PREFIX));
  if (line === undefined) throw bad('sdp has no a=fingerprint line');
  const value = line.slice(FINGERPRINT_PREFIX.length).replace(/[\r ]+$/, '');
  const space = value.indexOf(' ');
  if (space < 0) throw bad('malformed a=fingerprint line');
  const algorithm = value.slice(0, space);
  const digits = value.slice(space + 1);
  const ok =
    /^[A-Za-z0-9-]+$/.test(algorithm) &&
    digits.split(':').every((pair) => /^[0-9A-Fa-f]{2}$/.test(pair)) &&
    value.length <= 0xffff;
  if (!ok) throw bad('malformed a=fingerprint line');
  return `${algorithm.toLowerCase()} ${digits.toUpperCase()}`;
}

/**
 * One side's `hello` values as bytes.
 * @typedef {object} HelloBytes
 * @property {Uint8Array} identity 65-byte public key
 * @property {Uint8Array} ephemeral 65-byte public key
 * @property {Uint8Array} nonce 32 bytes
 */

/**
 * `th = SHA-256("pairwise/v1/transcript" || I_init || E_init || N_init || I_resp || E_resp ||
 * N_resp || u16be(len(fp_offer)) || fp_offer || u16be(len(fp_answer)) || fp_answer)`.
 * Remembered devices (§10.3) use the label `pairwise/v1/reconnect-transcript` instead.
 * @param {{ initiator: HelloBytes, responder: HelloBytes, fpOffer: string, fpAnswer: string,
 *   label?: string }} t
 * @returns {Promise<Uint8Array>} 32 bytes
 */
export async function transcriptHash({ initiator, responder, fpOffer, fpAnswer, label = LABELS.transcript }) {
  /** @type {Uint8Array[]} */
  const parts = [encoder.encode(label)];
  for (const h of [initiator, responder]) parts.push(h.identity, h.ephemeral, h.nonce);
  for (const fp of [fpOffer, fpAnswer]) {
    const bytes = encoder.encode(fp);
    if (bytes.length > 0xffff) throw new RangeError('fingerprint longer than 65535 bytes');
    parts.push(new Uint8Array([bytes.length >> 8, bytes.length & 0xff]), bytes);
  }
  return sha256(concat(parts));
}

/**
 * `ikm = ECDH(E_self, E_peer) || ECDH(I_self, I_peer)`, 64 bytes.
 * @param {CryptoKey} ephemeralPrivate own ephemeral private key
 * @param {Uint8Array} peerEphemeral the peer's ephemeral public key
 * @param {CryptoKey} identityPrivate own identity private key
 * @param {Uint8Array} peerIdentity the peer's identity public key
 * @returns {Promise<Uint8Array>}
 */
export async function computeIkm(ephemeralPrivate, peerEphemeral, identityPrivate, peerIdentity) {
  const e = await ecdh(ephemeralPrivate, peerEphemeral);
  const i = await ecdh(identityPrivate, peerIdentity);
  return concat([e, i]);
}

/**
 * Every key of the schedule as raw bytes: `K(label, L) = HKDF(ikm, salt = s, label || th, L)`.
 * @param {Uint8Array} ikm 64 bytes
 * @param {Uint8Array} secret the pairing secret `s` (the salt)
 * @param {Uint8Array} th the transcript hash
 * @returns {Promise<SessionSecrets>}
 */
export async function deriveSessionSecrets(ikm, secret, th) {
  /** @param {string} label @param {number} len */
  const k = (label, len) => deriveKeyBytes(ikm, secret, label, th, len);
  return {
    confirmInitiator: await k(LABELS.confirmInitiator, 32),
    confirmResponder: await k(LABELS.confirmResponder, 32),
    recordInitiator: await k(LABELS.recordInitiator, 32),
    recordResponder: await k(LABELS.recordResponder, 32),
    pairingKey: await k(LABELS.pairingKey, 32),
    sasBytes: await k(LABELS.sas, 4),
  };
}

/**
 * The verification code: `u32be(bytes) mod 1 000 000`, six digits, zero-padded, no space.
 * @param {Uint8Array} sasBytes 4 bytes
 * @returns {string}
 */
export function sasFromBytes(sasBytes) {
  if (sasBytes.length !== 4) throw new RangeError('sas bytes must be 4');
  const n = new DataView(sasBytes.buffer, sasBytes.byteOffset, 4).getUint32(0, false);
  return String(n % 1_000_000).padStart(6, '0');
}

/**
 * `HMAC-SHA-256(confirmKey, th)`, the MAC of a `confirm`.
 * @param {Uint8Array} confirmKey 32 bytes
 * @param {Uint8Array} th
 * @returns {Promise<Uint8Array>}
 */
export async function confirmMac(confirmKey, th) {
  const key = await importHmac(confirmKey);
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, bufferSource(th)));
}

/**
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 */
export function importHmac(raw) {
  return globalThis.crypto.subtle.importKey(
    'raw',
    bufferSource(raw),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
}

/**
 * @param {Uint8Array} raw
 * @param {'encrypt' | 'decrypt'} usage
 * @returns {Promise<CryptoKey>}
 */
export function importAesGcm(raw, usage) {
  return globalThis.crypto.subtle.importKey('raw', bufferSource(raw), { name: 'AES-GCM' }, false, [usage]);
}
