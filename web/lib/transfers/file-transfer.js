/**
 * @file Files over a `SecureChannel`: routes the session's inner messages to the sending half
 * (`outgoing.js`: offers, answers, chunks under the transfer window) and the receiving half
 * (`incoming.js`: accept or decline, verify and store chunks, hand a file over once complete),
 * and ends both on `cancel` (§6) or when the session ends. With the other device's id and a
 * `ResumeStore`, offers carry a transfer id and resume after a dropped session (§11.3).
 *
 * - `Transfers` events: `outgoing` (detail: Outgoing), `incoming` (detail: Incoming), `text`
 *   (detail: the string, §11.2), `device` (detail: {name}: the peer's `device` message, §10.7;
 *   allowed at any time).
 * - `Outgoing` / `Incoming` (`transfer-progress.js`) events: `progress`, `state`, and for
 *   `Incoming` also `file` (detail: {name, type, size, blob, storage}, storage `opfs` or
 *   `memory`).
 */

/** @import { SecureChannel } from '../net/secure-channel.js' */
/** @import { ResumeStore } from '../storage/resume-store.js' */

import { ProtocolError } from '../proto/errors.js';
import { Receiver } from './incoming.js';
import { Sender } from './outgoing.js';
import { encodeCancel, encodeText } from '../proto/transfer.js';

export { Incoming, Outgoing } from './transfer-progress.js';

export class Transfers extends EventTarget {
  #channel;
  #sender;
  #receiver;

  /**
   * @param {SecureChannel} channel
   * @param {{ peer?: Promise<string>, resume?: ResumeStore | null }} [opts] the other device's
   *   id and where resumable transfers are kept; without them nothing resumes
   */
  constructor(channel, { peer, resume = null } = {}) {
    super();
    this.#channel = channel;
    const common = { channel, peer: peer ?? null, resume, cancelAll: () => this.#cancel() };
    this.#sender = new Sender({ ...common, announce: (out) => this.dispatchEvent(new CustomEvent('outgoing', { detail: out })) });
    this.#receiver = new Receiver({ ...common, announce: (inc) => this.dispatchEvent(new CustomEvent('incoming', { detail: inc })) });
    channel.addEventListener('message', (ev) => {
      const { msg, final } = /** @type {CustomEvent} */ (ev).detail;
      try {
        this.#onMessage(msg, final);
      } catch (e) {
        channel.fail(e);
      }
    });
    channel.addEventListener('error', (ev) => this.#abort(/** @type {CustomEvent} */ (ev).detail.code));
    channel.addEventListener('closed', () => this.#abort('incomplete'));
  }

  /**
   * Offers `files` to the peer, after any transfer of ours still running.
   * @param {File[]} files
   * @param {{ resuming?: boolean }} [opts] `resuming`: offered again after an interruption
   * @returns {Promise<import('./transfer-progress.js').Outgoing | null>} settles when the
   *   transfer ends (in any state)
   */
  send(files, opts) {
    return this.#sender.send(files, opts);
  }

  /**
   * Sends a short text (§11.2); the other device gets a `text` event.
   * @param {string} text 1 to 65 536 bytes of UTF-8
   * @returns {Promise<void>}
   */
  sendText(text) {
    return this.#channel.send(encodeText(text));
  }

  /**
   * @param {any} msg a decoded inner message
   * @param {boolean} final
   */
  #onMessage(msg, final) {
    switch (msg.type) {
      case 'manifest':
      case 'resume-ack':
      case 'chunk':
        return this.#receiver.onMessage(msg, final);
      case 'accept':
      case 'decline':
      case 'received':
      case 'progress':
        return this.#sender.onMessage(msg);
      case 'cancel':
        // A cancel ends every transfer of the session, both ways (§6).
        this.#sender.onMessage(msg);
        this.#receiver.onMessage(msg, final);
        return;
      case 'text':
        this.dispatchEvent(new CustomEvent('text', { detail: msg.text }));
        return;
      case 'device':
        this.dispatchEvent(new CustomEvent('device', { detail: { name: msg.name } }));
        return;
      default:
        throw new ProtocolError('peer-misbehaved');
    }
  }

  /**
   * Cancels every transfer in progress in this session (§6: a `cancel` ends both directions):
   * tells the other device once, stops sending, and removes the partly received file.
   */
  #cancel() {
    const sent = this.#sender.cancel();
    const received = this.#receiver.cancel();
    if (!sent && !received) return;
    this.#channel.send(encodeCancel()).catch((e) => this.#channel.fail(e));
  }

  /** @param {string} code */
  #abort(code) {
    this.#sender.end('error', code);
    this.#receiver.end('error', code);
  }
}
