/**
 * @file Small byte and JSON-shape helpers the protocol modules share: strict fixed-length
 * base64url fields, exact key sets of a parsed JSON object, constant-time equality, concat.
 */

import { b64uDecode } from './b64.js';

/**
 * @param {unknown} value
 * @param {number} length
 * @param {string} what
 * @returns {Uint8Array}
 */
export function decodeField(value, length, what) {
  if (typeof value !== 'string') throw new Error(`${what} is not a string`);
  /** @type {Uint8Array} */
  let bytes;
  try {
    bytes = b64uDecode(value);
  } catch {
    throw new Error(`${what} is not canonical base64url`);
  }
  if (bytes.length !== length) throw new Error(`${what} is not ${length} bytes`);
  return bytes;
}

/**
 * Whether `v` is a plain object with exactly `keys` as its own keys.
 * @param {unknown} v
 * @param {string[]} keys
 * @returns {boolean}
 */
export function hasExactKeys(v, keys) {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const own = Object.keys(v);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(v, k));
}

/**
 * Equality without an early exit.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * @param {Uint8Array[]} parts
 * @returns {Uint8Array}
 */
export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
