/**
 * @file Key material with WebCrypto only (`docs/protocol.md` §1, §3, §5.2): P-256 key pairs
 * whose private half never leaves WebCrypto, ECDH, HKDF-SHA-256 with a label and the transcript
 * hash, and random bytes. Pure: no DOM, no network. Mirrors `identity.rs` and `keys.rs` of
 * `crates/pairwise-proto`.
 */

/** @import { KeyPair } from '../../types/protocol.js' */

/** Bytes of an uncompressed SEC1 P-256 public key: `0x04 || X || Y`. */
export const PUBLIC_KEY_BYTES = 65;
/** Bytes of a compressed SEC1 P-256 public key: `0x02`/`0x03` (parity of Y) `|| X`. */
export const COMPRESSED_PUBLIC_KEY_BYTES = 33;

// P-256 (SEC 2): y² = x³ − 3x + b over GF(p).
const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;

const EC = { name: 'ECDH', namedCurve: 'P-256' };
const encoder = new TextEncoder();

/**
 * The same bytes typed as a WebCrypto `BufferSource` (our arrays are never shared memory).
 * @param {Uint8Array} bytes
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function bufferSource(bytes) {
  return /** @type {Uint8Array<ArrayBuffer>} */ (bytes);
}

/**
 * `n` bytes from the platform CSPRNG.
 * @param {number} n
 * @returns {Uint8Array}
 */
export function randomBytes(n) {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 65 536 bytes per call.
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/**
 * A fresh P-256 ECDH key pair; the private key is not extractable.
 * @returns {Promise<KeyPair>}
 */
export async function generateKeyPair() {
  const pair = /** @type {CryptoKeyPair} */ (
    await globalThis.crypto.subtle.generateKey(EC, false, ['deriveBits'])
  );
  const publicRaw = new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicRaw };
}

/**
 * Imports a 65-byte uncompressed public key, refusing anything that is not a valid P-256 point
 * (wrong length, compressed or other prefix, not on the curve).
 * @param {Uint8Array} raw
 * @returns {Promise<CryptoKey>}
 * @throws {TypeError} if `raw` is not a valid point
 */
export async function importPublicKey(raw) {
  if (!(raw instanceof Uint8Array) || raw.length !== PUBLIC_KEY_BYTES || raw[0] !== 0x04) {
    throw new TypeError('not an uncompressed P-256 public key');
  }
  try {
    return await globalThis.crypto.subtle.importKey('raw', bufferSource(raw), EC, true, []);
  } catch {
    throw new TypeError('not a point on P-256');
  }
}

/**
 * The compressed form of a 65-byte uncompressed public key (no curve check: it came from
 * WebCrypto or was checked when parsed).
 * @param {Uint8Array} raw `0x04 || X || Y`
 * @returns {Uint8Array} `0x02`/`0x03 || X`
 * @throws {TypeError} if `raw` is not 65 bytes starting with `0x04`
 */
export function compressPublicKey(raw) {
  if (raw.length !== PUBLIC_KEY_BYTES || raw[0] !== 0x04) {
    throw new TypeError('not an uncompressed P-256 public key');
  }
  const out = new Uint8Array(COMPRESSED_PUBLIC_KEY_BYTES);
  out[0] = 0x02 | (raw[64] & 1);
  out.set(raw.subarray(1, 33), 1);
  return out;
}

/**
 * The uncompressed form of a 33-byte compressed public key, refusing a prefix other than
 * `0x02`/`0x03`, an X not below p and an X with no point on the curve. Done here with BigInt
 * rather than by WebCrypto, whose browsers differ on importing compressed points: since
 * p ≡ 3 (mod 4), y = (x³ − 3x + b)^((p+1)/4) mod p is a square root if one exists.
 * @param {Uint8Array} raw `0x02`/`0x03 || X`
 * @returns {Uint8Array} `0x04 || X || Y`
 * @throws {TypeError} if `raw` is not a compressed P-256 point
 */
export function decompressPublicKey(raw) {
  if (raw.length !== COMPRESSED_PUBLIC_KEY_BYTES || (raw[0] !== 0x02 && raw[0] !== 0x03)) {
    throw new TypeError('not a compressed P-256 public key');
  }
  const x = toBigInt(raw.subarray(1));
  if (x >= P) throw new TypeError('X is not below the field prime');
  const rhs = (((x * x * x - 3n * x + B) % P) + P) % P;
  let y = modPow(rhs, (P + 1n) / 4n);
  if ((y * y) % P !== rhs) throw new TypeError('no point on P-256 has this X');
  if (Number(y & 1n) !== (raw[0] & 1)) y = (P - y) % P;
  if (Number(y & 1n) !== (raw[0] & 1)) throw new TypeError('no point with this parity');
  const out = new Uint8Array(PUBLIC_KEY_BYTES);
  out[0] = 0x04;
  out.set(raw.subarray(1), 1);
  out.set(fromBigInt(y), 33);
  return out;
}

