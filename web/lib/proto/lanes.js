/**
 * @file Lanes (docs/protocol.md §12): more peer connections for one side's records. This module
 * holds what the browser needs to take lanes a peer opens, without any I/O: the lane messages'
 * payloads, the SDP line that declares lanes, and `Reorder`, which puts the peer's frames
 * (`u64be(seq) || record`, on the session's channel and every lane once the peer sent its first
 * `lane-offer`) back in sequence order. For the side that opens lanes: how many to open
 * (`lanesToOpen`), the frame layout (`toFrame`) and `LaneFlight`, the frames that went on lanes
 * and are not acknowledged yet (so that a lane that fails or is held up costs no byte).
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
/** How many lanes the browser opens by itself on a path that calls for them (see `lanesToOpen`). */
export const LANES_OPENED = 16;
/** The shortest round trip, in ms, on which the browser opens lanes by itself. */
export const LANE_MIN_RTT_MS = 4;
/**
 * Chunk records while lanes are in use are at most this many bytes: about one lossy lane's
 * congestion window (20 ms, 1 % loss), so that a record does not sit in one lane's queue while
 * the others idle (the CLI's `STRIPED_RECORD_BYTES`, measured there).
 */
export const STRIPED_RECORD_BYTES = 16 * 1024;
/** A lane with frames out and no acknowledgement for this long at least is held up, in ms ... */
export const STALL_MIN_MS = 400;
/** ... or for this many round trips, if longer. */
const STALL_RTTS = 6;

/**
 * The lanes a page asks for in its address (`?lanes=N`; tests and benchmarks force them with
 * it, as the CLI's `PAIRWISE_LANES`), or null if it does not say.
 * @param {string} search `location.search`
 * @returns {number | null}
 */
export function lanesWanted(search) {
  const v = new URLSearchParams(search).get('lanes');
  return v !== null && /^\d{1,2}$/.test(v) ? Math.min(Number(v), MAX_LANES) : null;
}

/**
 * How many lanes to open for a transfer: none toward a peer that declared none; `forced` if the
 * page asks; else LANES_OPENED on a direct path whose round trip is LANE_MIN_RTT_MS or more (a
 * LAN or loopback does not need them, and each lane costs the page a peer connection). Where the
 * browser does not tell the round trip (Firefox gives 0 on a 20 ms path), a path through a NAT
 * (a server-reflexive candidate on either end) stands for a long one, and anything else for a
 * LAN.
 * @param {{ forced: number | null, declared: number, relayed: boolean, rttMs: number | null, natted?: boolean }} path
 */
export function lanesToOpen({ forced, declared, relayed, rttMs, natted = false }) {
  if (declared <= 0) return 0;
  if (forced !== null) return Math.min(forced, declared);
  if (relayed) return 0;
  const long = rttMs === null ? natted : rttMs >= LANE_MIN_RTT_MS;
  return long ? Math.min(LANES_OPENED, declared) : 0;
}

/**
 * How long lanes may go without an acknowledgement before the held-up one's frames go again.
 * @param {number | null} rttMs
 */
export function stallAfterMs(rttMs) {
  return Math.max(STALL_MIN_MS, (rttMs ?? 0) * STALL_RTTS);
}

/**
 * `u64be(seq) || record` (§12).
 * @param {bigint} seq @param {Uint8Array} record
 */
export function toFrame(seq, record) {
  const frame = new Uint8Array(FRAME_HEADER + record.length);
  new DataView(frame.buffer).setBigUint64(0, seq, false);
  frame.set(record, FRAME_HEADER);
  return frame;
}

/**
 * The frames this side sent on its lanes that the peer has not acknowledged yet. The receiver
 * delivers frames in sequence order and acknowledges stored bytes with `progress`, so a
 * `progress` acknowledges every frame up to the chunk it covers (`ack`). A lane that fails
 * gives its frames back to go on another channel (`takeLane`); when nothing was acknowledged
 * for a while (`stalled`), the lane holding the oldest frame is held up (in a retransmission
 * timeout, which holds up every frame after it) and its frames go once more on the others
 * (`takeStalled`); the receiver keeps the first copy of each. Frames on the session's channel
 * are not kept: if it fails, the session is over anyway.
 */
export class LaneFlight {
  /** @type {{ seq: bigint, frame: Uint8Array, lane: number, resent: boolean }[]} */
  #frames = [];
  #progressAt;

  /** @param {number} now ms */
  constructor(now) {
    this.#progressAt = now;
  }

  /**
   * `frame` (sequence number `seq`) went on lane `lane`.
   * @param {bigint} seq @param {Uint8Array} frame @param {number} lane @param {number} now
   * @param {boolean} [resent] it is a copy of one held up elsewhere (it never goes a third time)
   */
  onSend(seq, frame, lane, now, resent = false) {
    // Nothing was out until now: the wait for an acknowledgement starts here.
    if (this.#frames.length === 0) this.#progressAt = now;
    this.#frames.push({ seq, frame, lane, resent });
  }

  /**
   * The peer stored everything through the frame `seq`.
   * @param {bigint} seq @param {number} now
   */
  ack(seq, now) {
    const before = this.#frames.length;
    this.#frames = this.#frames.filter((f) => f.seq > seq);
    if (this.#frames.length < before) this.#progressAt = now;
  }

  /**
   * Whether frames are out and none was acknowledged for `afterMs`.
   * @param {number} now @param {number} afterMs
   */
  stalled(now, afterMs) {
    return this.#frames.length > 0 && now - this.#progressAt > afterMs;
  }

  /**
   * The frames of the lane that holds the oldest one, not sent again yet, in sequence order;
   * they count as sent again from now on (and the wait starts again).
   * @param {number} now
   * @returns {{ seq: bigint, frame: Uint8Array, lane: number }[]}
   */
  takeStalled(now) {
    this.#progressAt = now;
    let oldest = this.#frames[0];
    for (const f of this.#frames) if (f.seq < oldest.seq) oldest = f;
    if (!oldest) return [];
    const out = this.#frames.filter((f) => f.lane === oldest.lane && !f.resent).sort((a, b) => (a.seq < b.seq ? -1 : 1));
    for (const f of out) f.resent = true;
    return out.map(({ seq, frame, lane }) => ({ seq, frame, lane }));
  }

  /**
   * Every frame of lane `lane`, which is gone, in sequence order; no longer kept here.
   * @param {number} lane
   * @returns {{ seq: bigint, frame: Uint8Array }[]}
   */
  takeLane(lane) {
    const gone = this.#frames.filter((f) => f.lane === lane);
    this.#frames = this.#frames.filter((f) => f.lane !== lane);
    return gone.sort((a, b) => (a.seq < b.seq ? -1 : 1)).map(({ seq, frame }) => ({ seq, frame }));
  }

  /** Bytes of frames kept. */
  get bytes() {
    return this.#frames.reduce((n, f) => n + f.frame.length, 0);
  }
}

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
