/**
 * @file Safe file names (`docs/protocol.md` §7): the only gate a peer's file name passes before
 * the UI shows it or a file is written under it. Names are refused, never repaired. Mirrors
 * `crates/pairwise-proto/src/name.rs` and is checked against `testdata/vectors/names.json`.
 */

import { ProtocolError } from './errors.js';
import { MAX_NAME_BYTES } from './limits.js';

const RESERVED = new Set([
  'CON', 'PRN', 'AUX', 'NUL',
  'COM1', 'COM2', 'COM3', 'COM4', 'COM5', 'COM6', 'COM7', 'COM8', 'COM9',
  'LPT1', 'LPT2', 'LPT3', 'LPT4', 'LPT5', 'LPT6', 'LPT7', 'LPT8', 'LPT9',
]);

/** Unicode category Cc: U+0000–U+001F and U+007F–U+009F. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Characters that change how the text around them reads without being seen (§7): bidirectional
 * formatting (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069) and invisible ones (U+00AD,
 * U+115F, U+1160, U+180E, U+200B, U+2060–U+2064, U+3164, U+FEFF, U+FFA0). The joiners U+200C and
 * U+200D stay allowed: emoji and several scripts need them. Mirrors `name::hides_or_reorders`.
 */
export const HIDES_OR_REORDERS = /[\u00ad\u061c\u115f\u1160\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0]/;

/** Lone surrogates cannot be UTF-8, so such a string is no file name. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether `s` has no lone surrogates, i.e. is valid Unicode and so has a UTF-8 form
 * (`String.prototype.isWellFormed`, which is newer than ES2022).
 * @param {string} s
 * @returns {boolean}
 */
export function isWellFormed(s) {
  return !LONE_SURROGATE.test(s);
}

/**
 * UTF-8 length of a string without lone surrogates.
 * @param {string} s
 * @returns {number}
 */
function utf8Length(s) {
  let n = 0;
  for (const ch of s) {
    const cp = /** @type {number} */ (ch.codePointAt(0));
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/**
 * Checks a file name from a peer against every rule of §7 and returns it unchanged.
 * @param {string} s
 * @returns {string} `s` itself
 * @throws {ProtocolError} `bad-name`, naming the first rule broken
 */
export function parseSafeName(s) {
  /** @param {string} why */
  const bad = (why) => new ProtocolError('bad-name', why);
  if (typeof s !== 'string') throw bad('not a string');
  if (s.length === 0) throw bad('empty');
  if (!isWellFormed(s)) throw bad('not valid Unicode');
  if (utf8Length(s) > MAX_NAME_BYTES) throw bad(`longer than ${MAX_NAME_BYTES} bytes`);
  if (s.includes('/') || s.includes('\\')) throw bad('path separator');
  if (CONTROL.test(s)) throw bad('control character');
  if (HIDES_OR_REORDERS.test(s)) throw bad('bidirectional formatting or invisible character');
  if (s === '.' || s === '..') throw bad('dot name');
  if (s.endsWith('.') || s.endsWith(' ')) throw bad("ends with '.' or a space");
  if (s.includes(':')) throw bad("contains ':'");
  const stem = s.split('.', 1)[0];
  // ASCII-only upper-casing, like Rust's eq_ignore_ascii_case.
  const upper = stem.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32));
  if (RESERVED.has(upper)) throw bad('reserved device name');
  return s;
}

/**
 * The `n`th alternative to a taken name: ` (n)` before the extension (`a.txt` → `a (1).txt`,
 * `.profile` → `.profile (1)`), as the CLI names a file it keeps beside another.
 * @param {string} name
 * @param {number} n
 * @returns {string}
 */
export function alternativeName(name, n) {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${stem} (${n})${ext}`;
}
