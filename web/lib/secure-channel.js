/**
 * @file The encrypted channel of a confirmed session: every data-channel message is one AEAD
 * record (`record.js`) carrying one inner message (`transfer.js`). Sends are serialised so
 * records leave in sequence order; received records are opened strictly in arrival order.
 * Only `Connection` creates it, and only after the peer's confirm MAC verified.
 *
 * Lanes (protocol §12, `lanes.js`): the browser takes the lanes a peer opens (it answers each
 * `lane-offer` with a peer connection of its own, STUN only) and, from the record after the
 * peer's first `lane-offer`, reads the peer's records as frames from every channel and puts
 * them back in order. It opens no lanes itself.
 *
 * Events: `message` (detail: {msg, final}), `error` (detail: {code}), `closed`.
 */

/** @import { Session } from '../types/protocol.js' */

/** @typedef {{ local: string, remote: string, relayed: boolean }} Path */

import { ProtocolError } from './errors.js';
import { FRAME_HEADER, frameSeq, LANES_TAKEN, Reorder } from './lanes.js';
import { RECORD_OVERHEAD } from './limits.js';
import { Peer } from './peer.js';
import { RecordOpener, RecordSealer } from './record.js';
import { decodeInner, encodeInner } from './transfer.js';

/**
 * When `watchPath` reads the path after the channel opened, in ms: a read before the transport
 * selected a pair finds none, and Chromium may move to another pair once more checks succeed.
 */
const PATH_READS_MS = [0, 1000, 3000];

/** How long a channel whose peer sent over lanes and closed still takes frames from the lanes. */
const CLOSE_SETTLE_MS = 1000;

export class SecureChannel extends EventTarget {
  #peer;
  #sealer;
  #opener;
  /** @type {Promise<void>} */
  #sendChain = Promise.resolve();
  /** @type {Promise<void>} */
  #recvChain = Promise.resolve();
  #broken = false;
  /** The peer's frames, once it sent a `lane-offer`. @type {Reorder<{ msg: any, final: boolean }> | null} */
  #reorder = null;
  /** The lanes the peer opened, by index. @type {Map<number, Peer>} */
  #lanes = new Map();
  /** STUN servers for the lanes. @type {RTCIceServer[]} */
  #laneIce;
  /** The short verification code both screens show. */
  sas;

  /**
   * @param {Peer} peer an open peer connection
   * @param {Session} session the confirmed handshake's keys
   * @param {{ iceServers?: RTCIceServer[] }} [opts] the session's ICE servers (lanes use the STUN ones)
   */
  constructor(peer, session, { iceServers = [] } = {}) {
    super();
    this.#peer = peer;
    this.#sealer = new RecordSealer(session.sendKey);
    this.#opener = new RecordOpener(session.recvKey);
    this.sas = session.sas;
    this.#laneIce = stunOnly(iceServers);
    peer.addEventListener('message', (ev) => this.#queue(/** @type {CustomEvent<Uint8Array>} */ (ev).detail));
    /** @param {Event} ev */
    const closed = (ev) => {
      const end = () => {
        this.#closeLanes();
        this.dispatchEvent(new Event('closed'));
      };
      // A peer that sent over lanes and closed (after a `cancel`, say): the frames ahead of its
      // last message may still be coming in on the lanes; give them a moment. Those that went
      // on a lane the peer closed first never come: a `cancel` held beyond that gap still
      // counts (§12).
      if (this.#reorder && ev.type === 'closed') {
        const settle = async () => {
          await this.#recvChain;
          if (!this.#heldCancel()) {
            await new Promise((r) => setTimeout(r, CLOSE_SETTLE_MS));
            await this.#recvChain;
            this.#heldCancel();
          }
          end();
        };
        void settle();
      } else end();
    };
    peer.addEventListener('closed', closed);
    peer.addEventListener('failed', closed);
  }

  /** Whether the peer's records are frames (it opened lanes): `progress` then goes more often. */
  get peerFramed() {
    return this.#reorder !== null;
  }

  /** Largest inner message (type byte included) one record can carry. */
  get maxInner() {
    return this.#peer.maxMessageSize - RECORD_OVERHEAD;
  }

  /**
   * Seals and sends one inner message, after every earlier one.
   * @param {Uint8Array} inner
   * @param {boolean} [final]
   * @returns {Promise<void>}
   */
  send(inner, final = false) {
    return this.#enqueue(this.#sealer.seal(inner, final));
  }

  /**
   * Like `send`, for a plaintext already laid out as `flags || inner` (see `frameChunk`); the
   * caller may reuse its buffer once this returns.
   * @param {Uint8Array} plaintext
   * @returns {Promise<void>}
   */
  sendFramed(plaintext) {
    return this.#enqueue(this.#sealer.sealFramed(plaintext));
  }

  /** @param {Promise<Uint8Array>} record */
  #enqueue(record) {
    const sent = this.#sendChain.then(async () => this.#peer.send(await record));
    this.#sendChain = sent.catch(() => {});
    return sent;
  }

