/**
 * @file The IO around the session engine (`../proto/session.js`) in the page, as the CLI's
 * `session/drive.rs` is in Rust: one handshake, pairing (`connection.js`, §5) or with a
 * remembered device (`device-link.js`, §10.3), from the first `hello` to a confirmed, open,
 * encrypted channel. It carries the engine's inputs (relayed bodies and server frames from the
 * caller, the `Peer`'s events, its own timer at `pollTimeout`) and does its actions (relay a
 * body, make the `Peer` and its offer or answer, apply an answer or a candidate); every
 * decision (the steps, candidates held until the confirm, what the server may still say after
 * it, the deadline, the not-paired grace, the error codes) is the engine's. It hands out a
 * `SecureChannel` only once the engine says the session is established. It does not own the
 * signaling connection: the caller feeds what it delivers and sends what `relay` gets.
 *
 * After that the session is the channel's: its failure, or the connection closing
 * (`peer-left`) or failing (`connect-failed`), ends it with an `error`.
 *
 * Events: `confirmed` (detail: {sas}), `ready` (detail: {channel, peerIdentity, pairingKey}),
 * `error` (detail: {code, final}): the session failed or, once ready, ended. `final` means: do
 * not try this device again (a verified `forgotten` notice). A stranger in a remembered device's
 * room (answered `not-paired`) is reported as `key-changed`, not final.
 */

/** @import { ServerToClient } from '../../types/protocol.js' */
/** @import { Handshake } from '../proto/handshake.js' */
/** @import { Action, Outcome, PeerInput, ServerInput, Start } from '../proto/session/io.js' */

import { ProtocolError } from '../proto/errors.js';
import { declaredLanes, lanesWanted } from '../proto/lanes.js';
import { Session } from '../proto/session.js';
import { iceTransportPolicy } from './ice.js';
import { Peer } from './peer.js';
import { SecureChannel } from './secure-channel.js';

/**
 * What a reconnection session needs beyond the handshake: the pair's key and the remembered
 * identity (to check a `forgotten` notice, §10.5).
 * @typedef {object} ReconnectInfo
 * @property {Uint8Array} pairingKey
 * @property {Uint8Array} peerIdentity
 */

export class SessionDriver extends EventTarget {
  #hs;
  #relay;
  /** @type {ReconnectInfo | null} */
  #reconnect;
  /** @type {() => RTCIceServer[]} */
  #iceServers;
  #now;
  /**
   * The engine: made when this side's `hello` goes (the responder, a remembered device) or at
   * the first input (a pairing initiator, which says nothing first). By then the room is joined
   * and the server's ICE servers are known.
   * @type {Session | null}
   */
  #engine = null;
  /** @type {Peer | null} */
  #peer = null;
  /** Inputs and their actions run strictly one after another, in arrival order. */
  #chain = Promise.resolve();
  /** @type {ReturnType<typeof setTimeout> | null} */
  #timer = null;
  #failed = false;
  #helloSent = false;
  #confirmed = false;
  #ready = false;
  /** The lanes the peer takes, from the `a=pairwise-lanes` of the SDP it sent (§12). */
  #peerLanes = 0;
  /**
   * Records that arrived on the channel before the `SecureChannel` took it (the engine learns
   * of the open channel a moment after the browser says so): they go to the channel first.
   * @type {Uint8Array[]}
   */
  #early = [];
  /** The confirmed session's channel, once ready. @type {SecureChannel | null} */
  #channel = null;

  /**
   * @param {{ hs: Handshake, relay: (body: unknown) => void, reconnect?: ReconnectInfo, iceServers?: () => RTCIceServer[], now?: () => number }} opts
   *   `iceServers`: what the signaling server handed out; `now`: a monotonic clock in ms (tests
   *   pass their own)
   */
  constructor({ hs, relay, reconnect, iceServers = () => [], now = () => performance.now() }) {
    super();
    this.#hs = hs;
    this.#relay = relay;
    this.#iceServers = iceServers;
    this.#reconnect = reconnect ?? null;
    this.#now = now;
  }

