/**
 * @file Lanes (docs/protocol.md §12): more peer connections for one side's records. This module
 * holds what the browser needs to take lanes a peer opens, without any I/O: the lane messages'
 * payloads, the SDP line that declares lanes, and `Reorder`, which puts the peer's frames
 * (`u64be(seq) || record`, on the session's channel and every lane once the peer sent its first
 * `lane-offer`) back in sequence order. The browser takes lanes; it does not open any yet.
 */

import { ProtocolError } from './errors.js';
import { MAX_RECORD_BYTES, TRANSFER_WINDOW } from './limits.js';

/** The most lanes a side may declare or open. */
export const MAX_LANES = 32;
/** How many lanes this browser takes from its peer. */
export const LANES_TAKEN = MAX_LANES;
/** The session-level SDP attribute that declares lanes. */
export const LANES_ATTRIBUTE = 'a=pairwise-lanes:';
/** The label of a lane's data channel. */
export const LANE_LABEL = 'pairwise-lane';
/** Bytes of frames held out of order at most. */
export const REORDER_BYTES = TRANSFER_WINDOW + (MAX_LANES + 1) * MAX_RECORD_BYTES;
/** How far past the next sequence number to deliver a frame may be. */
export const MAX_AHEAD = 65536n;
/** The largest SDP in a `lane-offer` or `lane-answer`, in bytes. */
export const MAX_LANE_SDP_BYTES = 16384;
/** Bytes in front of a record in a frame. */
export const FRAME_HEADER = 8;

/**
 * The lanes an SDP's sender takes (its `a=pairwise-lanes:N`, capped at MAX_LANES); 0 if none.
 * @param {string} sdp
 */
export function declaredLanes(sdp) {
  for (const line of sdp.split('\n')) {
    const l = line.trimEnd();
    if (!l.startsWith(LANES_ATTRIBUTE)) continue;
    const v = l.slice(LANES_ATTRIBUTE.length);
    if (!/^\d{1,3}$/.test(v) || Number(v) > 255) return 0;
    return Math.min(Number(v), MAX_LANES);
  }
  return 0;
}

/**
 * `sdp` with `a=pairwise-lanes:n` before its first media section (or at its end), replacing one
 * already there.
 * @param {string} sdp
 * @param {number} n
 */
export function declareLanes(sdp, n) {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const line = `${LANES_ATTRIBUTE}${Math.min(n, MAX_LANES)}${eol}`;
  const lines = sdp.split(/(?<=\n)/).filter((l) => !l.startsWith(LANES_ATTRIBUTE));
  const m = lines.findIndex((l) => l.startsWith('m='));
  if (m >= 0) {
    lines.splice(m, 0, line);
    return lines.join('');
  }
  const body = lines.join('');
  return `${body}${body && !body.endsWith('\n') ? eol : ''}${line}`;
}

/** @param {string} why */
const bad = (why) => new ProtocolError('peer-misbehaved', `lane message: ${why}`);

/**
 * A JSON object from a lane message's payload, whose keys are all in `allowed` and include
 * `required`.
 * @param {Uint8Array} payload @param {string[]} allowed @param {string[]} required
 * @returns {Record<string, unknown>}
 */
function object(payload, allowed, required) {
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload));
  } catch {
    throw bad('not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not an object');
  const obj = /** @type {Record<string, unknown>} */ (value);
  for (const k of Object.keys(obj)) if (!allowed.includes(k)) throw bad(`unknown key ${k}`);
  for (const k of required) if (!(k in obj)) throw bad(`no ${k}`);
  return obj;
}

/** @param {unknown} lane */
function laneIndex(lane) {
  if (!Number.isInteger(lane) || /** @type {number} */ (lane) < 1 || /** @type {number} */ (lane) > MAX_LANES) {
    throw bad(`lane ${String(lane)} outside 1..${MAX_LANES}`);
  }
  return /** @type {number} */ (lane);
}

/**
 * The payload of `lane-offer` / `lane-answer`: `{lane, sdp}`.
 * @param {Uint8Array} payload
 * @returns {{ lane: number, sdp: string }}
 */
