/**
 * @file Inner messages of a record (`docs/protocol.md` §6): `type[1] || payload` for manifest,
 * accept, decline, chunk, received, cancel and device (§10.7), parsed strictly; the manifest JSON is read by a
 * strict parser of its own (no duplicate or unknown keys, integer sizes without fraction or
 * exponent, no lone surrogates), like `serde_json` with `deny_unknown_fields` on the Rust side.
 * `ReceiveState` checks incoming chunks against the manifest sizes and FINAL flags. Pure: bytes
 * in, bytes and values out. Mirrors `transfer/` of `crates/pairwise-proto`; checked against
 * `testdata/vectors/transfer.json`.
 */

/** @import { ChunkResult, InnerMessage, ManifestFile } from '../types/protocol.js' */

import { decodeDevicePayload, encodeDevicePayload } from './device.js';
import { ProtocolError } from './errors.js';
import {
  MAX_FILE_SIZE,
  MAX_MANIFEST_FILES,
  MAX_RECORD_BYTES,
  MAX_TYPE_BYTES,
  RECORD_OVERHEAD,
} from './limits.js';
import { isWellFormed, parseSafeName } from './name.js';

/** Inner message type bytes. */
export const MSG = Object.freeze({
  manifest: 0x01,
  accept: 0x02,
  decline: 0x03,
  chunk: 0x04,
  received: 0x05,
  cancel: 0x06,
  device: 0x07,
});

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Chunk payload bytes per record for a channel whose largest message is `maxRecordBytes`
 * (capped at `MAX_RECORD_BYTES`): the record overhead (17) and the type byte come off.
 * @param {number} maxRecordBytes the data channel's max message size
 * @returns {number}
 */
export function chunkPayloadSize(maxRecordBytes) {
  const n = Math.min(maxRecordBytes, MAX_RECORD_BYTES) - RECORD_OVERHEAD - 1;
  if (!(n >= 1)) throw new RangeError(`max message size ${maxRecordBytes} leaves no room for a chunk`);
  return Math.floor(n);
}

/**
 * A manifest message for our own files: compact JSON `{"files":[{"name","size","type"}]}`.
 * The files are checked by the rules the receiver applies, so an offer the peer must refuse is
 * never sent.
 * @param {ManifestFile[]} files 1 to `MAX_MANIFEST_FILES`
 * @returns {Uint8Array}
 * @throws {ProtocolError} `bad-name` for a name the peer would refuse
 * @throws {RangeError} for no files, too many, a bad size or type, or a manifest too large
 */
export function encodeManifest(files) {
  if (files.length < 1 || files.length > MAX_MANIFEST_FILES) {
    throw new RangeError(`a manifest lists 1 to ${MAX_MANIFEST_FILES} files`);
  }
  const wire = files.map((f) => {
    parseSafeName(f.name);
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw new RangeError(`bad size for ${f.name}`);
    if (typeof f.type !== 'string' || !isWellFormed(f.type) || encoder.encode(f.type).length > MAX_TYPE_BYTES) {
      throw new RangeError(`bad type for ${f.name}`);
    }
    return { name: f.name, size: f.size, type: f.type };
  });
  const out = withType(MSG.manifest, encoder.encode(JSON.stringify({ files: wire })));
  if (out.length > MAX_RECORD_BYTES - RECORD_OVERHEAD) throw new RangeError('manifest too large for one record');
  return out;
}

/**
 * `accept`: the receiver takes the last manifest.
 * @returns {Uint8Array}
 */
export function encodeAccept() {
  return new Uint8Array([MSG.accept]);
}

/**
 * `decline`: the receiver refuses the last manifest.
 * @returns {Uint8Array}
 */
export function encodeDecline() {
  return new Uint8Array([MSG.decline]);
}

/**
 * `chunk`: raw bytes of the current file (send with FINAL on its last chunk).
 * @param {Uint8Array} data
 * @returns {Uint8Array}
 */