/**
 * @param {Uint8Array} bytes big-endian
 * @returns {bigint}
 */
function toBigInt(bytes) {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return n;
}

/**
 * @param {bigint} n below 2^256
 * @returns {Uint8Array} 32 bytes, big-endian
 */
function fromBigInt(n) {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

/**
 * `base^exp mod P` by square and multiply.
 * @param {bigint} base
 * @param {bigint} exp
 * @returns {bigint}
 */
function modPow(base, exp) {
  let result = 1n;
  for (base %= P; exp > 0n; exp >>= 1n, base = (base * base) % P) {
    if (exp & 1n) result = (result * base) % P;
  }
  return result;
}

/**
 * Whether `raw` is a valid uncompressed P-256 public key.
 * @param {Uint8Array} raw
 * @returns {Promise<boolean>}
 */
export async function isValidPublicKey(raw) {
  try {
    await importPublicKey(raw);
    return true;
  } catch {
    return false;
  }
}

/**
 * For test vectors only: a key pair from a known 32-byte private scalar (hex). The public key is
 * derived from the scalar by WebCrypto, never taken on trust. The private key is extractable
 * only because the import path needs it; production keys come from `generateKeyPair`.
 * @param {string} privHex 32-byte scalar, hex
 * @returns {Promise<KeyPair>}
 */
export async function importPrivateForTest(privHex) {
  const d = /^[0-9a-f]{64}$/i.test(privHex) ? privHex : '';
  if (!d) throw new TypeError('private scalar must be 32 bytes of hex');
  // PKCS#8 PrivateKeyInfo { v0, id-ecPublicKey/prime256v1, ECPrivateKey { v1, d } } without the
  // optional public key, which WebCrypto computes from d.
  const prefix = '3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420';
  const der = new Uint8Array((prefix + d).match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
  const subtle = globalThis.crypto.subtle;
  const extractable = await subtle.importKey('pkcs8', der, EC, true, ['deriveBits']);
  const jwk = await subtle.exportKey('jwk', extractable);
  const { x, y } = jwk;
  if (!x || !y) throw new TypeError('could not derive the public key');
  const privateKey = await subtle.importKey('jwk', { ...jwk, ext: false }, EC, false, ['deriveBits']);
  const publicKey = await subtle.importKey('jwk', { kty: 'EC', crv: 'P-256', x, y }, EC, true, []);
  const publicRaw = new Uint8Array(await subtle.exportKey('raw', publicKey));
  return { privateKey, publicRaw };
}

/**
 * `ECDH(a, B)`: the 32-byte X coordinate of the shared point.
 * @param {CryptoKey} privateKey own ECDH private key
 * @param {Uint8Array} peerPublicRaw the peer's 65-byte public key
 * @returns {Promise<Uint8Array>}
 * @throws {TypeError} if the peer key is not a valid point
 */
export async function ecdh(privateKey, peerPublicRaw) {
  const pub = await importPublicKey(peerPublicRaw);
  const bits = await globalThis.crypto.subtle.deriveBits({ name: 'ECDH', public: pub }, privateKey, 256);
  return new Uint8Array(bits);
}

/**
 * `HKDF-SHA-256(ikm, salt, info = label || th, L)`.
 * @param {Uint8Array} ikm input key material
 * @param {Uint8Array} salt may be empty
 * @param {string} label ASCII, without terminator
 * @param {Uint8Array} th appended to the label in `info` (empty for the room id)
 * @param {number} length output bytes
 * @returns {Promise<Uint8Array>}
 */
export async function deriveKeyBytes(ikm, salt, label, th, length) {
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('raw', bufferSource(ikm), 'HKDF', false, ['deriveBits']);
  const labelBytes = encoder.encode(label);
  const info = new Uint8Array(labelBytes.length + th.length);
  info.set(labelBytes);
  info.set(th, labelBytes.length);
  const bits = await subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: bufferSource(salt), info },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

/**
 * SHA-256 of `bytes`.
 * @param {Uint8Array} bytes
 * @returns {Promise<Uint8Array>}
 */
export async function sha256(bytes) {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(bytes)));
}
