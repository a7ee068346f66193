/**
 * @file The WebRTC side of a session: one RTCPeerConnection with one ordered, reliable data
 * channel (label `pairwise`), and flow control on `bufferedAmount`. The only module that touches
 * `RTCPeerConnection`. It moves opaque bytes; records and keys are the caller's business.
 *
 * The initiator is the offerer and creates the channel. Signaling bodies (`offer`, `answer`,
 * `candidate`) go out through the `sendSignal` callback and come in through `handleSignal`.
 *
 * Events: `open`, `message` (detail: Uint8Array), `closed`, `failed`, `low` (the send buffer
 * went down to `lowWater`), and `path`: the ICE transport selected another candidate pair (where
 * the browser tells, e.g. Chromium; read the new one with `path()`).
 */

/** @import { AnswerBody, CandidateBody, OfferBody } from '../../types/protocol.js' */

import { declareLanes, LANES_TAKEN } from '../proto/lanes.js';
import { HIGH_WATER, LOW_WATER, MAX_RECORD_BYTES } from '../proto/limits.js';
import { withoutCandidates } from '../proto/session/io.js';

/** How long a `disconnected` connection may stay so before it counts as failed. */
export const DISCONNECTED_GIVE_UP_MS = 4000;

/** Assumed max message size when the browser does not report one (the SCTP default). */
const FALLBACK_MESSAGE_SIZE = 65536;

export class Peer extends EventTarget {
  /** @type {RTCPeerConnection} */
  #pc;
  /** @type {RTCDataChannel | null} */
  #dc = null;
  #initiator;
  /** @type {(body: OfferBody | AnswerBody | CandidateBody) => void} */
  #sendSignal;
  /** @type {RTCIceCandidateInit[]} */
  #pendingCandidates = [];
  #closed = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #silent;
  // The SDP texts as sent and as received: the transcript's fingerprints come from these
  // (§5.1), never from the browser's descriptions, which it re-serialises (Chromium keeps one of
  // several `a=fingerprint:` lines, so the first line it shows need not be the peer's first).
  #sentSdp = '';
  #receivedSdp = '';

