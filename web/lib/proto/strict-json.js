/**
 * @file A strict JSON reader for the protocol's small JSON payloads (manifests, resume claims):
 * like `serde_json` with `deny_unknown_fields` on the Rust side, it refuses duplicate keys,
 * raw control characters, bad escapes, lone surrogates, numbers with a sign, fraction or exponent
 * where an integer is expected, and trailing text. `JSON.parse` silently keeps the last of two
 * duplicate keys and accepts lone surrogates, so it cannot be used where Rust and JavaScript
 * must agree byte for byte on what is valid. Pure.
 */

import { ProtocolError } from './errors.js';
import { isWellFormed } from './name.js';

/** A recursive-descent reader over one JSON text; every error is `peer-misbehaved`. */
export class StrictJsonReader {
  #s;
  #i = 0;
  #what;

  /**
   * @param {string} text
   * @param {string} what names the payload in error messages (e.g. "manifest")
   */
  constructor(text, what) {
    this.#s = text;
    this.#what = what;
  }

  /**
   * An object; `member` reads the value of each key (and throws for unknown keys). Duplicate
   * keys are refused.
   * @param {(key: string) => void} member
   * @returns {Set<string>} the keys seen
   */
  object(member) {
    this.#ws();
    this.#expect('{');
    /** @type {Set<string>} */
    const seen = new Set();
    this.#ws();
    if (this.#peek() === '}') {
      this.#i++;
      return seen;
    }
    for (;;) {
      this.#ws();
      const key = this.string();
      if (seen.has(key)) throw this.bad(`duplicate field ${key}`);
      seen.add(key);
      this.#ws();
      this.#expect(':');
      this.#ws();
      member(key);
      this.#ws();
      const c = this.#next();
      if (c === '}') return seen;
      if (c !== ',') throw this.bad('expected , or }');
    }
  }

  /**
   * An array of `item`s, at most `max` of them.
   * @template T
   * @param {() => T} item
   * @param {number} max
   * @returns {T[]}
   */
  array(item, max) {
    this.#ws();
    this.#expect('[');
    /** @type {T[]} */
    const out = [];
    this.#ws();
    if (this.#peek() === ']') {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#ws();
      if (out.length >= max) throw this.bad(`more than ${max} entries`);
      out.push(item());
      this.#ws();
      const c = this.#next();
      if (c === ']') return out;
      if (c !== ',') throw this.bad('expected , or ]');
    }
  }

  /**
   * A non-negative JSON integer without sign, fraction or exponent, at most `max`.
   * @param {number} [max] defaults to 2^53 - 1
   * @returns {number}
   */
  uint(max = Number.MAX_SAFE_INTEGER) {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.#s.slice(this.#i, this.#i + 400));
    if (!m) throw this.bad('expected a number');
    if (m[0].startsWith('-') || m[1] !== undefined || m[2] !== undefined) {
      throw this.bad('expected a non-negative integer');
    }
    if (m[0].length > 16 || Number(m[0]) > max) throw this.bad(`integer ${m[0]} exceeds ${max}`);
    this.#i += m[0].length;
    return Number(m[0]);
  }

  /**
   * A non-negative JSON integer that fits in 64 bits (as `serde` reads a `u64`), as its
   * digits: the caller applies its own, smaller limit later, in the order the Rust side does.
   * @returns {string}
   */
  uintDigits() {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.#s.slice(this.#i, this.#i + 400));
    if (!m) throw this.bad('expected a number');
    if (m[0].startsWith('-') || m[1] !== undefined || m[2] !== undefined) {
      throw this.bad('expected a non-negative integer');
    }
    if (m[0].length > 20 || BigInt(m[0]) > 0xffffffffffffffffn) throw this.bad('integer exceeds u64');
    this.#i += m[0].length;
    return m[0];
  }

  /** @returns {boolean} */
  bool() {
    for (const [word, value] of /** @type {const} */ ([['true', true], ['false', false]])) {
      if (this.#s.startsWith(word, this.#i)) {
        this.#i += word.length;
        return value;
      }
    }
    throw this.bad('expected true or false');
  }

  /**
   * A JSON string: no raw control characters, valid escapes, no lone surrogates.
   * @returns {string}
   */
  string() {
    this.#expect('"');
    let out = '';
    for (;;) {
      const c = this.#next();
      if (c === '"') break;
      if (c === '\\') {
        const e = this.#next();
        const simple = /** @type {Record<string, string>} */ ({
          '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t',
        })[e];
        if (simple !== undefined) out += simple;
        else if (e === 'u') out += String.fromCharCode(this.#hex4());
        else throw this.bad('bad escape');
      } else if (c < ' ') {
        throw this.bad('control character in string');
      } else {
        out += c;
      }
    }
    if (!isWellFormed(out)) throw this.bad('lone surrogate in string');
    return out;
  }

  /** Requires the end of the text (white space allowed). */
  end() {
    this.#ws();
    if (this.#i !== this.#s.length) throw this.bad('trailing characters');
  }

  /**
   * @param {string} why
   * @returns {ProtocolError}
   */
  bad(why) {
    return new ProtocolError('peer-misbehaved', `${this.#what}: ${why}`);
  }

  #hex4() {
    const h = this.#s.slice(this.#i, this.#i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) throw this.bad('bad \\u escape');
    this.#i += 4;
    return parseInt(h, 16);
  }

  #ws() {
    while (this.#i < this.#s.length && ' \t\n\r'.includes(this.#s[this.#i])) this.#i++;
  }

  #peek() {
    return this.#s[this.#i] ?? '';
  }

  #next() {
    if (this.#i >= this.#s.length) throw this.bad('unexpected end');
    return this.#s[this.#i++];
  }

  /** @param {string} c */
  #expect(c) {
    if (this.#next() !== c) throw this.bad(`expected ${c}`);
  }
}

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes strict UTF-8 and opens a reader on it.
 * @param {Uint8Array} bytes
 * @param {string} what
 * @returns {StrictJsonReader}
 */
export function strictJson(bytes, what) {
  try {
    return new StrictJsonReader(strictDecoder.decode(bytes), what);
  } catch {
    throw new ProtocolError('peer-misbehaved', `${what} is not UTF-8`);
  }
}
