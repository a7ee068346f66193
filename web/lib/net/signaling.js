/**
 * @file The WebSocket to the signaling server: join one room, relay bodies to the other peer.
 * The only module that touches `WebSocket`. It knows nothing of handshakes or files; the server
 * is untrusted, so everything received here is validated by the caller.
 *
 * Events: `joined` (detail: {peers, iceServers}), `peer-joined`, `peer-left`, `relay` (detail: body),
 * `server-error` (detail: {code, message}), `closed`.
 */

/** @import { ServerToClient } from '../../types/protocol.js' */

import { usableIceServers } from './ice.js';

export class Signaling extends EventTarget {
  /** @type {WebSocket} */
  #ws;
  /** @type {string[]} */
  #queue = [];
  /**
   * The STUN/TURN servers the server handed out when this connection joined (checked and
   * capped, §4.1); empty before that.
   * @type {RTCIceServer[]}
   */
  iceServers = [];

  /**
   * Opens the WebSocket at `/ws` of the page's own origin (or `url`).
   * @param {string} [url]
   */
  constructor(url) {
    super();
    const wsUrl = url ?? wsUrlFor(globalThis.location.href);
    this.#ws = new WebSocket(wsUrl);
    this.#ws.addEventListener('open', () => {
      for (const text of this.#queue) this.#ws.send(text);
      this.#queue = [];
    });
    this.#ws.addEventListener('message', (ev) => this.#onMessage(ev));
    this.#ws.addEventListener('close', () => this.dispatchEvent(new Event('closed')));
  }

  /**
   * Joins `room` (once per connection).
   * @param {string} room
   */
  join(room) {
    this.#send({ type: 'join', room });
  }

  /**
   * Forwards `body` to the other peer in the room.
   * @param {unknown} body
   */
  relay(body) {
    this.#send({ type: 'relay', body });
  }

  /** Closes the connection; no `closed` event handlers run after this. */
  close() {
    this.#ws.close();
  }

  /** @param {object} msg */
  #send(msg) {
    const text = JSON.stringify(msg);
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(text);
    else this.#queue.push(text);
  }

  /** @param {MessageEvent} ev */
  #onMessage(ev) {
    if (typeof ev.data !== 'string') return;
    /** @type {ServerToClient} */
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    switch (msg?.type) {
      case 'joined':
        this.iceServers = usableIceServers(msg.ice);
        this.dispatchEvent(new CustomEvent('joined', { detail: { peers: msg.peers, iceServers: this.iceServers } }));
        break;
      case 'peer-joined':
      case 'peer-left':
        this.dispatchEvent(new Event(msg.type));
        break;
      case 'relay':
        this.dispatchEvent(new CustomEvent('relay', { detail: msg.body }));
        break;
      case 'error':
        this.dispatchEvent(
          new CustomEvent('server-error', { detail: { code: msg.code, message: msg.message } }),
        );
        break;
      default:
        break;
    }
  }
}

/**
 * The signaling URL for a page URL: same origin, `ws:` or `wss:`, path `/ws`.
 * @param {string} pageUrl
 * @returns {string}
 */
export function wsUrlFor(pageUrl) {
  const u = new URL('/ws', pageUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.hash = '';
  return u.href;
}
