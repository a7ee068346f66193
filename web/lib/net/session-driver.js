/**
 * @file One handshake session from the first `hello` to a confirmed, open, encrypted channel,
 * shared by pairing (`connection.js`, §5) and remembered devices (`device-link.js`, §10.3). It
 * drives the sans-IO `Handshake` with relayed bodies and the `Peer`'s fingerprints, holds ICE
 * candidates in both directions until the peer's confirm verified, and hands out a
 * `SecureChannel` only after that. It does not own the signaling connection: the caller feeds
 * relayed bodies to `handle` and sends what the driver gives to `relay`.
 *
 * - Both modes: after the peer's `hello` this side sends its own (if not sent yet); the
 *   initiator then offers; each side sends `confirm` once both SDPs are set.
 * - Unauthenticated input is a hint, never a verdict on a verified peer: once the peer's confirm
 *   verified, only candidates are taken from the server (anything else is ignored, as the
 *   peer never sends it); a body identical to one handled already (the server repeated it)
 *   is ignored; the whole handshake has `HANDSHAKE_TIMEOUT_MS`.
 * - Reconnecting only: a stranger's `hello` is answered `not-paired` (`key-changed`); a
 *   `not-paired` body is `unknown-device` (not final: it is unauthenticated, so the device is
 *   tried again later and stays remembered and verified); a `forgotten` notice is checked against this
 *   side's hello (`forgotten`, final, or `verify-failed`). A `hello` with the right identity but
 *   the wrong role most likely means the peer does not know this device's identity, so its
 *   `peer-misbehaved` waits briefly for the `not-paired` that then follows.
 *
 * Events: `confirmed` (detail: {sas}), `ready` (detail: {channel, peerIdentity, pairingKey}),
 * `error` (detail: {code, final}): the session failed or, once ready, ended (`peer-left` when
 * the channel closed). `final` means: do not try this device again.
 */

/** @import { AnswerBody, CandidateBody, OfferBody, Session } from '../../types/protocol.js' */
/** @import { Handshake } from '../proto/handshake.js' */

import { b64uDecode } from '../proto/b64.js';
import { hasExactKeys } from '../proto/bytes.js';
import { ProtocolError } from '../proto/errors.js';
import { sdpFingerprint } from '../proto/key-schedule.js';
import { iceTransportPolicy } from './ice.js';
import { declaredLanes, lanesWanted } from '../proto/lanes.js';
import { HANDSHAKE_TIMEOUT_MS, NOT_PAIRED_GRACE_MS } from '../proto/limits.js';
import { Peer } from './peer.js';
import { isNotPaired, notPairedBody, verifyForgotten } from '../proto/remembered.js';
import { SecureChannel } from './secure-channel.js';


/**
 * What a reconnection session needs beyond the handshake: the pair's key, the remembered
 * identity and this side's hello values (to check a `forgotten` notice, §10.5).
 * @typedef {object} ReconnectInfo
 * @property {Uint8Array} pairingKey
 * @property {Uint8Array} peerIdentity
 * @property {{ nonce: Uint8Array, identity: Uint8Array }} ownHello
 */

export class SessionDriver extends EventTarget {
  #hs;
  #relay;
  #initiator;
  /** @type {ReconnectInfo | null} */
  #reconnect;
  /** @type {Peer | null} */
  #peer = null;
  /** Relay bodies are handled strictly one after another, in arrival order. */
  #queue = Promise.resolve();
  /** @type {Session | null} */
  #session = null;
  /** @type {Uint8Array | null} */
  #peerIdentity = null;
  #failed = false;
  #ready = false;
  #helloSent = false;
  #helloSeen = false;
  /** A wrong-role hello's failure, waiting for a possible `not-paired` (see the file doc). */
  /** @type {{ error: ProtocolError, timer: ReturnType<typeof setTimeout> } | null} */
  #suspect = null;
  /**
   * ICE candidates are held back, in both directions, until the peer's confirm verified: no
   * connectivity check, no DTLS, no data channel with a device that has not proven the secret.
   * @type {CandidateBody[]}
   */
  #heldLocal = [];
  /** @type {any[]} */
  #heldRemote = [];

