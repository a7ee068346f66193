/**
 * @file The pairing link shown as a QR code (`docs/protocol.md` §2) and the room derived from its
 * secret (§3): `<origin>/#pair=b64u(0x02 || s[32] || I_init_pub compressed[33])`, 88 characters;
 * version 1 (`0x01 || s[32] || I_init_pub[65]`, 131 characters) from older peers is still read.
 * Parsing is strict and every refusal is `bad-link`. Pure: the caller passes the origin and `location.hash`. Mirrors
 * `link.rs` and `ids.rs` of `crates/pairwise-proto`; checked against `testdata/vectors/link.json`.
 */

import { b64uDecode, b64uEncode } from './b64.js';
import { ProtocolError } from './errors.js';
import {
  COMPRESSED_PUBLIC_KEY_BYTES,
  PUBLIC_KEY_BYTES,
  compressPublicKey,
  decompressPublicKey,
  deriveKeyBytes,
  isValidPublicKey,
} from './keys.js';

/** The link version byte this side writes: the key compressed. */
export const LINK_VERSION = 0x02;
/** The older link version, still read: the key uncompressed. */
export const LINK_VERSION_1 = 0x01;
/** Bytes of the pairing secret `s`. */
export const SECRET_BYTES = 32;
/** Bytes of the decoded link payload this side writes: version, secret, compressed key (66). */
export const LINK_PAYLOAD_BYTES = 1 + SECRET_BYTES + COMPRESSED_PUBLIC_KEY_BYTES;
/** Bytes of a version 1 payload: version, secret, uncompressed key (98). */
export const LINK_V1_PAYLOAD_BYTES = 1 + SECRET_BYTES + PUBLIC_KEY_BYTES;

const PARAM = 'pair=';
const ROOM_LABEL = 'pairwise/v1/room';

/**
 * The fragment without `#`: `pair=` and 88 base64url characters (version 2).
 * @param {Uint8Array} secret 32 bytes
 * @param {Uint8Array} identityPub the initiator's 65-byte identity public key
 * @returns {string}
 * @throws {TypeError} for inputs of the wrong length
 */
export function encodeFragment(secret, identityPub) {
  if (secret.length !== SECRET_BYTES) throw new TypeError('pairing secret must be 32 bytes');
  if (identityPub.length !== PUBLIC_KEY_BYTES || identityPub[0] !== 0x04) {
    throw new TypeError('identity key must be 65 bytes, uncompressed');
  }
  const payload = new Uint8Array(LINK_PAYLOAD_BYTES);
  payload[0] = LINK_VERSION;
  payload.set(secret, 1);
  payload.set(compressPublicKey(identityPub), 1 + SECRET_BYTES);
  return PARAM + b64uEncode(payload);
}

/**
 * The full pairing link: `${origin}/#pair=...`.
 * @param {string} origin e.g. `https://host:8443` (a trailing `/` is dropped)
 * @param {Uint8Array} secret 32 bytes
 * @param {Uint8Array} identityPub the initiator's 65-byte identity public key
 * @returns {string}
 */
export function encodeLink(origin, secret, identityPub) {
  return `${origin.replace(/\/+$/, '')}/#${encodeFragment(secret, identityPub)}`;
}

/**
 * Parses a link fragment: `&`-separated parameters with an optional leading `#`, exactly one of
 * them `pair=<b64u>`: version 2 (66 bytes) or 1 (98 bytes), a valid P-256 point.
 * @param {string} hash `location.hash` (`#pair=...`) or the fragment without `#`
 * @returns {Promise<{ secret: Uint8Array, identityPub: Uint8Array }>} the key uncompressed
 *   (65 bytes), whichever version the link has
 * @throws {ProtocolError} `bad-link`, naming the first problem
 */
export async function parsePairFragment(hash) {
  /** @param {string} why */
  const bad = (why) => new ProtocolError('bad-link', why);
  if (typeof hash !== 'string') throw bad('not a string');
  const fragment = hash.startsWith('#') ? hash.slice(1) : hash;
  const params = fragment.split('&').filter((p) => p.startsWith(PARAM));
  if (params.length !== 1) throw bad('fragment has no single pair= parameter');
  /** @type {Uint8Array} */
  let bytes;
  try {
    bytes = b64uDecode(params[0].slice(PARAM.length));
  } catch {
    throw bad('payload is not canonical base64url');
  }
  const version = bytes.length > 0 ? bytes[0] : LINK_VERSION;
  if (version !== LINK_VERSION && version !== LINK_VERSION_1) {
    throw bad(`link version ${version} is not supported`);
  }
  const expected = version === LINK_VERSION ? LINK_PAYLOAD_BYTES : LINK_V1_PAYLOAD_BYTES;
  if (bytes.length !== expected) throw bad(`payload of ${bytes.length} bytes, expected ${expected}`);
  const secret = bytes.slice(1, 1 + SECRET_BYTES);
  /** @type {Uint8Array} */
  let identityPub = bytes.slice(1 + SECRET_BYTES);
  if (version === LINK_VERSION) {
    try {
      identityPub = decompressPublicKey(identityPub);
    } catch {
      throw bad('key is not a P-256 point');
    }
  }
  // Decompression proves the point is on the curve; WebCrypto checks it again (and v1 keys).
  if (!(await isValidPublicKey(identityPub))) throw bad('key is not a P-256 point');
  return { secret, identityPub };
}

/**
 * The signaling room: `b64u(HKDF(ikm = s, salt = "", info = "pairwise/v1/room", L = 16))`,
 * 22 characters. The server cannot recover `s` from it.
 * @param {Uint8Array} secret the 32-byte pairing secret
 * @returns {Promise<string>}
 */
export async function roomId(secret) {
  const bytes = await deriveKeyBytes(secret, new Uint8Array(0), ROOM_LABEL, new Uint8Array(0), 16);
  return b64uEncode(bytes);
}
