/**
 * @file The encrypted channel of a confirmed session: every data-channel message is one AEAD
 * record (`record.js`) carrying one inner message (`transfer.js`). Sends are serialised so
 * records leave in sequence order; received records are opened strictly in arrival order.
 * Only `Connection` creates it, and only after the peer's confirm MAC verified.
 *
 * Lanes (protocol §12, `lanes.js`): the browser takes the lanes a peer opens (it answers each
 * `lane-offer` with a peer connection of its own, STUN only) and, from the record after the
 * peer's first `lane-offer`, reads the peer's records as frames from every channel and puts
 * them back in order. It opens lanes of its own for a transfer where the path calls for them
 * (`openLanes`); its records are then frames, and `LaneSender` says which channel each takes.
 *
 * Ending (§6.1): a failure found in what the peer sent (`REFUSALS`) is told to it in a `close`
 * with its code before the channel closes; the peer's `close` ends the session here: `{}` like a
 * channel that closed, a code as `name-refused` or `peer-refused`. The browser sends no `close {}`
 * of its own: a session stays open until the page goes or the peer closes.
 *
 * Events: `message` (detail: {msg, final}), `error` (detail: {code}), `closed`.
 */

/** @import { Session } from '../../types/protocol.js' */

/** @typedef {{ local: string, remote: string, relayed: boolean }} Path */

import { ProtocolError, REFUSALS, refusedAs } from '../proto/errors.js';
import { LaneSender } from './lane-sender.js';
import { FRAME_HEADER, frameSeq, lanesToOpen, Reorder, STRIPED_RECORD_BYTES } from '../proto/lanes.js';
import { stunOnly, TakenLanes } from './lanes-taken.js';
import { RECORD_OVERHEAD } from '../proto/limits.js';
import { Peer } from './peer.js';
import { RecordOpener, RecordSealer } from '../proto/record.js';
import { decodeInner, encodeClose, encodeInner } from '../proto/transfer.js';

/**
 * When `watchPath` reads the path after the channel opened, in ms: a read before the transport
 * selected a pair finds none, and Chromium may move to another pair once more checks succeed.
 */
const PATH_READS_MS = [0, 1000, 3000];

/** How long a channel whose peer sent over lanes and closed still takes frames from the lanes. */
const CLOSE_SETTLE_MS = 1000;