export function parseLaneSdp(payload) {
  const o = object(payload, ['lane', 'sdp'], ['lane', 'sdp']);
  const lane = laneIndex(o.lane);
  const sdp = o.sdp;
  const bytes = typeof sdp === 'string' ? new TextEncoder().encode(sdp).length : 0;
  if (typeof sdp !== 'string' || bytes === 0 || bytes > MAX_LANE_SDP_BYTES) throw bad(`lane SDP of ${bytes} bytes`);
  return { lane, sdp };
}

/**
 * The payload of `lane-candidate`: `{lane, side, candidate}`; `candidate` null (or absent) at the
 * end of candidates.
 * @param {Uint8Array} payload
 * @returns {{ lane: number, side: 'offer' | 'answer', candidate: RTCIceCandidateInit | null }}
 */
export function parseLaneCandidate(payload) {
  const o = object(payload, ['lane', 'side', 'candidate'], ['lane', 'side']);
  const lane = laneIndex(o.lane);
  if (o.side !== 'offer' && o.side !== 'answer') throw bad('side is neither offer nor answer');
  const c = o.candidate ?? null;
  if (c === null) return { lane, side: o.side, candidate: null };
  if (typeof c !== 'object' || Array.isArray(c)) throw bad('candidate is not an object');
  const init = /** @type {Record<string, unknown>} */ (c);
  for (const k of Object.keys(init)) {
    if (!['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment'].includes(k)) throw bad(`unknown candidate key ${k}`);
  }
  const str = (/** @type {unknown} */ v) => v === undefined || v === null || typeof v === 'string';
  const idx = init.sdpMLineIndex;
  const idxOk = idx === undefined || idx === null || (Number.isInteger(idx) && /** @type {number} */ (idx) >= 0 && /** @type {number} */ (idx) <= 65535);
  if (typeof init.candidate !== 'string' || !str(init.sdpMid) || !str(init.usernameFragment) || !idxOk) throw bad('bad candidate');
  return { lane, side: o.side, candidate: /** @type {RTCIceCandidateInit} */ (init) };
}

/**
 * The sequence number at the front of a frame, or null if it is too short to hold one.
 * @param {Uint8Array} frame
 */
export function frameSeq(frame) {
  if (frame.length < FRAME_HEADER) return null;
  return new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER).getBigUint64(0, false);
}

/**
 * Puts a peer's frames back in sequence order. Each sequence number is taken once: a copy of a
 * frame delivered or held already (the sender may send a held-up frame again on another
 * channel) is dropped unopened. At most REORDER_BYTES are held.
 * @template T
 */
export class Reorder {
  #next;
  /** @type {Map<bigint, { item: T, len: number }>} */
  #held = new Map();
  #bytes = 0;

  /** @param {bigint} next the sequence number after the peer's first `lane-offer` */
  constructor(next) {
    this.#next = next;
  }

  /**
   * Whether a frame is to be opened (true) or is a copy to drop (false), checked before
   * decrypting. Throws `peer-misbehaved` for one too far ahead or one that would overfill.
   * @param {bigint} seq @param {number} len
   */
  check(seq, len) {
    if (seq < this.#next || this.#held.has(seq)) return false;
    if (seq - this.#next > MAX_AHEAD) throw bad(`frame ${seq} too far ahead of ${this.#next}`);
    if (seq !== this.#next && this.#bytes + len > REORDER_BYTES) throw bad(`more than ${REORDER_BYTES} bytes of frames out of order`);
    return true;
  }

  /**
   * Takes the opened record `seq` (`len` bytes on the wire); a copy is dropped.
   * @param {bigint} seq @param {T} item @param {number} len
   */
  insert(seq, item, len) {
    if (!this.check(seq, len)) return;
    this.#bytes += len;
    this.#held.set(seq, { item, len });
  }

  /** The next record in order, if it arrived. @returns {T | undefined} */
  pop() {
    const got = this.#held.get(this.#next);
    if (!got) return undefined;
    this.#held.delete(this.#next);
    this.#bytes -= got.len;
    this.#next += 1n;
    return got.item;
  }

  /** The records held beyond a gap, in sequence order. @returns {T[]} */
  held() {
    return [...this.#held.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, h]) => h.item);
  }
}
