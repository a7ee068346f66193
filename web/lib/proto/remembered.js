/**
 * @file Remembered devices (`docs/protocol.md` §10), sans IO: the UTC day, the pair's daily
 * room, the fixed roles, and the `forgotten` / `not-paired` notices. The reconnection handshake
 * itself is `Handshake` with `mode: 'reconnect'`. Mirrors `handshake/reconnect.rs` and
 * `handshake/forget.rs` of `crates/pairwise-proto`; checked against
 * `testdata/vectors/remembered.json`.
 */

/** @import { Role } from '../../types/protocol.js' */

import { b64uEncode } from './b64.js';
import { ProtocolError } from './errors.js';
import { bytesEqual, concat, decodeField, hasExactKeys } from './bytes.js';
import { MAC_BYTES } from './handshake.js';
import { importHmac } from './key-schedule.js';
import { bufferSource, deriveKeyBytes } from './keys.js';

/** HKDF and MAC labels of §10. */
export const REMEMBERED_LABELS = Object.freeze({
  deviceRoom: 'pairwise/v1/device-room',
  forgetKey: 'pairwise/v1/forget-key',
  forgotten: 'pairwise/v1/forgotten',
});

const DAY_MS = 86_400_000;
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * The UTC day number of a time: `floor(unix_seconds / 86400)`. Rooms change at 00:00 UTC.
 * @param {number} unixMs milliseconds since the epoch (`Date.now()`)
 * @returns {number}
 */
export function utcDay(unixMs) {
  return Math.floor(unixMs / DAY_MS);
}

/**
 * The pair's room on UTC day `day`:
 * `b64u(HKDF(ikm = pairing key, salt = "", info = "pairwise/v1/device-room" || u32be(day), 16))`.
 * @param {Uint8Array} pairingKey 32 bytes
 * @param {number} day
 * @returns {Promise<string>} 22 characters
 */
export async function deviceRoom(pairingKey, day) {
  const dayBytes = new Uint8Array(4);
  new DataView(dayBytes.buffer).setUint32(0, day, false);
  return b64uEncode(await deriveKeyBytes(pairingKey, EMPTY, REMEMBERED_LABELS.deviceRoom, dayBytes, 16));
}

/**
 * The role of `own` towards `peer`: the device whose identity key (65 SEC1 bytes) sorts lower
 * is the initiator and makes the WebRTC offer.
 * @param {Uint8Array} own
 * @param {Uint8Array} peer
 * @returns {Role}
 * @throws {ProtocolError} `peer-misbehaved` if both keys are the same
 */
export function reconnectRole(own, peer) {
  const n = Math.min(own.length, peer.length);
  for (let i = 0; i < n; i++) {
    if (own[i] !== peer[i]) return own[i] < peer[i] ? 'initiator' : 'responder';
  }
  if (own.length === peer.length) throw new ProtocolError('peer-misbehaved', 'peer has our own identity');
  return own.length < peer.length ? 'initiator' : 'responder';
}

/**
 * `HMAC(K_forget, "pairwise/v1/forgotten" || N_receiver || I_sender || I_receiver)` with
 * `K_forget = HKDF(ikm = pairing key, salt = "", info = "pairwise/v1/forget-key", 32)`.
 * @param {Uint8Array} pairingKey
 * @param {{ nonce: Uint8Array, identity: Uint8Array }} receiver the forgotten device's hello values
 * @param {Uint8Array} sender the forgetting device's identity
 * @returns {Promise<{ key: CryptoKey, data: Uint8Array }>}
 */
async function forgottenInput(pairingKey, receiver, sender) {
  const raw = await deriveKeyBytes(pairingKey, EMPTY, REMEMBERED_LABELS.forgetKey, EMPTY, 32);
  const key = await importHmac(raw);
  raw.fill(0);
  const data = concat([encoder.encode(REMEMBERED_LABELS.forgotten), receiver.nonce, sender, receiver.identity]);
  return { key, data };
}

/**
 * The `forgotten` notice a device that forgot a pairing sends in answer to that device's hello.
 * @param {Uint8Array} pairingKey the pairing key kept in the tombstone
 * @param {{ nonce: Uint8Array, identity: Uint8Array }} peerHello the forgotten device's hello values
 * @param {Uint8Array} ownIdentity this (forgetting) device's identity
 * @returns {Promise<{ kind: 'forgotten', mac: string }>}
 */
export async function forgottenNotice(pairingKey, peerHello, ownIdentity) {
  const { key, data } = await forgottenInput(pairingKey, peerHello, ownIdentity);
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, bufferSource(data)));
  return { kind: 'forgotten', mac: b64uEncode(mac) };
}

/**
 * Checks a `forgotten` body from the remembered device `peerIdentity` against the hello this
 * side sent. Only a notice that verifies may make the application delete the pairing.
 * @param {unknown} body the relayed body
 * @param {Uint8Array} pairingKey
 * @param {Uint8Array} peerIdentity the remembered device's identity
 * @param {{ nonce: Uint8Array, identity: Uint8Array }} ownHello this side's hello values
 * @returns {Promise<void>}
 * @throws {ProtocolError} `peer-misbehaved` if malformed, `verify-failed` if the MAC is wrong
 */
export async function verifyForgotten(body, pairingKey, peerIdentity, ownHello) {
  if (!hasExactKeys(body, ['kind', 'mac']) || /** @type {{ kind: unknown }} */ (body).kind !== 'forgotten') {
    throw new ProtocolError('peer-misbehaved', 'malformed forgotten notice');
  }
  /** @type {Uint8Array} */
  let mac;
  try {
    mac = decodeField(/** @type {{ mac: unknown }} */ (body).mac, MAC_BYTES, 'mac');
  } catch (e) {
    throw new ProtocolError('peer-misbehaved', e instanceof Error ? e.message : 'bad mac');
  }
  const { key, data } = await forgottenInput(pairingKey, ownHello, peerIdentity);
  const ok = await globalThis.crypto.subtle.verify('HMAC', key, bufferSource(mac), bufferSource(data));
  if (!ok) throw new ProtocolError('verify-failed', 'forgotten notice does not verify');
}

/**
 * The `not-paired` body: sent in a pair's room to a hello from an identity this device did
 * not pair with. Not authenticated; it only explains a refusal.
 * @returns {{ kind: 'not-paired' }}
 */
export function notPairedBody() {
  return { kind: 'not-paired' };
}

/**
 * Whether `body` is exactly a `not-paired` body.
 * @param {unknown} body
 * @returns {boolean}
 */
export function isNotPaired(body) {
  return hasExactKeys(body, ['kind']) && /** @type {{ kind: unknown }} */ (body).kind === 'not-paired';
}