/** How long this side's `close` may take to leave before the channel closes anyway (§6.1). */
const CLOSE_SEND_MS = 2000;

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
  /** The lanes the peer opened. */
  #taken;
  /** STUN servers for the lanes. @type {RTCIceServer[]} */
  #laneIce;
  /** How many lanes the peer takes (its `a=pairwise-lanes`), and how many the page asks for. */
  #lanePlan;
  /** A sealed record could not be sent (logged once). */
  #unsent = false;
  /** A `close` went or came (§6.1): nothing more is sent. */
  #ended = false;
  /** While this side's `close` is leaving: the channel's end waits for it. @type {Promise<void> | null} */
  #closing = null;
  /** From a refusal until its `error` went out. */
  #tellingClose = false;
  /** The lanes this side opened, once it decided to. @type {LaneSender | null} */
  #out = null;
  /** This side's records after this seq are frames (it is its first `lane-offer`'s). @type {bigint | null} */
  #framedAfter = null;
  /** The short verification code both screens show. */
  sas;

  /**
   * @param {Peer} peer an open peer connection
   * @param {Session} session the confirmed handshake's keys
   * @param {{ iceServers?: RTCIceServer[], peerLanes?: number, forcedLanes?: number | null, pacedLanes?: boolean, early?: Uint8Array[] }} [opts]
   *   the session's ICE servers (lanes use the STUN ones); the lanes the peer declared in the
   *   SDP it sent; the lanes the page's address asks for (`lanesWanted`); whether chunks over
   *   lanes are paced (`?pace=0` in the page's address: not, the benchmark's reference); the
   *   records that arrived on the channel before this took it, in order
   */
  constructor(peer, session, { iceServers = [], peerLanes = 0, forcedLanes = null, pacedLanes = true, early = [] } = {}) {
    super();
    this.#peer = peer;
    this.#sealer = new RecordSealer(session.sendKey);
    this.#opener = new RecordOpener(session.recvKey);
    this.sas = session.sas;
    this.#laneIce = stunOnly(iceServers);
    this.#taken = new TakenLanes({
      ice: this.#laneIce,
      tell: (msg) => {
        this.send(encodeInner(msg)).catch((e) => this.fail(e));
      },
      onFrame: (frame) => this.#queue(frame, true),
    });
    this.#lanePlan = { declared: peerLanes, forced: forcedLanes, paced: pacedLanes };
    for (const record of early) this.#queue(record);
    peer.addEventListener('message', (ev) => this.#queue(/** @type {CustomEvent<Uint8Array>} */ (ev).detail));
    /** @param {Event} ev */
    const closed = (ev) => {
      // This side's `close` is leaving: its `error` goes first, so the screen says why.
      if (this.#closing) {
        const closing = this.#closing;
        this.#closing = null;
        void closing.then(() => closed(ev));
        return;
      }
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
        // Records that arrived before the close are still being opened (WebCrypto is async):
        // they count, the peer sent them. A CLI's last `received` and its `close {}` were lost
        // this way under load, and a finished transfer showed as interrupted.
      } else void this.#recvChain.then(end);
    };
    peer.addEventListener('closed', closed);
    peer.addEventListener('failed', closed);
  }

  /**
   * Whether this side is telling the peer why the session fails (its `close {code}` is leaving,
   * §6.1): the `error` with the code follows; a close of the connection meanwhile is no drop.
   */
  get telling() {
    return this.#tellingClose;
  }

  /** Whether the peer's records are frames (it opened lanes): `progress` then goes more often. */
  get peerFramed() {
    return this.#reorder !== null;
  }

  /** Largest inner message (type byte included) one record can carry (a frame's header included). */
  get maxInner() {
    return this.#peer.maxMessageSize - RECORD_OVERHEAD - (this.#framedAfter === null ? 0 : FRAME_HEADER);
  }

  /** Whether this side opened lanes (its chunks go over them). */
  get sendsOverLanes() {
    return this.#out !== null;
  }

  /** Chunk bytes per record: smaller while this side sends over lanes (`STRIPED_RECORD_BYTES`). */
  get chunkPayload() {
    const most = this.maxInner - 1;
    return this.#out ? Math.min(most, STRIPED_RECORD_BYTES - RECORD_OVERHEAD - 1) : most;
  }

  /**
   * Seals and sends one inner message, after every earlier one.
   * @param {Uint8Array} inner
   * @param {boolean} [final]
   * @returns {Promise<void>}
   */
  send(inner, final = false) {
    // After a `close` nothing more goes (§6.1).
    if (this.#ended) return Promise.reject(new ProtocolError('peer-left', 'the session has ended'));
    const seq = this.#sealer.nextSeq;
    return this.#enqueue(seq, this.#sealer.seal(inner, final), false);
  }

  /**
   * Like `send`, for a chunk already laid out as `flags || inner` (see `frameChunk`); the
   * caller may reuse its buffer once this returns.
   * @param {Uint8Array} plaintext
   * @returns {Promise<bigint>} the record's sequence number (for `ackThrough`)
   */
  async sendFramed(plaintext) {
    if (this.#ended) throw new ProtocolError('peer-left', 'the session has ended');
    const seq = this.#sealer.nextSeq;
    await this.#enqueue(seq, this.#sealer.sealFramed(plaintext), true);
    return seq;
  }

  /**
   * @param {bigint} seq @param {Promise<Uint8Array>} record @param {boolean} chunk
   * @returns {Promise<void>}
   */
  #enqueue(seq, record, chunk) {
    const sent = this.#sendChain.then(async () => {
      const r = await record;
      const out = this.#out;
      if (out && this.#framedAfter !== null && seq > this.#framedAfter) return out.send(seq, r, chunk);
      return this.#peer.send(r);
    });
    this.#sendChain = sent.catch((e) => {
      // Once a sealed record is lost, the peer can open no later one (each record's nonce is its
      // seq): say so once, for whoever reads the failure that follows on the other side.
      if (this.#unsent) return;
      this.#unsent = true;
      console.warn(`record ${seq} was sealed but not sent (${e instanceof Error ? e.message : String(e)}); the peer cannot open any later record`);
    });
    return sent;
  }

  /**
   * Opens this side's lanes before a transfer, if the path calls for them (`lanesToOpen`) and
   * none are open yet; they stay for the session. Returns once every `lane-offer` is queued;
   * chunks go on each lane as it opens.
   */
  async openLanes() {
    if (this.#out || this.#broken) return;
    const [path, rtt] = await Promise.all([this.path(), this.#peer.rttMs().catch(() => null)]);
    // A round trip of exactly 0 is one the browser did not measure (Firefox).
    const rttMs = rtt === null || rtt <= 0 ? null : rtt;
    // Not `prflx`: a LAN shows it too when a check comes in before the candidate it is from.
    const natted = !!path && (path.local === 'srflx' || path.remote === 'srflx');
    const n = lanesToOpen({ ...this.#lanePlan, relayed: path?.relayed ?? true, rttMs, natted });
    const how = path ? `${path.relayed ? 'relayed' : 'direct'} ${path.local}/${path.remote}` : 'path unknown';
    console.info(`lanes: ${n} (the peer takes ${this.#lanePlan.declared}, round trip ${rttMs === null ? 'unknown' : `${rttMs.toFixed(1)} ms`}, ${how})`);
    if (n === 0 || this.#out || this.#broken) return;
    const out = new LaneSender({
      session: this.#peer,
      ice: this.#laneIce,
      rttMs,
      paced: this.#lanePlan.paced,
      tell: (msg) => {
        // Every record after the first lane-offer is a frame (§12).
        if (msg.type === 'lane-offer' && this.#framedAfter === null) this.#framedAfter = this.#sealer.nextSeq;
        this.send(encodeInner(msg)).catch((e) => this.fail(e));
      },
      fail: (e) => this.fail(e),
    });
    this.#out = out;
    for (let i = 1; i <= n; i++) {
      try {
        await out.offer(i);
      } catch (e) {
        // A lane that cannot even be built here is not worth failing the transfer for.
        console.warn(`sending over ${i - 1} lanes: ${e instanceof Error ? e.message : String(e)}`);
        break;
      }
    }
  }

  /**
   * The peer stored every record through `seq` (a `progress` or `received` covers it): what went
   * on lanes up to there is not kept any more.
   * @param {bigint} seq
   */
  ackThrough(seq) {
    this.#out?.ack(seq);
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
    const end = () => {
      this.#tellingClose = false;
      this.dispatchEvent(new CustomEvent('error', { detail: { code } }));
      this.#closeLanes();
      this.#peer.close();
    };
    // Only a ProtocolError is a check on the peer's data; anything else (a send that failed) is not.
    if (!(e instanceof ProtocolError && REFUSALS.has(code)) || this.#ended) return end();
    // Tell the peer why (§6.1) before anything closes the connection: whoever listens for
    // `error` closes it at once.
    this.#ended = true;
    this.#tellingClose = true;
    this.#closing = this.#sendClose(/** @type {import('../../types/protocol.js').ErrorCode} */ (code)).then(end);
  }

  /**
   * Sends `close {code}` and waits, at most `CLOSE_SEND_MS`, until it left the send buffer.
   * @param {import('../../types/protocol.js').ErrorCode} code
   */
  async #sendClose(code) {
    const until = Date.now() + CLOSE_SEND_MS;
    const sent = this.#enqueue(this.#sealer.nextSeq, this.#sealer.seal(encodeClose(code), false), false).catch(() => {});
    await Promise.race([sent, new Promise((r) => setTimeout(r, CLOSE_SEND_MS))]);
    while (this.#peer.bufferedAmount > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  }

  /**
   * The peer's `close` (§6.1): it sends nothing more, and neither does this side. `{}` ends the
   * session like a channel that closes; a code is its refusal of what this side sent.
   * @param {import('../../types/protocol.js').ErrorCode | undefined} code
   */
  #peerClosed(code) {
    this.#ended = true;
    if (code) {
      this.fail(new ProtocolError(refusedAs(code), `the other device ended the session: ${code}`));
      return;
    }
    console.info('the other device ended the session');
    this.#broken = true;
    this.close();
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
    // Nothing after a `close` counts (§6.1).
    for (let next = reorder.pop(); next && !this.#broken; next = reorder.pop()) await this.#deliver(next.msg, next.final);
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
        return this.#taken.answer(msg.lane, msg.sdp);
      case 'lane-candidate':
        // `side`: whose end of the lane the candidate is; `answer`: of a lane this side opened.
        if (msg.side !== 'answer') return this.#taken.candidate(msg.lane, msg.candidate);
        if (!this.#out) throw new ProtocolError('peer-misbehaved', 'a lane candidate: this side opened no lane');
        return this.#out.onCandidate(msg.lane, msg.candidate);
      case 'lane-answer':
        if (!this.#out) throw new ProtocolError('peer-misbehaved', 'a lane-answer: this side opened no lane');
        return this.#out.onAnswer(msg.lane, msg.sdp);
      case 'close':
        return this.#peerClosed(msg.code);
      default:
        this.dispatchEvent(new CustomEvent('message', { detail: { msg, final } }));
    }
  }

  #closeLanes() {
    this.#taken.close();
    if (this.#out?.close()) console.info(this.#out.describe());
  }
}