  /**
   * Which way the bytes go: `direct` or `relayed` (and the candidate types), or `null` while
   * unknown. See `Peer.path`.
   * @returns {Promise<Path | null>}
   */
  path() {
    return this.#peer.path().catch(() => null);
  }

  /**
   * Calls `onPath` with the path each time a read finds one that differs from the last one
   * reported: at each of `reads` (ms from now) and whenever the peer says its selected candidate
   * pair changed. Stops when the channel closes.
   * @param {(path: Path) => void} onPath
   * @param {number[]} [reads]
   */
  watchPath(onPath, reads = PATH_READS_MS) {
    let shown = '';
    let asked = 0;
    let answered = 0;
    let over = false;
    const read = async () => {
      const n = ++asked;
      const p = over ? null : await this.path();
      // An older read answering after a newer one is stale.
      if (!p || over || n < answered) return;
      answered = n;
      const key = `${p.local}/${p.remote}/${p.relayed}`;
      if (key === shown) return;
      shown = key;
      onPath(p);
    };
    const timers = reads.map((ms) => setTimeout(read, ms));
    this.#peer.addEventListener('path', read);
    this.addEventListener('closed', () => {
      over = true;
      for (const t of timers) clearTimeout(t);
      this.#peer.removeEventListener('path', read);
    });
  }

  /** Closes the peer connection and the lanes. */
  close() {
    this.#closeLanes();
    this.#peer.close();
  }

  /**
   * Ends the session because of `e` (a ProtocolError, or anything else as `peer-misbehaved`).
   * @param {unknown} e
   */
  fail(e) {
    if (this.#broken) return;
    this.#broken = true;
    const code = e instanceof ProtocolError ? e.code : 'peer-misbehaved';
    // The detail (which check, which seq) is for whoever reads the console; the screen says `code`.
    console.warn(`session failed: ${code}: ${e instanceof Error ? e.message : String(e)}`);
    this.dispatchEvent(new CustomEvent('error', { detail: { code } }));
    this.#closeLanes();
    this.#peer.close();
  }

  /**
   * Handles `record` (from the session's channel or a lane) after every earlier one.
   * @param {Uint8Array} record
   * @param {boolean} [lane] it came on a lane
   */
  #queue(record, lane = false) {
    this.#recvChain = this.#recvChain.then(async () => {
      if (this.#broken) return;
      try {
        if (this.#reorder) await this.#receiveFrame(this.#reorder, record);
        else if (lane) throw new ProtocolError('peer-misbehaved', 'a frame before any lane-offer');
        else await this.#receive(record);
      } catch (e) {
        this.fail(e);
      }
    });
  }

