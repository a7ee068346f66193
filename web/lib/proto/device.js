/**
 * @file Device names (`docs/protocol.md` §10.7): the name a device gives itself and sends in its
 * `device` message, parsed strictly because the other screen shows it. A device name is display
 * text only, never a path, a room or a key. Mirrors `crates/pairwise-proto/src/device.rs`;
 * checked against `testdata/vectors/remembered.json` and `transfer.json`.
 */

import { ProtocolError } from './errors.js';
import { MAX_DEVICE_NAME_CHARS } from './limits.js';
import { HIDES_OR_REORDERS, isWellFormed } from './name.js';

/** Cc controls. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** @param {string} s */
const hasForbidden = (s) => CONTROL.test(s) || HIDES_OR_REORDERS.test(s);

/**
 * Whether `name` is a valid device name: 1 to 64 characters (code points), no control character
 * and none that hides or reorders text (`HIDES_OR_REORDERS`), no white space at either end.
 * @param {string} name
 * @returns {boolean}
 */
export function isDeviceName(name) {
  if (typeof name !== 'string' || name.length === 0) return false;
  if (!isWellFormed(name)) return false;
  if ([...name].length > MAX_DEVICE_NAME_CHARS) return false;
  if (hasForbidden(name)) return false;
  return name.trim() === name;
}

/**
 * A best-effort device name from free text (a user agent, a host name): forbidden characters
 * dropped, trimmed, cut to the limit; `fallback` if nothing valid is left.
 * @param {string} text
 * @param {string} fallback
 * @returns {string}
 */
export function sanitizeDeviceName(text, fallback) {
  const kept = [...text]
    .filter((c) => !hasForbidden(c) && isWellFormed(c))
    .slice(0, MAX_DEVICE_NAME_CHARS)
    .join('')
    .trim();
  return isDeviceName(kept) ? kept : fallback;
}

/**
 * The characters of a default name's suffix: capitals and digits a person reads back and types
 * without doubt, so at most one of each look-alike group (0 O Q D → D; 1 I L; 2 Z → 2; 5 S → 5;
 * 6 G → 6; 8 B → 8; U V → neither).
 */
export const SUFFIX_ALPHABET = 'ACDEFHJKMNPRTWXY23456789';

/**
 * Characters in a default name's suffix: 24³ = 13 824 values, enough to tell apart the few
 * browsers of one kind a person pairs, and short enough to type into `pairwise send --to`.
 */
export const SUFFIX_LENGTH = 3;

/**
 * A random suffix of `SUFFIX_LENGTH` characters from `SUFFIX_ALPHABET`, uniform (bytes past the
 * last whole multiple of the alphabet are drawn again).
 * @param {(n: number) => Uint8Array} [randomBytes] `crypto.getRandomValues` by default
 * @returns {string}
 */
export function nameSuffix(randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  const n = SUFFIX_ALPHABET.length;
  const limit = 256 - (256 % n);
  let out = '';
  while (out.length < SUFFIX_LENGTH) {
    for (const b of randomBytes(SUFFIX_LENGTH)) {
      if (b < limit && out.length < SUFFIX_LENGTH) out += SUFFIX_ALPHABET[b % n];
    }
  }
  return out;
}

/**
 * A default name for this browser from its user agent, e.g. "Chrome on Android (K7R)". Every
 * Chromium on Linux has the same user agent, so the suffix (`nameSuffix()`, chosen once and
 * stored by `store.js`) is what tells two of them apart, on the other's screen and for the CLI's
 * `--to`.
 * @param {string} userAgent
 * @param {string} [suffix] none: the bare "Chrome on Android"
 * @returns {string}
 */
export function defaultDeviceName(userAgent, suffix = '') {
  const browser = /Firefox\//.test(userAgent)
    ? 'Firefox'
    : /Edg\//.test(userAgent)
      ? 'Edge'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : 'Browser';
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(userAgent)
      ? 'iOS'
      : /Mac OS X/.test(userAgent)
        ? 'macOS'
        : /Windows/.test(userAgent)
          ? 'Windows'
          : /CrOS/.test(userAgent)
            ? 'ChromeOS'
            : /Linux/.test(userAgent)
              ? 'Linux'
              : '';
  const kind = os ? `${browser} on ${os}` : browser;
  return suffix ? `${kind} (${suffix})` : kind;
}

/**
 * The payload of a `device` message: UTF-8 JSON `{"name": …}`.
 * @param {string} name a valid device name
 * @returns {Uint8Array}
 */
export function encodeDevicePayload(name) {
  if (!isDeviceName(name)) throw new RangeError('not a valid device name');
  return new TextEncoder().encode(JSON.stringify({ name }));
}

/**
 * Parses a `device` payload strictly: exactly one key, `name`, a valid device name.
 * @param {Uint8Array} payload
 * @returns {string} the name
 * @throws {ProtocolError} `peer-misbehaved`
 */
export function decodeDevicePayload(payload) {
  /** @param {string} why */
  const bad = (why) => new ProtocolError('peer-misbehaved', `device message: ${why}`);
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload));
  } catch {
    throw bad('not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an object');
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'name') throw bad('keys other than "name"');
  const name = /** @type {{ name: unknown }} */ (value).name;
  if (typeof name !== 'string' || !isDeviceName(name)) throw bad('invalid name');
  return name;
}