  /** Whether the peer's confirm verified. */
  get confirmed() {
    return this.#confirmed;
  }

  /** Whether the session failed or was closed. */
  get ended() {
    return this.#failed;
  }

  /** Sends this side's `hello` (once; a pairing initiator's goes when the engine says). */
  sendHello() {
    if (this.#failed || this.#helloSent || (this.#hs.role === 'initiator' && !this.#reconnect)) return;
    this.#helloSent = true;
    this.#relay(this.#hs.hello());
    this.#start();
  }

  /**
   * Handles one relayed body, after every earlier input.
   * @param {unknown} body
   */
  handle(body) {
    this.handleServer({ type: 'relay', body });
  }

  /**
   * Handles a frame from the server (`peer-left`, `error`, a relay), after every earlier input.
   * @param {ServerToClient} frame
   */
  handleServer(frame) {
    this.#server({ type: 'frame', frame });
  }

  /**
   * The signaling connection closed.
   * @param {string} [why]
   */
  serverClosed(why = 'server closed') {
    this.#server({ type: 'closed', why });
  }

  /** Ends the session quietly (no `error` event): the peer connection is closed. */
  close() {
    this.#failed = true;
    this.#clearTimer();
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
    this.#clearTimer();
    const code = e instanceof ProtocolError ? e.code : 'peer-misbehaved';
    this.#peer?.close();
    this.dispatchEvent(new CustomEvent('error', { detail: { code, final } }));
  }

  /** @param {ServerInput} input */
  #server(input) {
    if (this.#failed || this.#ready) return;
    this.#feed((s) => s.handleServer(this.#now(), input));
  }

  /** @param {PeerInput} input */
  #fromPeer(input) {
    this.#feed((s) => s.handlePeer(input));
  }

  /** The engine, from this side's start (its `hello` sent, where it sends one first). */
  #start() {
    if (this.#engine) return this.#engine;
    const hs = this.#hs;
    const r = this.#reconnect;
    /** @type {Start} */
    const start = r
      ? { kind: 'reconnect', handshake: hs, peer: { identity: r.peerIdentity, pairingKey: r.pairingKey } }
      : { kind: hs.role, handshake: hs };
    const hasTurn = this.#iceServers().some((s) => [s.urls].flat().some((u) => u.startsWith('turn')));
    // The browsers pick the best pair whenever it comes: no relayed candidate needs to wait.
    this.#engine = new Session(start, { relayedDelayMs: 0, hasTurn }, this.#now());
    this.#feed(async () => {});
    return this.#engine;
  }

  /**
   * Gives the engine one input after every earlier one, then does what it asks.
   * @param {(s: Session) => Promise<void>} input
   */
  #feed(input) {
    const engine = this.#start();
    this.#chain = this.#chain
      .then(async () => {
        if (this.#failed || this.#ready) return;
        await input(engine);
        await this.#drain(engine);
      })
      .catch((e) => this.fail(e));
  }

  /** @param {Session} engine */
  async #drain(engine) {
    if (engine.isConfirmed) this.#announceConfirmed(/** @type {string} */ (engine.sas));
    for (let a = engine.pollAction(); a; a = engine.pollAction()) {
      if (this.#failed) return;
      try {
        await this.#act(engine, a);
      } catch (e) {
        await engine.actionFailed(e instanceof Error ? e.message : String(e));
      }
    }
    const outcome = engine.pollOutcome();
    if (outcome) return this.#finish(outcome);
    this.#clearTimer();
    const at = engine.pollTimeout();
    if (at !== null && !this.#failed) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#feed((s) => s.handleTimeout(this.#now()));
      }, Math.max(0, at - this.#now()));
    }
  }

