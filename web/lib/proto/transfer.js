/**
 * @file Inner messages of a record (`docs/protocol.md` §6, §10.7, §11): `type[1] || payload` for
 * manifest, accept (optionally with resume claims), decline, chunk, received, cancel, device,
 * text, resume-ack, progress, the lane messages and close (§6.1), parsed strictly; JSON payloads go through `strict-json.js` (no duplicate
 * or unknown keys, integers without fraction or exponent, no lone surrogates), like
 * `serde_json` with `deny_unknown_fields` on the Rust side.
 * Pure: bytes in, bytes and values out. Mirrors `transfer/` of `crates/pairwise-proto`; checked against
 * `testdata/vectors/transfer.json`.
 */

/** @import { InnerMessage, ManifestFile, ManifestPart, ResumeClaim, ResumeStart } from '../../types/protocol.js' */

import { decodeDevicePayload, encodeDevicePayload } from './device.js';
import { ERRORS, ProtocolError } from './errors.js';
import { parseLaneCandidate, parseLaneSdp } from './lanes.js';
import { MAX_RECORD_BYTES, MAX_TEXT_BYTES, RECORD_OVERHEAD } from './limits.js';
import { manifestJson, parseManifestJson } from './manifest.js';
import { strictJson } from './strict-json.js';
import { isWellFormed } from './name.js';
import { ackJson, claimsJson, parseAck, parseClaims } from './resume.js';

