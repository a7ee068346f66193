/**
 * @file The encrypted channel of a confirmed session: every data-channel message is one AEAD
 * record (`record.js`) carrying one inner message (`transfer.js`). Sends are serialised so
 * records leave in sequence order; received records are opened strictly in arrival order.
 * Only `Connection` creates it, and only after the peer's confirm MAC verified.
 *
 * Events: `message` (detail: {msg, final}), `error` (detail: {code}), `closed`.
 */

/** @import { Session } from '../types/protocol.js' */
/** @import { Peer } from './peer.js' */

/** @typedef {{ local: string, remote: string, relayed: boolean }} Path */

import { ProtocolError } from './errors.js';
import { RECORD_OVERHEAD } from './limits.js';
import { RecordOpener, RecordSealer } from './record.js';
import { decodeInner } from './transfer.js';

/**
 * When `watchPath` reads the path after the channel opened, in ms: a read before the transport
 * selected a pair finds none, and Chromium may move to another pair once more checks succeed.
 */
const PATH_READS_MS = [0, 1000, 3000];

export class SecureChannel extends EventTarget {
  #peer;
  #sealer;
  #opener;
  /** @type {Promise<void>} */
  #sendChain = Promise.resolve();
  /** @type {Promise<void>} */
  #recvChain = Promise.resolve();
  #broken = false;
  /** The short verification code both screens show. */
  sas;

  /**
   * @param {Peer} peer an open peer connection
   * @param {Session} session the confirmed handshake's keys
   */
  constructor(peer, session) {
    super();
    this.#peer = peer;
    this.#sealer = new RecordSealer(session.sendKey);
    this.#opener = new RecordOpener(session.recvKey);
    this.sas = session.sas;
    peer.addEventListener('message', (ev) => {
      const record = /** @type {CustomEvent<Uint8Array>} */ (ev).detail;
      this.#recvChain = this.#recvChain.then(() => this.#receive(record));
    });
    peer.addEventListener('closed', () => this.dispatchEvent(new Event('closed')));
    peer.addEventListener('failed', () => this.dispatchEvent(new Event('closed')));
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

  /** Closes the peer connection. */
  close() {
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
    this.dispatchEvent(new CustomEvent('error', { detail: { code } }));
    this.#peer.close();
  }

  /** @param {Uint8Array} record */
  async #receive(record) {
    if (this.#broken) return;
    try {
      const { inner, final } = await this.#opener.open(record);
      const msg = decodeInner(inner, final);
      this.dispatchEvent(new CustomEvent('message', { detail: { msg, final } }));
    } catch (e) {
      this.fail(e);
    }
  }
}