  /**
   * @param {Session} engine
   * @param {Action} action
   */
  async #act(engine, action) {
    switch (action.type) {
      case 'relay':
        this.#relay(action.body);
        return;
      case 'create-offer': {
        const peer = this.#newPeer(true);
        await peer.start();
        await engine.offerCreated(peer.localSdp, peer.localSdp);
        return;
      }
      case 'answer-offer': {
        // From the SDP text received, not the browser's copy of it (which need not keep the line).
        this.#peerLanes = declaredLanes(action.sdp);
        const peer = this.#newPeer(false);
        await peer.handleSignal({ kind: 'offer', sdp: action.sdp });
        await engine.answerCreated(peer.localSdp, peer.localSdp);
        return;
      }
      case 'accept-answer':
        this.#peerLanes = declaredLanes(action.sdp);
        await this.#peer?.handleSignal({ kind: 'answer', sdp: action.sdp });
        return;
      case 'add-candidate':
        await this.#peer?.handleSignal({ kind: 'candidate', candidate: action.candidate });
        return;
    }
  }

  /** @param {Outcome} outcome */
  #finish(outcome) {
    this.#clearTimer();
    if (outcome.type === 'failed') {
      this.fail(new ProtocolError(outcome.code, outcome.detail), outcome.code === 'forgotten');
      return;
    }
    if (outcome.type === 'stranger') {
      this.fail(new ProtocolError('key-changed', "a stranger's hello was answered not-paired"));
      return;
    }
    const { session, peerIdentity } = outcome;
    const peer = this.#peer;
    if (!peer) throw new ProtocolError('peer-misbehaved', 'channel open without a connection');
    this.#announceConfirmed(session.sas);
    this.#ready = true;
    const channel = new SecureChannel(peer, session, {
      iceServers: this.#iceServers(),
      peerLanes: this.#peerLanes,
      forcedLanes: lanesWanted(globalThis.location?.search ?? ''),
      pacedLanes: new URLSearchParams(globalThis.location?.search ?? '').get('pace') !== '0',
      early: this.#early,
    });
    this.#early = [];
    // A failed channel (a bad name, a record that fails authentication, a misbehaving peer) ends
    // the session with its code, so the screen says why (§9); otherwise only the close that
    // follows would be seen, as `peer-left`.
    channel.addEventListener('error', (ev) => this.fail(new ProtocolError(/** @type {CustomEvent} */ (ev).detail.code)));
    this.#channel = channel;
    const detail = { channel, peerIdentity, pairingKey: session.pairingKey };
    this.dispatchEvent(new CustomEvent('ready', { detail }));
  }

  /** @param {string} sas */
  #announceConfirmed(sas) {
    if (this.#confirmed) return;
    this.#confirmed = true;
    this.dispatchEvent(new CustomEvent('confirmed', { detail: { sas } }));
  }

  /**
   * The peer connection, once the engine asks for it; its events are the engine's inputs until
   * the session is ready, then the channel's end.
   * @param {boolean} offerer
   */
  #newPeer(offerer) {
    const peer = new Peer({
      initiator: offerer,
      iceServers: this.#iceServers(),
      iceTransportPolicy: iceTransportPolicy(),
      // Offers and answers go out as the engine's relays (see `#act`); candidates are its input.
      sendSignal: (b) => {
        if (b.kind === 'candidate' && !this.#ready) this.#fromPeer({ type: 'local-candidate', candidate: b.candidate });
      },
    });
    this.#peer = peer;
    peer.addEventListener('open', () => this.#fromPeer({ type: 'channel-open' }));
    peer.addEventListener('message', (ev) => {
      if (this.#ready) return;
      this.#early.push(/** @type {CustomEvent<Uint8Array>} */ (ev).detail);
      this.#fromPeer({ type: 'data' });
    });
    peer.addEventListener('failed', () => {
      if (this.#ready) this.fail(new ProtocolError('connect-failed'));
      else this.#fromPeer({ type: 'failed', why: 'the peer connection failed' });
    });
    peer.addEventListener('closed', () => {
      if (!this.#ready) return this.#fromPeer({ type: 'closed' });
      // A channel telling the peer why it fails (§6.1) reports its own code once its `close`
      // left; the peer may close on reading it before then, and that is no `peer-left`.
      if (this.#channel?.telling) return;
      this.fail(new ProtocolError('peer-left'));
    });
    return peer;
  }

  #clearTimer() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