  /** @type {() => RTCIceServer[]} */
  #iceServers;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #deadline = null;
  /** The bodies handled before the confirm, as JSON text: a repeat is ignored. */
  #handled = new Set();
  /** The lanes the peer takes, from its `a=pairwise-lanes` (§12). */
  #peerLanes = 0;
  /** The confirmed session's channel, once ready. @type {SecureChannel | null} */
  #channel = null;

  /**
   * @param {{ hs: Handshake, relay: (body: unknown) => void, reconnect?: ReconnectInfo, iceServers?: () => RTCIceServer[] }} opts
   *   `iceServers`: what the signaling server handed out, read when the peer connection is made
   */
  constructor({ hs, relay, reconnect, iceServers = () => [] }) {
    super();
    this.#hs = hs;
    this.#relay = relay;
    this.#iceServers = iceServers;
    this.#initiator = hs.role === 'initiator';
    this.#reconnect = reconnect ?? null;
  }

  /** Whether the peer's confirm verified. */
  get confirmed() {
    return this.#session !== null;
  }

  /** Whether the session failed or was closed. */
  get ended() {
    return this.#failed;
  }

  /** Sends this side's `hello` (once). */
  sendHello() {
    if (this.#helloSent || this.#failed) return;
    this.#helloSent = true;
    this.#startDeadline();
    this.#relay(this.#hs.hello());
  }

  /**
   * Handles one relayed body, after every earlier one.
   * @param {unknown} body
   */
  handle(body) {
    this.#queue = this.#queue.then(() => this.#onRelay(body)).catch((e) => this.fail(e));
  }

  /** Ends the session quietly (no `error` event): the peer connection is closed. */
  close() {
    this.#failed = true;
    this.#clearSuspect();
    this.#clearDeadline();
    this.#peer?.close();
  }

  /**
   * Ends the session with an error (a ProtocolError's code, else `peer-misbehaved`).
   * @param {unknown} e
   * @param {boolean} [final]
   */
  fail(e, final = false) {
    if (this.#failed) return;
    this.#failed = true;
    this.#clearSuspect();
    this.#clearDeadline();
    const code = e instanceof ProtocolError ? e.code : 'peer-misbehaved';
    this.#peer?.close();
    this.dispatchEvent(new CustomEvent('error', { detail: { code, final } }));
  }

  /** @param {any} body */
  async #onRelay(body) {
    if (this.#failed) return;
    if (this.#suspect) {
      const { error } = this.#suspect;
      if (isNotPaired(body)) this.fail(new ProtocolError('unknown-device'));
      else this.fail(error);
      return;
    }
    if (typeof body !== 'object' || body === null) throw new ProtocolError('peer-misbehaved');
    const misshapen = bodyShapeError(body);
    if (misshapen && this.#session) {
      // Only the server can have sent it (the verified peer sends well-formed candidates); what
      // it relays now must not end a working session (§5).
      console.info(`ignored a relayed ${String(body.kind)} after the peer was verified: ${misshapen}`);
      return;
    }
    if (misshapen) throw new ProtocolError('peer-misbehaved', misshapen);
    if (this.#session && body.kind !== 'candidate') {
      console.info(`ignored a relayed ${String(body.kind)} after the peer was verified`);
      return;
    }
    if (body.kind !== 'candidate') {
      const text = JSON.stringify(body);
      if (this.#handled.has(text)) {
        console.info(`ignored a repeated ${String(body.kind)}`);
        return;
      }
      this.#handled.add(text);
    }
    switch (body.kind) {
      case 'hello':
        return this.#onHello(body);
      case 'offer':
        if (this.#initiator || !this.#helloSeen || this.#peer) throw new ProtocolError('peer-misbehaved');
        this.#peer = this.#newPeer();
        // From the SDP text received, not the browser's copy of it (which need not keep the line).
        this.#peerLanes = declaredLanes(String(body.sdp));
        await this.#peer.handleSignal(body);
        return this.#sendConfirm(this.#peer);
      case 'answer':
        if (!this.#initiator || !this.#peer) throw new ProtocolError('peer-misbehaved');
        this.#peerLanes = declaredLanes(String(body.sdp));
        await this.#peer.handleSignal(body);
        return this.#sendConfirm(this.#peer);
      case 'candidate':
        if (this.#session) await this.#peer?.handleSignal(body);
        else this.#heldRemote.push(body);
        return;
      case 'confirm':
        return this.#onConfirm(body);
      case 'not-paired':
        if (!this.#reconnect || this.#session || !isNotPaired(body)) throw new ProtocolError('peer-misbehaved');
        // Not final: the server could have sent it (§10.6); the device is tried again later.
        return this.fail(new ProtocolError('unknown-device', 'the other device answered not-paired'));
      case 'forgotten': {
        const r = this.#reconnect;
        if (!r || this.#session) throw new ProtocolError('peer-misbehaved');
        await verifyForgotten(body, r.pairingKey, r.peerIdentity, r.ownHello);
        return this.fail(new ProtocolError('forgotten'), true);
      }
      default:
        throw new ProtocolError('peer-misbehaved');
    }
  }

  /** @param {any} body */
  async #onHello(body) {
    try {
      await this.#hs.handlePeerHello(body);
    } catch (e) {
      if (this.#reconnect && e instanceof ProtocolError && e.code === 'key-changed') {
        this.#relay(notPairedBody());
      } else if (this.#reconnect && e instanceof ProtocolError && e.code === 'peer-misbehaved') {
        this.#suspect = { error: e, timer: setTimeout(() => this.fail(e), NOT_PAIRED_GRACE_MS) };
        return;
      }
      throw e;
    }
    this.#helloSeen = true;
    this.#startDeadline();
    this.#peerIdentity = b64uDecode(body.identity);
    this.sendHello();
    if (this.#initiator) {
      this.#peer = this.#newPeer();
      await this.#peer.start();
    }
  }

  /** @param {unknown} body */
  async #onConfirm(body) {
    this.#session = await this.#hs.handlePeerConfirm(body);
    this.dispatchEvent(new CustomEvent('confirmed', { detail: { sas: this.#session.sas } }));
    // Only now may the two devices try to reach each other (protocol.md §5, step 7).
    for (const held of this.#heldLocal) this.#relay(held);
    const remote = this.#heldRemote;
    this.#heldLocal = [];
    this.#heldRemote = [];
    for (const held of remote) await this.#peer?.handleSignal(held);
    this.#maybeReady();
  }

  #newPeer() {
    const peer = new Peer({
      initiator: this.#initiator,
      iceServers: this.#iceServers(),
      iceTransportPolicy: iceTransportPolicy(),
      sendSignal: (/** @type {OfferBody | AnswerBody | CandidateBody} */ b) => {
        if (this.#failed) return;
        if (b.kind === 'candidate' && !this.#session) this.#heldLocal.push(b);
        else this.#relay(b);
      },
    });
    peer.addEventListener('open', () => this.#maybeReady());
    // Without a relay, a failed connection means the two networks allow no direct path; not
    // before the confirm, though: the candidates were held back, so no path was tried.
    const relayed = this.#iceServers().some((s) => [s.urls].flat().some((u) => u.startsWith('turn')));
    peer.addEventListener('failed', () =>
      this.fail(new ProtocolError(relayed || this.#ready || !this.#session ? 'connect-failed' : 'no-route')),
    );
    peer.addEventListener('closed', () => {
      // A channel telling the peer why it fails (§6.1) reports its own code once its `close`
      // left; the peer may close on reading it before then, and that is no `peer-left`.
      if (this.#channel?.telling) return;
      this.fail(new ProtocolError(this.#session ? 'peer-left' : 'connect-failed'));
    });
    return peer;
  }

  /**
   * Sends our confirm once both descriptions are set. It runs inside the relay queue, right
   * after the offer or answer was applied, so the peer's confirm is always handled after ours.
   * @param {Peer} peer
   */
  async #sendConfirm(peer) {
    const local = sdpFingerprint(peer.localSdp);
    const remote = sdpFingerprint(peer.remoteSdp);
    if (this.#initiator) this.#hs.setFingerprints(local, remote);
    else this.#hs.setFingerprints(remote, local);
    this.#relay(await this.#hs.confirm());
  }

  #maybeReady() {
    // Called from the channel's open event and after the confirm; the channel may open while
    // the confirm handler still applies held candidates, so both can get here: announce once.
    const session = this.#session;
    if (this.#ready || this.#failed || !session || !this.#peer?.isOpen || !this.#peerIdentity) return;
    this.#ready = true;
    this.#clearDeadline();
    const channel = new SecureChannel(this.#peer, session, {
      iceServers: this.#iceServers(),
      peerLanes: this.#peerLanes,
      forcedLanes: lanesWanted(globalThis.location?.search ?? ''),
      pacedLanes: new URLSearchParams(globalThis.location?.search ?? '').get('pace') !== '0',
    });
    // A failed channel (a bad name, a record that fails authentication, a misbehaving peer) ends
    // the session with its code, so the screen says why (§9); otherwise only the close that
    // follows would be seen, as `peer-left`.
    channel.addEventListener('error', (ev) => this.fail(new ProtocolError(/** @type {CustomEvent} */ (ev).detail.code)));
    this.#channel = channel;
    const detail = { channel, peerIdentity: this.#peerIdentity, pairingKey: session.pairingKey };
    this.dispatchEvent(new CustomEvent('ready', { detail }));
  }

  /**
   * A server that drops a `confirm` or a `hello` would otherwise leave one screen on
   * "connecting" and the other on "paired" for ever: both fail with `connect-failed` instead.
   */
  #startDeadline() {
    if (this.#deadline !== null || this.#failed || this.#ready) return;
    this.#deadline = setTimeout(
      () => this.fail(new ProtocolError('connect-failed', `the handshake did not finish in ${HANDSHAKE_TIMEOUT_MS / 1000} s`)),
      HANDSHAKE_TIMEOUT_MS,
    );
  }

  #clearDeadline() {
    if (this.#deadline !== null) clearTimeout(this.#deadline);
    this.#deadline = null;
  }

  #clearSuspect() {
    if (this.#suspect) clearTimeout(this.#suspect.timer);
    this.#suspect = null;
  }
}

/** The fields of the bodies this module reads itself (§4.2); hellos, confirms and the
 * remembered-device bodies are checked as strictly where they are parsed. */
const BODY_FIELDS = /** @type {Record<string, string[]>} */ ({
  offer: ['kind', 'sdp'],
  answer: ['kind', 'sdp'],
  candidate: ['kind', 'candidate'],
});

/**
 * Why a relayed `offer`, `answer` or `candidate` body is not as §4.2 has it (a field missing or
 * not in the table, an SDP that is no string, a candidate that is neither `null` nor an object
 * with a `candidate` string), or null.
 * @param {Record<string, unknown>} body
 * @returns {string | null}
 */
export function bodyShapeError(body) {
  const fields = BODY_FIELDS[String(body.kind)];
  if (!fields) return null;
  if (!hasExactKeys(body, fields)) return `${body.kind} fields are not exactly ${fields.join(', ')}`;
  if (body.kind !== 'candidate') return typeof body.sdp === 'string' ? null : `${body.kind} sdp is not a string`;
  const c = body.candidate;
  if (c === null) return null;
  if (typeof c !== 'object' || Array.isArray(c) || typeof (/** @type {any} */ (c).candidate) !== 'string') {
    return 'candidate is neither null nor an object with a candidate string';
  }
  return null;
}