export function encodeChunk(data) {
  return withType(MSG.chunk, data);
}

/** Bytes in front of a chunk's data in a record's plaintext: the flags and the message type. */
export const CHUNK_HEADER = 2;

/**
 * The record plaintext `flags || 0x04 || data` of the chunk `block[at, at + len)`, for
 * `RecordSealer.sealFramed`. When `at >= 2` the two header bytes are written in place, over the
 * tail of the previous chunk, which is already sealed (WebCrypto copied it); only a block's
 * first chunk is copied. So the sender copies no file byte itself.
 * @param {Uint8Array} block a block read from the file; the caller owns it
 * @param {number} at offset of the chunk in `block`
 * @param {number} len chunk bytes
 * @param {boolean} final the file's last chunk
 * @returns {Uint8Array}
 */
export function frameChunk(block, at, len, final) {
  /** @type {Uint8Array} */
  let framed;
  if (at >= CHUNK_HEADER) {
    framed = block.subarray(at - CHUNK_HEADER, at + len);
  } else {
    framed = new Uint8Array(CHUNK_HEADER + len);
    framed.set(block.subarray(at, at + len), CHUNK_HEADER);
  }
  framed[0] = final ? 1 : 0;
  framed[1] = MSG.chunk;
  return framed;
}

/**
 * `received`: the receiver verified and kept file `index`.
 * @param {number} index 0..2^32-1
 * @returns {Uint8Array}
 */
export function encodeReceived(index) {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) throw new RangeError('bad file index');
  const out = new Uint8Array(5);
  out[0] = MSG.received;
  new DataView(out.buffer).setUint32(1, index, false);
  return out;
}

/**
 * `cancel`: stop every transfer in progress in the session.
 * @returns {Uint8Array}
 */
export function encodeCancel() {
  return new Uint8Array([MSG.cancel]);
}

/**
 * Encodes any inner message value (the inverse of `decodeInner`).
 * @param {InnerMessage} msg
 * @returns {Uint8Array}
 */
export function encodeInner(msg) {
  switch (msg.type) {
    case 'manifest':
      return encodeManifest(msg.files);
    case 'accept':
      return encodeAccept();
    case 'decline':
      return encodeDecline();
    case 'chunk':
      return encodeChunk(msg.data);
    case 'received':
      return encodeReceived(msg.index);
    case 'cancel':
      return encodeCancel();
    case 'device':
      return withType(MSG.device, encodeDevicePayload(msg.name));
    default:
      throw new TypeError('unknown inner message');
  }
}

/**
 * Parses an inner message strictly. With the record's FINAL flag it also refuses FINAL on
 * anything but a chunk.
 * @param {Uint8Array} inner
 * @param {boolean} [final] the record's FINAL flag
 * @returns {InnerMessage}
 * @throws {ProtocolError} `bad-name` for an unsafe file name, otherwise `peer-misbehaved`
 */
export function decodeInner(inner, final = false) {
  /** @param {string} why */
  const bad = (why) => new ProtocolError('peer-misbehaved', why);
  if (inner.length === 0) throw bad('empty inner message');
  const type = inner[0];
  const payload = inner.subarray(1);
  if (final && type !== MSG.chunk) throw bad(`FINAL on message type ${type}`);
  /** @param {InnerMessage} msg */
  const empty = (msg) => {
    if (payload.length !== 0) throw bad(`payload on message type ${type}`);
    return msg;
  };
  switch (type) {
    case MSG.manifest:
      return { type: 'manifest', files: parseManifest(payload) };
    case MSG.accept:
      return empty({ type: 'accept' });
    case MSG.decline:
      return empty({ type: 'decline' });
    case MSG.chunk:
      // A view, not a copy: `inner` is a fresh buffer from decryption that nobody else holds.
      return { type: 'chunk', data: payload };
    case MSG.received:
      if (payload.length !== 4) throw bad('received payload is not 4 bytes');
      return { type: 'received', index: new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, false) };
    case MSG.cancel:
      return empty({ type: 'cancel' });
    case MSG.device:
      return { type: 'device', name: decodeDevicePayload(payload) };
    default:
      throw bad(`unknown message type ${type}`);
  }
}