/** Inner message type bytes. */
export const MSG = Object.freeze({
  manifest: 0x01,
  accept: 0x02,
  decline: 0x03,
  chunk: 0x04,
  received: 0x05,
  cancel: 0x06,
  device: 0x07,
  text: 0x08,
  resumeAck: 0x09,
  progress: 0x0a,
  laneOffer: 0x0b,
  laneAnswer: 0x0c,
  laneCandidate: 0x0d,
  close: 0x0e,
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
 * A manifest record for our own files (one part of an offer, §11.1); the files are checked by
 * the rules the receiver applies, so an offer the peer must refuse is never sent. Use
 * `manifestParts` to split a long offer.
 * @param {ManifestFile[] | ManifestPart} filesOrPart the files of a one-part offer, or a part
 * @returns {Uint8Array}
 * @throws {ProtocolError} `bad-name` for a name the peer would refuse
 * @throws {RangeError} for no files, too many, a bad size or type, or a part too large
 */
export function encodeManifest(filesOrPart) {
  const part = Array.isArray(filesOrPart) ? { files: filesOrPart } : filesOrPart;
  const out = withType(MSG.manifest, manifestJson(part));
  if (out.length > MAX_RECORD_BYTES - RECORD_OVERHEAD) throw new RangeError('manifest too large for one record');
  return out;
}

/**
 * `progress`: chunk bytes of the current transfer the receiver has stored (§11.4).
 * @param {number} bytes
 * @returns {Uint8Array}
 */
export function encodeProgress(bytes) {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError('bad progress');
  const out = new Uint8Array(9);
  out[0] = MSG.progress;
  new DataView(out.buffer).setBigUint64(1, BigInt(bytes), false);
  return out;
}

/**
 * A short text, clipboard-style (§11.2): 1 to 65 536 bytes of UTF-8.
 * @param {string} text
 * @returns {Uint8Array}
 */
export function encodeText(text) {
  const bytes = encoder.encode(text);
  if (bytes.length === 0 || bytes.length > MAX_TEXT_BYTES || !isWellFormed(text)) {
    throw new RangeError(`a text is 1 to ${MAX_TEXT_BYTES} bytes of UTF-8`);
  }
  return withType(MSG.text, bytes);
}

/**
 * `accept`: the receiver takes the last manifest.
 * @returns {Uint8Array}
 */
export function encodeAccept() {
  return new Uint8Array([MSG.accept]);
}

/**
 * `accept` with resume claims (§11.3).
 * @param {ResumeClaim[]} claims
 * @returns {Uint8Array}
 */
export function encodeAcceptResume(claims) {
  return withType(MSG.accept, claimsJson(claims));
}

/**
 * `resume-ack`: where each claimed file continues (§11.3).
 * @param {ResumeStart[]} starts
 * @returns {Uint8Array}
 */
export function encodeResumeAck(starts) {
  return withType(MSG.resumeAck, ackJson(starts));
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
 * `close`: this side ends the session (§6.1), normally (no `code`) or because it refused what
 * the peer sent (`code`, from §9).
 * @param {import('../../types/protocol.js').ErrorCode} [code]
 * @returns {Uint8Array}
 */
export function encodeClose(code) {
  if (code !== undefined && !Object.hasOwn(ERRORS, code)) throw new RangeError(`not a catalogue code: ${code}`);
  return withType(MSG.close, encoder.encode(JSON.stringify(code === undefined ? {} : { code })));
}

/**
 * A `close` payload: `{}` or `{"code": C}` with C a §9 code; anything else is `peer-misbehaved`.
 * @param {Uint8Array} payload
 * @returns {{ type: 'close', code?: import('../../types/protocol.js').ErrorCode }}
 */
function parseClose(payload) {
  const r = strictJson(payload, 'close');
  /** @type {string | undefined} */
  let code;
  r.object((key) => {
    if (key !== 'code') throw r.bad(`unknown key ${key}`);
    code = r.string();
  });
  r.end();
  if (code === undefined) return { type: 'close' };
  if (!Object.hasOwn(ERRORS, code)) throw r.bad(`a code outside the catalogue: ${code}`);
  return { type: 'close', code: /** @type {import('../../types/protocol.js').ErrorCode} */ (code) };
}

/**
 * Encodes any inner message value (the inverse of `decodeInner`).
 * @param {InnerMessage} msg
 * @returns {Uint8Array}
 */
export function encodeInner(msg) {
  switch (msg.type) {
    case 'manifest': {
      const { type: _, ...part } = msg;
      return encodeManifest(part);
    }
    case 'accept':
      return msg.resume ? encodeAcceptResume(msg.resume) : encodeAccept();
    case 'resume-ack':
      return encodeResumeAck(msg.files);
    case 'text':
      return encodeText(msg.text);
    case 'progress':
      return encodeProgress(msg.bytes);
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
    case 'lane-offer':
    case 'lane-answer':
      return withType(msg.type === 'lane-offer' ? MSG.laneOffer : MSG.laneAnswer, encoder.encode(JSON.stringify({ lane: msg.lane, sdp: msg.sdp })));
    case 'lane-candidate':
      return withType(MSG.laneCandidate, encoder.encode(JSON.stringify({ lane: msg.lane, side: msg.side, candidate: msg.candidate })));
    case 'close':
      return encodeClose(msg.code);
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
      return { type: 'manifest', ...parseManifestJson(payload) };
    case MSG.accept:
      return payload.length === 0 ? { type: 'accept' } : { type: 'accept', resume: parseClaims(payload) };
    case MSG.resumeAck:
      return { type: 'resume-ack', files: parseAck(payload) };
    case MSG.text:
      return { type: 'text', text: parseText(payload) };
    case MSG.progress: {
      if (payload.length !== 8) throw bad('progress payload is not 8 bytes');
      const n = new DataView(payload.buffer, payload.byteOffset, 8).getBigUint64(0, false);
      // More than 2^53 - 1 can never be within what was sent (§11.4).
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw bad('progress beyond any transfer');
      return { type: 'progress', bytes: Number(n) };
    }
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
    case MSG.laneOffer:
      return { type: 'lane-offer', ...parseLaneSdp(payload) };
    case MSG.laneAnswer:
      return { type: 'lane-answer', ...parseLaneSdp(payload) };
    case MSG.laneCandidate:
      return { type: 'lane-candidate', ...parseLaneCandidate(payload) };
    case MSG.close:
      return parseClose(payload);
    default:
      throw bad(`unknown message type ${type}`);
  }
}

/**
 * A `text` payload: 1 to 65 536 bytes of strict UTF-8.
 * @param {Uint8Array} payload
 * @returns {string}
 */
function parseText(payload) {
  if (payload.length === 0 || payload.length > MAX_TEXT_BYTES) {
    throw new ProtocolError('peer-misbehaved', 'text is empty or longer than 65536 bytes');
  }
  try {
    return strictDecoder.decode(payload);
  } catch {
    throw new ProtocolError('peer-misbehaved', 'text is not UTF-8');
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

