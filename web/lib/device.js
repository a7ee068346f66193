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
 * A default name for this browser from its user agent, e.g. "Chrome on Android".
 * @param {string} userAgent
 * @returns {string}
 */
export function defaultDeviceName(userAgent) {
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
  return os ? `${browser} on ${os}` : browser;
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