/**
 * Follows one incoming transfer after `accept`: chunks go to the files in manifest order, each
 * file ends with its FINAL chunk at exactly its manifest size.
 */
export class ReceiveState {
  /** @type {readonly ManifestFile[]} */
  #files;
  #index = 0;
  #got = 0;

  /** @param {readonly ManifestFile[]} files the accepted manifest's files */
  constructor(files) {
    if (files.length === 0) throw new RangeError('no files');
    this.#files = files;
  }

  /** Whether every file got its FINAL chunk. */
  get done() {
    return this.#index >= this.#files.length;
  }

  /** The file the next chunk belongs to (equal to the file count when done). */
  get index() {
    return this.#index;
  }

  /**
   * Takes one chunk of the current file.
   * @param {Uint8Array} data
   * @param {boolean} final the record's FINAL flag
   * @returns {ChunkResult}
   * @throws {ProtocolError} `peer-misbehaved`: a chunk when no file is expected, more bytes than
   *   the file's size, or FINAL before all of them
   */
  handleChunk(data, final) {
    const index = this.#index;
    const file = this.#files[index];
    if (!file) throw new ProtocolError('peer-misbehaved', 'chunk when no file is expected');
    const total = this.#got + data.length;
    if (total > file.size) {
      throw new ProtocolError('peer-misbehaved', `file ${index} got ${total} bytes, more than its ${file.size}`);
    }
    if (final && total !== file.size) {
      throw new ProtocolError('peer-misbehaved', `file ${index} ended after ${total} of ${file.size} bytes`);
    }
    this.#got = total;
    if (!final) return { index, fileDone: false, allDone: false };
    this.#index = index + 1;
    this.#got = 0;
    return { index, fileDone: true, allDone: this.#index >= this.#files.length };
  }
}

/**
 * @param {number} type
 * @param {Uint8Array} payload
 * @returns {Uint8Array}
 */
function withType(type, payload) {
  const out = new Uint8Array(1 + payload.length);
  out[0] = type;
  out.set(payload, 1);
  return out;
}

// ---- Manifest JSON ----

/**
 * Parses manifest JSON like the Rust side: structure first (any JSON or shape error is
 * `peer-misbehaved`), then the file count, then per file its name (`bad-name`), size and type,
 * then the empty list.
 * @param {Uint8Array} json
 * @returns {ManifestFile[]}
 */
function parseManifest(json) {
  /** @type {string} */
  let text;
  try {
    text = strictDecoder.decode(json);
  } catch {
    throw new ProtocolError('peer-misbehaved', 'manifest is not UTF-8');
  }
  const p = new ManifestParser(text);
  const wire = p.manifest();
  if (wire.length > MAX_MANIFEST_FILES) {
    throw new ProtocolError('peer-misbehaved', `${wire.length} files exceed ${MAX_MANIFEST_FILES}`);
  }
  /** @type {ManifestFile[]} */
  const files = [];
  for (const f of wire) {
    parseSafeName(f.name);
    if (f.size.length > 16 || Number(f.size) > MAX_FILE_SIZE) {
      throw new ProtocolError('peer-misbehaved', `size ${f.size} exceeds ${MAX_FILE_SIZE}`);
    }
    if (encoder.encode(f.type).length > MAX_TYPE_BYTES) {
      throw new ProtocolError('peer-misbehaved', `type longer than ${MAX_TYPE_BYTES} bytes`);
    }
    files.push({ name: f.name, size: Number(f.size), type: f.type });
  }
  if (files.length === 0) throw new ProtocolError('peer-misbehaved', 'manifest with no files');
  return files;
}

/**
 * A recursive-descent reader for exactly `{"files":[{"name":str,"size":uint,"type":str},…]}`
 * with JSON whitespace anywhere JSON allows it. Keys may come in any order; unknown or duplicate
 * keys, missing keys, other value types and trailing text are refused.
 */
class ManifestParser {
  #s;
  #i = 0;