  /**
   * @param {{ initiator: boolean, sendSignal: (body: OfferBody | AnswerBody | CandidateBody) => void, iceServers?: RTCIceServer[], iceTransportPolicy?: RTCIceTransportPolicy, label?: string }} opts
   *   `label`: the initiator's data channel (`pairwise`; a lane's is `pairwise-lane`, §12)
   */
  constructor({ initiator, sendSignal, iceServers = [], iceTransportPolicy = 'all', label = 'pairwise' }) {
    super();
    this.#initiator = initiator;
    this.#sendSignal = sendSignal;
    this.#pc = new RTCPeerConnection({ iceServers, iceTransportPolicy });
    this.#pc.addEventListener('icecandidate', (ev) => {
      this.#sendSignal({ kind: 'candidate', candidate: ev.candidate ? ev.candidate.toJSON() : null });
    });
    this.#pc.addEventListener('connectionstatechange', () => {
      const s = this.#pc.connectionState;
      if (s === 'failed') this.#emitOnce('failed');
      if (s === 'closed') this.#emitOnce('closed');
      // Chromium says `disconnected` ~6 s after the other device went silent and `failed` only
      // ~10 s later: after a network change the transfer sat still for 16 s before it could
      // resume. A connection silent this much longer is given up (a false alarm costs a resume).
      clearTimeout(this.#silent);
      if (s === 'disconnected') this.#silent = setTimeout(() => this.#emitOnce('failed'), DISCONNECTED_GIVE_UP_MS);
    });
    if (initiator) {
      this.#adopt(this.#pc.createDataChannel(label, { ordered: true }));
    } else {
      this.#pc.addEventListener('datachannel', (ev) => this.#adopt(ev.channel));
    }
  }

  /** Initiator only: creates and sends the offer. */
  async start() {
    await this.#pc.setLocalDescription(await this.#pc.createOffer());
    this.#sentSdp = declareLanes(withoutCandidates(this.#pc.localDescription?.sdp ?? ''), LANES_TAKEN);
    this.#sendSignal({ kind: 'offer', sdp: this.#sentSdp });
  }

  /**
   * Applies an `offer`, `answer` or `candidate` body from the peer.
   * @param {{kind: string, sdp?: string, candidate?: RTCIceCandidateInit | null}} body
   */
  async handleSignal(body) {
    if (body.kind === 'offer' && !this.#initiator) {
      this.#receivedSdp = String(body.sdp);
      await this.#pc.setRemoteDescription({ type: 'offer', sdp: this.#receivedSdp });
      await this.#flushCandidates();
      await this.#pc.setLocalDescription(await this.#pc.createAnswer());
      this.#sentSdp = declareLanes(withoutCandidates(this.#pc.localDescription?.sdp ?? ''), LANES_TAKEN);
      this.#sendSignal({ kind: 'answer', sdp: this.#sentSdp });
    } else if (body.kind === 'answer' && this.#initiator) {
      this.#receivedSdp = String(body.sdp);
      await this.#pc.setRemoteDescription({ type: 'answer', sdp: this.#receivedSdp });
      await this.#flushCandidates();
    } else if (body.kind === 'candidate') {
      if (!body.candidate) return;
      if (this.#pc.remoteDescription) await this.#pc.addIceCandidate(body.candidate);
      else this.#pendingCandidates.push(body.candidate);
    } else {
      throw new Error(`unexpected ${body.kind}`);
    }
  }

  /** The SDP text this side sent (once its offer or answer went out). */
  get localSdp() {
    return this.#sentSdp;
  }

  /** The SDP text the peer sent, exactly as received (once its offer or answer was handled). */
  get remoteSdp() {
    return this.#receivedSdp;
  }

  /**
   * The path the connection uses now, from `getStats()`: the selected candidate pair's local
   * and remote candidate types, and whether a relay carries it; `null` before a pair is chosen.
   * @returns {Promise<{ local: string, remote: string, relayed: boolean } | null>}
   */
  async path() {
    const { pair, stats } = await this.#selectedPair();
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId)?.candidateType;
    const remote = stats.get(pair.remoteCandidateId)?.candidateType;
    if (!local || !remote) return null;
    return { local, remote, relayed: local === 'relay' || remote === 'relay' };
  }

  /**
   * The selected candidate pair's latest round trip in ms, from `getStats()`; null where the
   * browser does not tell (or before a pair is chosen).
   * @returns {Promise<number | null>}
   */
  async rttMs() {
    const { pair } = await this.#selectedPair();
    if (!pair) return null;
    if (typeof pair.currentRoundTripTime === 'number') return pair.currentRoundTripTime * 1000;
    if (pair.responsesReceived > 0 && typeof pair.totalRoundTripTime === 'number') {
      return (pair.totalRoundTripTime / pair.responsesReceived) * 1000;
    }
    return null;
  }

  /**
   * The selected candidate pair's stats, if a pair is chosen, and every stat by id.
   * @returns {Promise<{ pair: any, stats: Map<string, any> }>}
   */
  async #selectedPair() {
    /** @type {Map<string, any>} */
    const stats = new Map();
    (await this.#pc.getStats()).forEach((s) => stats.set(s.id, s));
    const all = [...stats.values()];
    // Chromium names the pair in the transport; Firefox marks it `selected`.
    const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport
      ? stats.get(transport.selectedCandidatePairId)
      : all.find((s) => s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded')));
    return { pair, stats };
  }

  /** Bytes handed to the data channel and not sent yet (0 when there is none). */
  get bufferedAmount() {
    return this.#dc?.bufferedAmount ?? 0;
  }

  /** Where the send buffer, going down, fires `low` (and wakes a waiting `send`). @param {number} bytes */
  set lowWater(bytes) {
    if (this.#dc) this.#dc.bufferedAmountLowThreshold = bytes;
  }

  /** Whether the data channel is open. */
  get isOpen() {
    return this.#dc?.readyState === 'open';
  }

  /** Largest message this channel can carry, capped at MAX_RECORD_BYTES. */
  get maxMessageSize() {
    const reported = this.#pc.sctp?.maxMessageSize;
    const size = reported && Number.isFinite(reported) && reported > 0 ? reported : FALLBACK_MESSAGE_SIZE;
    return Math.min(size, MAX_RECORD_BYTES);
  }

  /**
   * Sends one message, first waiting while more than HIGH_WATER bytes are queued.
   * @param {Uint8Array} bytes
   */
  async send(bytes) {
    const dc = this.#dc;
    if (!dc || dc.readyState !== 'open') throw new Error('data channel is not open');
    if (dc.bufferedAmount > HIGH_WATER) {
      await new Promise((resolve, reject) => {
        const done = () => {
          dc.removeEventListener('bufferedamountlow', done);
          dc.removeEventListener('close', done);
          if (dc.readyState === 'open') resolve(undefined);
          else reject(new Error('data channel closed'));
        };
        dc.addEventListener('bufferedamountlow', done);
        dc.addEventListener('close', done);
      });
    }
    dc.send(/** @type {Uint8Array<ArrayBuffer>} */ (bytes));
  }

  /** Closes the channel and the connection. */
  close() {
    this.#dc?.close();
    this.#pc.close();
    this.#emitOnce('closed');
  }

  /** @param {RTCDataChannel} dc */
  #adopt(dc) {
    if (this.#dc) return;
    this.#dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = LOW_WATER;
    dc.addEventListener('open', () => {
      // Chromium may move to another candidate pair after connecting (RTCIceTransport; not in
      // every browser): whoever shows the path reads it again.
      this.#pc.sctp?.transport?.iceTransport?.addEventListener('selectedcandidatepairchange', () => this.dispatchEvent(new Event('path')));
      this.dispatchEvent(new Event('open'));
    });
    dc.addEventListener('close', () => this.#emitOnce('closed'));
    dc.addEventListener('bufferedamountlow', () => this.dispatchEvent(new Event('low')));
    dc.addEventListener('message', (ev) => {
      if (ev.data instanceof ArrayBuffer) {
        this.dispatchEvent(new CustomEvent('message', { detail: new Uint8Array(ev.data) }));
      }
    });
  }

  async #flushCandidates() {
    const pending = this.#pendingCandidates;
    this.#pendingCandidates = [];
    for (const c of pending) await this.#pc.addIceCandidate(c);
  }

  /** @param {'closed' | 'failed'} type */
  #emitOnce(type) {
    clearTimeout(this.#silent);
    if (this.#closed) return;
    this.#closed = true;
    this.dispatchEvent(new Event(type));
  }
}