  /** @param {Uint8Array} record */
  async #receive(record) {
    const { inner, final } = await this.#opener.open(record);
    const msg = decodeInner(inner, final);
    // Every record after the peer's first lane-offer is a frame (§12).
    if (msg.type === 'lane-offer') this.#reorder = new Reorder(this.#opener.nextSeq);
    await this.#deliver(msg, final);
  }

  /**
   * @param {Reorder<{ msg: any, final: boolean }>} reorder
   * @param {Uint8Array} frame
   */
  async #receiveFrame(reorder, frame) {
    const seq = frameSeq(frame);
    if (seq === null) throw new ProtocolError('peer-misbehaved', `a frame of ${frame.length} bytes`);
    // A copy of a frame delivered or held already (sent again on another channel): dropped.
    if (!reorder.check(seq, frame.length)) return;
    const { inner, final } = await this.#opener.openAt(seq, frame.subarray(FRAME_HEADER));
    reorder.insert(seq, { msg: decodeInner(inner, final), final }, frame.length);
    for (let next = reorder.pop(); next; next = reorder.pop()) await this.#deliver(next.msg, next.final);
  }

  /**
   * Delivers the peer's `cancel` if one is held beyond a gap in its frames (the session's
   * channel closed; the frames ahead of it went on a lane that closed with it).
   * @returns {boolean} whether one was delivered
   */
  #heldCancel() {
    if (this.#broken || !this.#reorder) return false;
    const held = this.#reorder.held().find((h) => h.msg.type === 'cancel');
    if (!held) return false;
    this.dispatchEvent(new CustomEvent('message', { detail: held }));
    return true;
  }

  /**
   * Hands a message in order to the transfers, or handles a lane message here.
   * @param {any} msg @param {boolean} final
   */
  async #deliver(msg, final) {
    switch (msg.type) {
      case 'lane-offer':
        return this.#answerLane(msg.lane, msg.sdp);
      case 'lane-candidate': {
        const lane = msg.side === 'offer' ? this.#lanes.get(msg.lane) : undefined;
        if (!lane) throw new ProtocolError('peer-misbehaved', `a candidate for lane ${msg.lane}, which does not exist`);
        if (msg.candidate) await lane.handleSignal({ kind: 'candidate', candidate: msg.candidate });
        return;
      }
      case 'lane-answer':
        throw new ProtocolError('peer-misbehaved', 'a lane-answer: this side opened no lane');
      default:
        this.dispatchEvent(new CustomEvent('message', { detail: { msg, final } }));
    }
  }

  /**
   * Takes the lane the peer offers: a peer connection that answers `sdp`; its candidates and
   * answer go back as records, its messages are frames.
   * @param {number} index @param {string} sdp
   */
  async #answerLane(index, sdp) {
    if (index > LANES_TAKEN || this.#lanes.has(index)) {
      throw new ProtocolError('peer-misbehaved', `lane ${index} offered twice or beyond ${LANES_TAKEN}`);
    }
    /** @param {any} msg */
    const tell = (msg) => {
      this.send(encodeInner(msg)).catch((e) => this.fail(e));
    };
    const lane = new Peer({
      initiator: false,
      iceServers: this.#laneIce,
      sendSignal: (body) => {
        if (body.kind === 'answer') tell({ type: 'lane-answer', lane: index, sdp: body.sdp });
        if (body.kind === 'candidate') tell({ type: 'lane-candidate', lane: index, side: 'answer', candidate: body.candidate });
      },
    });
    this.#lanes.set(index, lane);
    lane.addEventListener('message', (ev) => this.#queue(/** @type {CustomEvent<Uint8Array>} */ (ev).detail, true));
    // A lane that fails or closes is dropped: its opener sends what was in flight on it again on
    // the other channels, and a peer that is gone is noticed on the session's channel.
    const drop = () => {
      if (this.#lanes.get(index) !== lane) return;
      this.#lanes.delete(index);
      lane.close();
    };
    lane.addEventListener('failed', drop);
    lane.addEventListener('closed', drop);
    await lane.handleSignal({ kind: 'offer', sdp });
  }

  #closeLanes() {
    for (const lane of this.#lanes.values()) lane.close();
    this.#lanes.clear();
  }
}

/**
 * The STUN URLs of `ice`, without credentials: a lane needs no relay allocation of its own.
 * @param {RTCIceServer[]} ice
 * @returns {RTCIceServer[]}
 */
function stunOnly(ice) {
  return ice
    .map((s) => ({ urls: [s.urls].flat().filter((u) => u.startsWith('stun:') || u.startsWith('stuns:')) }))
    .filter((s) => s.urls.length > 0);
}
