/**
 * @file What goes into the session engine (`../session.js`) and what comes out of it: where it
 * starts, what the server and the WebRTC stack report, what the caller is to do, how it ended;
 * and the strict parse of relayed bodies it reads. Mirrors `session/io.rs` (and
 * `PeerSignal::parse` of `handshake/mod.rs`) in `crates/pairwise-proto`.
 */

/** @import { ErrorCode, ServerToClient, Session as Keys } from '../../../types/protocol.js' */
/** @import { Handshake, ParsedHello } from '../handshake.js' */

import { decodeField, hasExactKeys } from '../bytes.js';
import { ProtocolError } from '../errors.js';
import { MAC_BYTES, parseHello } from '../handshake.js';

/**
 * What a device keeps of a paired device for the protocol (§10): its identity and the pair's key.
 * @typedef {{ identity: Uint8Array, pairingKey: Uint8Array }} RememberedPeer
 */

/**
 * Where a session starts: the handshake in its first state, this side's `hello` already sent
 * when it has one to send first (the responder and a remembered device).
 * - `initiator`: shows the link and waits for the device that opens it;
 * - `responder`: opened the link; its `hello` is sent;
 * - `reconnect`: a remembered device (§10.3), `handshake` in `reconnect` mode; its `hello` is
 *   sent.
 * @typedef {{ kind: 'initiator' | 'responder', handshake: Handshake }
 *   | { kind: 'reconnect', handshake: Handshake, peer: RememberedPeer }} Start
 */

/**
 * What the signaling connection delivered: a frame, or the connection's end (with what the
 * caller knows about why).
 * @typedef {{ type: 'frame', frame: ServerToClient } | { type: 'closed', why: string }} ServerInput
 */

/**
 * What the WebRTC stack reported: one of our candidates (`null` when gathering completed), the
 * data channel opened, the connection failed or closed, data arrived on the channel (nothing
 * may, before the session is confirmed).
 * @typedef {{ type: 'local-candidate', candidate: RTCIceCandidateInit | null } | { type: 'channel-open' }
 *   | { type: 'failed', why: string } | { type: 'closed' } | { type: 'data' }} PeerInput
 */

/**
 * What the caller does next:
 * - `relay`: relay `body` to the peer through the server;
 * - `create-offer`: create the peer connection as the offerer, make an offer, hand it to
 *   `offerCreated`;
 * - `answer-offer`: create the peer connection as the answerer for the peer's offer `sdp` (as
 *   received), answer it, hand the answer to `answerCreated`;
 * - `accept-answer`: apply the peer's answer `sdp` (as received);
 * - `add-candidate`: add the peer's candidate to the connection (never `null`).
 * @typedef {{ type: 'relay', body: Record<string, unknown> } | { type: 'create-offer' }
 *   | { type: 'answer-offer', sdp: string } | { type: 'accept-answer', sdp: string }
 *   | { type: 'add-candidate', candidate: RTCIceCandidateInit }} Action
 */

/**
 * How the session ended:
 * - `established`: confirmed, with the data channel open: the session's keys and the peer's
 *   identity (65 bytes);
 * - `failed`: the catalogue code people see, and what exactly happened;
 * - `stranger`: a remembered device's room held a device with another identity; it was
 *   answered `not-paired` (§10.6) and the room may be waited in again.
 * @typedef {{ type: 'established', session: Keys, peerIdentity: Uint8Array }
 *   | { type: 'failed', code: ErrorCode | string, detail: string } | { type: 'stranger' }} Outcome
 */

/**
 * Settings the caller's WebRTC stack calls for: how long the peer's relayed (`typ relay`)
 * candidates wait before they are added, so a direct pair can win where the stack keeps the
 * first pair nominated (0: at once; the browsers need no wait); whether the signaling server
 * handed out a TURN server (a failed connection is then `connect-failed`, not `no-route`).
 * @typedef {{ relayedDelayMs: number, hasTurn: boolean }} Config
 */

/**
 * An SDP without its candidate lines: candidates travel only as trickled `candidate` bodies,
 * held until the peer is verified (§5 step 7). Line ends are kept as they are.
 * @param {string} sdp
 * @returns {string}
 */
export function withoutCandidates(sdp) {
  return sdp
    .split(/(?<=\n)/)
    .filter((l) => !l.startsWith('a=candidate:') && l.trimEnd() !== 'a=end-of-candidates')
    .join('');
}

/**
 * A JSON value as text with every object's keys sorted, so two bodies that differ only in key
 * order are the same body (the Rust engine compares `serde_json` text, whose maps are sorted).
 * @param {unknown} v
 * @returns {string}
 */
export function canonicalJson(v) {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = /** @type {Record<string, unknown>} */ (v);
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const SDP_KEYS = ['kind', 'sdp'];
const CANDIDATE_KEYS = ['kind', 'candidate'];
const MAC_KEYS = ['kind', 'mac'];

/**
 * A relayed body, parsed strictly (§4 second table, §5, §10): mirrors `PeerSignal::parse` of
 * `crates/pairwise-proto`. Offers, answers and candidates are the WebRTC stack's (a candidate is
 * `null` or an object with a `candidate` string); `confirm` and `forgotten` MACs are 32 bytes.
 * @typedef {{ kind: 'hello', hello: ParsedHello } | { kind: 'offer' | 'answer', sdp: string }
 *   | { kind: 'candidate', candidate: RTCIceCandidateInit | null } | { kind: 'confirm' | 'forgotten' }
 *   | { kind: 'not-paired' }} ParsedSignal
 */

/**
 * Parses a relayed body strictly (async: a `hello`'s keys are checked to be P-256 points).
 * @param {unknown} body
 * @returns {Promise<ParsedSignal>}
 * @throws {ProtocolError} `peer-misbehaved`: an unknown kind, unknown or missing fields, …
 */
export async function parsePeerSignal(body) {
  /** @param {string} why */
  const bad = (why) => new ProtocolError('peer-misbehaved', `malformed signaling body: ${why}`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('not an object');
  const b = /** @type {Record<string, unknown>} */ (body);
  switch (b.kind) {
    case 'hello':
      try {
        return { kind: 'hello', hello: await parseHello(body) };
      } catch (e) {
        throw bad(e instanceof Error ? e.message : 'hello');
      }
    case 'offer':
    case 'answer':
      if (!hasExactKeys(body, SDP_KEYS) || typeof b.sdp !== 'string') throw bad(`${b.kind} fields`);
      return { kind: b.kind, sdp: b.sdp };
    case 'candidate': {
      const c = b.candidate;
      const ok = c === null || (typeof c === 'object' && !Array.isArray(c) && typeof (/** @type {any} */ (c).candidate) === 'string');
      if (!hasExactKeys(body, CANDIDATE_KEYS) || !ok) {
        throw bad('candidate is neither null nor an object with a candidate string');
      }
      return { kind: 'candidate', candidate: /** @type {RTCIceCandidateInit | null} */ (c) };
    }
    case 'confirm':
    case 'forgotten':
      if (!hasExactKeys(body, MAC_KEYS)) throw bad(`${b.kind} fields`);
      try {
        decodeField(b.mac, MAC_BYTES, 'mac');
      } catch (e) {
        throw bad(e instanceof Error ? e.message : 'mac');
      }
      return { kind: b.kind };
    case 'not-paired':
      if (!hasExactKeys(body, ['kind'])) throw bad('not-paired fields');
      return { kind: 'not-paired' };
    default:
      throw bad(`unknown kind ${String(b.kind)}`);
  }
}