  /** @param {string} text */
  constructor(text) {
    this.#s = text;
  }

  /** @returns {{ name: string, size: string, type: string }[]} sizes as their digit strings */
  manifest() {
    /** @type {{ name: string, size: string, type: string }[] | undefined} */
    let files;
    this.#object((key) => {
      if (key !== 'files') throw this.#bad(`unknown field ${key}`);
      files = this.#array(() => this.#file());
    });
    this.#ws();
    if (this.#i !== this.#s.length) throw this.#bad('trailing characters');
    if (!files) throw this.#bad('missing field files');
    return files;
  }

  #file() {
    /** @type {{ name?: string, size?: string, type?: string }} */
    const f = {};
    this.#object((key) => {
      if (key === 'name') f.name = this.#string();
      else if (key === 'size') f.size = this.#uint();
      else if (key === 'type') f.type = this.#string();
      else throw this.#bad(`unknown field ${key}`);
    });
    if (f.name === undefined || f.size === undefined || f.type === undefined) {
      throw this.#bad('missing field');
    }
    return { name: f.name, size: f.size, type: f.type };
  }

  /**
   * An object; `member` reads the value of each key. Duplicate keys are refused.
   * @param {(key: string) => void} member
   */
  #object(member) {
    this.#ws();
    this.#expect('{');
    /** @type {Set<string>} */
    const seen = new Set();
    this.#ws();
    if (this.#peek() === '}') {
      this.#i++;
      return;
    }
    for (;;) {
      this.#ws();
      const key = this.#string();
      if (seen.has(key)) throw this.#bad(`duplicate field ${key}`);
      seen.add(key);
      this.#ws();
      this.#expect(':');
      this.#ws();
      member(key);
      this.#ws();
      const c = this.#next();
      if (c === '}') return;
      if (c !== ',') throw this.#bad('expected , or }');
    }
  }

  /**
   * An array of `item`s.
   * @template T
   * @param {() => T} item
   * @returns {T[]}
   */
  #array(item) {
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
      if (out.length >= MAX_MANIFEST_FILES) throw this.#bad(`more than ${MAX_MANIFEST_FILES} files`);
      out.push(item());
      this.#ws();
      const c = this.#next();
      if (c === ']') return out;
      if (c !== ',') throw this.#bad('expected , or ]');
    }
  }

  /**
   * A non-negative JSON integer without sign, fraction or exponent, as its digits.
   * @returns {string}
   */
  #uint() {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.#s.slice(this.#i, this.#i + 400));
    if (!m) throw this.#bad('expected a number');
    if (m[0].startsWith('-') || m[1] !== undefined || m[2] !== undefined) {
      throw this.#bad('size is not a non-negative integer');
    }
    this.#i += m[0].length;
    return m[0];
  }

  /**
   * A JSON string: no raw control characters, valid escapes, no lone surrogates.
   * @returns {string}
   */
  #string() {
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
        else throw this.#bad('bad escape');
      } else if (c < ' ') {
        throw this.#bad('control character in string');
      } else {
        out += c;
      }
    }
    if (!isWellFormed(out)) throw this.#bad('lone surrogate in string');
    return out;
  }

  #hex4() {
    const h = this.#s.slice(this.#i, this.#i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) throw this.#bad('bad \\u escape');
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
    if (this.#i >= this.#s.length) throw this.#bad('unexpected end');
    return this.#s[this.#i++];
  }

  /** @param {string} c */
  #expect(c) {
    if (this.#next() !== c) throw this.#bad(`expected ${c}`);
  }

  /** @param {string} why */
  #bad(why) {
    return new ProtocolError('peer-misbehaved', `manifest: ${why}`);
  }
}
