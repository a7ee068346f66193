/**
 * @file The session engine: one handshake, pairing or reconnection, from the first `hello` to a
 * confirmed session with an open data channel (`docs/protocol.md` §5 steps 3-7, §10.3). The JS
 * twin of `session/` in `crates/pairwise-proto`, with its names and decisions, replaying the same
 * `testdata/vectors/scenarios/session-*.json`. Sans IO: the caller feeds what the signaling
 * server and the WebRTC stack report (`handleServer`, `handlePeer`, and the results of what it
 * was asked to do), drains `pollAction` for what to do next, and calls `handleTimeout` at
 * `pollTimeout`. Time is milliseconds on any monotonic clock of the caller's, passed in as `now`;
 * nothing here reads a clock, a socket or a random source. `net/session-driver.js` is the IO
 * around it in the page, as the CLI's `session/drive.rs` is in Rust.
 *
 * What it decides:
 * - the steps: the initiator answers the peer's `hello` (pairing) and makes the offer; the
 *   responder answers it; a remembered device's role comes from the key order (§10.3);
 * - ICE candidates are held back both ways until the peer's `confirm` verified (§5 step 7);
 *   then the peer's relayed candidates may wait `relayedDelayMs` (0 in the browsers);
 * - remembered devices: a `hello` from another identity is answered `not-paired` (`stranger`),
 *   `not-paired` ends with `unknown-device`, a `forgotten` notice is verified against our own
 *   `hello`; a `hello` with the paired identity but the wrong role waits `NOT_PAIRED_GRACE_MS`
 *   for the `not-paired` that usually follows it;
 * - what the server says is a hint, never a verdict on a verified peer: once the peer's
 *   `confirm` verified only candidates are taken (anything else, and a body that does not
 *   parse, is ignored) and the server going away no longer matters; a body identical to one
 *   handled already is ignored (the server repeated it);
 * - the handshake has `HANDSHAKE_TIMEOUT_MS` from the first `hello` to an open channel, then
 *   fails with `connect-failed`.
 *
 * WebCrypto is asynchronous where the Rust handshake is not. Every input method therefore
 * returns a promise and runs after every earlier input has finished (the engine serialises
 * them), and inside one the crypto is awaited only where a handshake step parses a key, derives
 * or verifies (a `hello`'s points, our `confirm`, the peer's `confirm`, a `forgotten` notice);
 * every decision around it is synchronous, on state no other input can touch meanwhile. So one
 * input still yields exactly the Rust step's actions, outcome and timeout, which the scenario
 * vectors pin. Making the crypto results inputs of their own instead would have split steps the
 * vectors keep whole and spread the handshake's order over the IO shell.
 *
 * One file past the usual size, like `session/mod.rs`: the steps are one table of stage and
 * body that reads best whole; what goes in and out is in `session/io.js`.
 */

/** @import { Session as Keys } from '../../types/protocol.js' */
/** @import { Handshake } from './handshake.js' */
/** @import { Action, Config, Outcome, PeerInput, RememberedPeer, ServerInput, Start } from './session/io.js' */

import { b64uDecode } from './b64.js';
import { ProtocolError } from './errors.js';
import { UnexpectedRole } from './handshake.js';
import { sdpFingerprint } from './key-schedule.js';
import { HANDSHAKE_TIMEOUT_MS, NOT_PAIRED_GRACE_MS } from './limits.js';
import { verifyForgotten } from './remembered.js';
import { canonicalJson, parsePeerSignal, withoutCandidates } from './session/io.js';

/**
 * Where the handshake is: waiting for the peer's `hello` (`initiator`, `responder`,
 * `reconnect`); hellos exchanged, the SDPs being made (`sdps`); our confirm sent (`confirm`);
 * the peer's verified (`confirmed`); a wrong-role `hello` waiting for its `not-paired`
 * (`suspect`); ended (`over`).
 * @typedef {'initiator' | 'responder' | 'reconnect' | 'sdps' | 'confirm' | 'confirmed' | 'suspect' | 'over'} Stage
 */

/** One handshake: see the file documentation. */
export class Session {
  /** @type {Stage} */
  #stage;
  /** @type {Handshake} */
  #hs;
  /** @type {RememberedPeer | null} */
  #remembered;
  #config;
  #reconnecting;
  /**
   * Our offer, as made (initiator): its fingerprint goes into the transcript.
   * @type {string | null}
   */
  #ownOffer = null;
  /** The peer's offer, as received (responder), until our answer is made. @type {string | null} */
  #peerOffer = null;
  /**
   * Our candidates and the peer's, held until the peer's confirm verified.
   * @type {(RTCIceCandidateInit | null)[]}
   */
  #heldLocal = [];
  /** @type {(RTCIceCandidateInit | null)[]} */
  #heldRemote = [];
  /**
   * The peer's relayed candidates and when they are due.
   * @type {{ at: number, candidate: RTCIceCandidateInit }[]}
   */
  #later = [];
  /** Whether a peer connection exists (candidates can be added). */
  #hasPeer = false;
  #open = false;
  /** @type {number | null} */
  #deadline;
  /** Bodies handled before the confirm, as canonical JSON text: a repeat is ignored. */
  #handled = new Set();
  /** @type {Action[]} */
  #actions = [];
  /** @type {Outcome | null} */
  #outcome = null;
  /**
   * A wrong-role hello's error and the end of its grace (stage `suspect`).
   * @type {{ error: ProtocolError, until: number } | null}
   */
  #suspect = null;
  /** The peer's identity, from its hello. @type {Uint8Array | null} */
  #peerIdentity = null;
  /** The confirmed session's keys (stage `confirmed`). @type {Keys | null} */
  #keys = null;
  /** Inputs run one after another, in the order they came. @type {Promise<void>} */
  #queue = Promise.resolve();

  /**
   * A session from `start` at `now`. The responder and a remembered device sent their `hello`
   * before, so their clock starts now; a pairing initiator's when the peer's `hello` arrives.
   * @param {Start} start
   * @param {Config} config
   * @param {number} now
   */
  constructor(start, config, now) {
    this.#stage = start.kind;
    this.#hs = start.handshake;
    this.#remembered = start.kind === 'reconnect' ? start.peer : null;
    this.#reconnecting = start.kind === 'reconnect';
    this.#config = config;
    this.#deadline = start.kind === 'initiator' ? null : now + HANDSHAKE_TIMEOUT_MS;
  }

  /** Whether the peer's `confirm` verified (the server's word no longer matters). */
  get isConfirmed() {
    return this.#stage === 'confirmed';
  }

  /**
   * The verification code both screens show, once the peer's `confirm` verified (the page shows
   * it before the channel opens); null before and after.
   * @returns {string | null}
   */
  get sas() {
    return this.#keys?.sas ?? null;
  }

  /** Whether the session ended (its outcome may have been taken). */
  get isOver() {
    return this.#stage === 'over';
  }

  /**
   * The next thing to do, if any. Drain after every input.
   * @returns {Action | null}
   */
  pollAction() {
    return this.#actions.shift() ?? null;
  }

  /**
   * How the session ended, once it did (taken once).
   * @returns {Outcome | null}
   */
  pollOutcome() {
    const o = this.#outcome;
    this.#outcome = null;
    return o;
  }

  /**
   * When `handleTimeout` is due, if ever.
   * @returns {number | null}
   */
  pollTimeout() {
    if (this.isOver) return null;
    const times = [this.#deadline, this.#suspect?.until ?? null, ...this.#later.map((l) => l.at)];
    const due = times.filter((t) => t !== null);
    return due.length ? Math.min(...due) : null;
  }

  /**
   * Time passed: the handshake's deadline, a relayed candidate due, the end of a grace.
   * @param {number} now
   * @returns {Promise<void>}
   */
  handleTimeout(now) {
    return this.#input(() => {
      if (this.isOver) return;
      if (this.#deadline !== null && now >= this.#deadline) {
        return this.#fail('connect-failed', `the handshake did not finish in ${HANDSHAKE_TIMEOUT_MS / 1000} s`);
      }
      if (this.#suspect && now >= this.#suspect.until) return this.#endSuspect();
      const due = this.#later.filter((l) => l.at <= now);
      this.#later = this.#later.filter((l) => l.at > now);
      for (const l of due) this.#actions.push({ type: 'add-candidate', candidate: l.candidate });
    });
  }

  /**
   * What the signaling server delivered.
   * @param {number} now
   * @param {ServerInput} input
   * @returns {Promise<void>}
   */
  handleServer(now, input) {
    return this.#input(async () => {
      if (this.isOver) return;
      const confirmed = this.isConfirmed;
      const suspect = this.#stage === 'suspect';
      if (input.type === 'frame' && input.frame.type === 'relay') return this.#handleBody(now, input.frame.body);
      // Once confirmed, the channel is the judge.
      if (confirmed) return;
      if (input.type === 'closed') {
        if (suspect) return this.#endSuspect();
        return this.#fail('signaling-lost', input.why || 'server closed');
      }
      // A grace waits for one body; only the connection's end cuts it short.
      if (suspect) return;
      const frame = input.frame;
      if (frame.type === 'peer-left') return this.#fail('peer-left', 'peer left the room');
      if (frame.type === 'error') return this.#fail(frame.code, frame.message);
    });
  }

  /**
   * Our offer is made: `sdp` as made (for the transcript), `sent` as relayed (the caller may
   * mark it; candidates are taken out here, they go only as `candidate` bodies).
   * @param {string} sdp
   * @param {string} sent
   * @returns {Promise<void>}
   */
  offerCreated(sdp, sent) {
    return this.#input(() => {
      if (this.isOver) return;
      this.#actions.push({ type: 'relay', body: { kind: 'offer', sdp: withoutCandidates(sent) } });
      this.#ownOffer = sdp;
    });
  }

  /**
   * Our answer to the peer's offer is made: `sdp` as made, `sent` as relayed.
   * @param {string} sdp
   * @param {string} sent
   * @returns {Promise<void>}
   */
  answerCreated(sdp, sent) {
    return this.#input(async () => {
      if (this.isOver) return;
      const offer = this.#peerOffer;
      this.#peerOffer = null;
      if (offer === null) return this.#fail('peer-misbehaved', "an answer without the peer's offer");
      this.#actions.push({ type: 'relay', body: { kind: 'answer', sdp: withoutCandidates(sent) } });
      if (this.#stage !== 'sdps') return this.#fail('peer-misbehaved', 'an answer out of turn');
      await this.#confirm(offer, sdp);
    });
  }

  /**
   * What the WebRTC stack reported.
   * @param {PeerInput} input
   * @returns {Promise<void>}
   */
  handlePeer(input) {
    return this.#input(() => {
      if (this.isOver) return;
      const confirmed = this.isConfirmed;
      switch (input.type) {
        case 'local-candidate':
          if (confirmed) this.#actions.push({ type: 'relay', body: { kind: 'candidate', candidate: input.candidate } });
          else this.#heldLocal.push(input.candidate);
          return;
        case 'channel-open':
          this.#open = true;
          return this.#checkEstablished();
        case 'failed':
          // Without a relay, a failed connection means the two networks allow no direct path:
          // say so, rather than "check that both are online". Only once confirmed: before, the
          // candidates were held back and the path was never tried.
          return this.#fail(!confirmed || this.#config.hasTurn ? 'connect-failed' : 'no-route', input.why);
        case 'closed':
          return this.#fail('connect-failed', 'peer connection closed');
        case 'data':
          return this.#fail('peer-misbehaved', 'data before confirm');
      }
    });
  }

  /**
   * The caller could not do what it was asked (create the connection, apply an SDP, add a
   * candidate): the session fails with `connect-failed`.
   * @param {string} why
   * @returns {Promise<void>}
   */
  actionFailed(why) {
    return this.#input(() => this.#fail('connect-failed', why));
  }

  /**
   * Runs `step` after every earlier input; an exception it throws ends the session with its
   * code (`peer-misbehaved` for anything that is no `ProtocolError`).
   * @param {() => void | Promise<void>} step
   * @returns {Promise<void>}
   */
  #input(step) {
    const run = this.#queue.then(step).catch((/** @type {unknown} */ e) => {
      const code = e instanceof ProtocolError ? e.code : 'peer-misbehaved';
      this.#fail(code, e instanceof Error ? e.message : String(e));
    });
    this.#queue = run;
    return run;
  }

  /**
   * @param {number} now
   * @param {unknown} body
   */
  async #handleBody(now, body) {
    const confirmed = this.isConfirmed;
    /** @type {import('./session/io.js').ParsedSignal} */
    let signal;
    try {
      signal = await parsePeerSignal(body);
    } catch (e) {
      // Once the peer is verified only the server can relay a body that does not parse; it
      // must not end a working session (§4.2, §5).
      if (confirmed) return;
      throw e;
    }
    const candidate = signal.kind === 'candidate';
    if (confirmed && !candidate) return;
    if (this.#stage === 'suspect') {
      if (signal.kind === 'not-paired') this.#fail('unknown-device', 'the other device answered not-paired');
      return;
    }
    if (!candidate) {
      const text = canonicalJson(body);
      if (this.#handled.has(text)) return;
      this.#handled.add(text);
    }
    const stage = this.#stage;
    const hs = this.#hs;
    if (signal.kind === 'hello' && stage === 'initiator') {
      hs.handleHello(signal.hello);
      this.#peerIdentity = signal.hello.identity;
      this.#deadline = now + HANDSHAKE_TIMEOUT_MS;
      this.#actions.push({ type: 'relay', body: { ...hs.hello() } }, { type: 'create-offer' });
      this.#hasPeer = true;
      this.#stage = 'sdps';
    } else if (signal.kind === 'hello' && stage === 'reconnect') {
      try {
        hs.handleHello(signal.hello);
      } catch (e) {
        if (e instanceof ProtocolError && e.code === 'key-changed') {
          this.#actions.push({ type: 'relay', body: { kind: 'not-paired' } });
          this.#outcome = { type: 'stranger' };
          this.#stage = 'over';
          return;
        }
        // The right identity with the wrong role: most likely the peer does not know this
        // device's key and is about to say so.
        if (e instanceof UnexpectedRole) {
          this.#suspect = { error: e, until: now + NOT_PAIRED_GRACE_MS };
          this.#stage = 'suspect';
          return;
        }
        throw e;
      }
      this.#peerIdentity = signal.hello.identity;
      if (hs.role === 'initiator') {
        this.#actions.push({ type: 'create-offer' });
        this.#hasPeer = true;
      }
      this.#stage = 'sdps';
    } else if (signal.kind === 'forgotten' && stage === 'reconnect') {
      const remembered = /** @type {RememberedPeer} */ (this.#remembered);
      const own = hs.hello();
      const ownHello = { nonce: b64uDecode(own.nonce), identity: b64uDecode(own.identity) };
      await verifyForgotten(body, remembered.pairingKey, remembered.identity, ownHello);
      return this.#fail('forgotten', 'the other device sent a verified forgotten notice');
    } else if (signal.kind === 'not-paired' && this.#reconnecting && ['reconnect', 'sdps', 'confirm'].includes(stage)) {
      // The peer may have taken our `hello` before it checked ours.
      return this.#fail('unknown-device', 'the other device answered not-paired');
    } else if (signal.kind === 'hello' && stage === 'responder') {
      hs.handleHello(signal.hello);
      this.#peerIdentity = signal.hello.identity;
      this.#stage = 'sdps';
    } else if (signal.kind === 'offer' && stage === 'sdps' && !this.#hasPeer && this.#peerOffer === null) {
      this.#peerOffer = signal.sdp;
      this.#hasPeer = true;
      this.#actions.push({ type: 'answer-offer', sdp: signal.sdp });
    } else if (signal.kind === 'answer' && stage === 'sdps' && this.#ownOffer !== null) {
      const offer = this.#ownOffer;
      this.#ownOffer = null;
      this.#actions.push({ type: 'accept-answer', sdp: signal.sdp });
      if (!(await this.#confirm(offer, signal.sdp))) return;
    } else if (signal.kind === 'candidate') {
      if (stage === 'confirmed') this.#addRemote(now, signal.candidate);
      else this.#heldRemote.push(signal.candidate);
    } else if (signal.kind === 'confirm' && stage === 'confirm') {
      this.#keys = await hs.handlePeerConfirm(body);
      this.#stage = 'confirmed';
      // Only now may the devices reach each other (§5 step 7).
      for (const c of this.#heldLocal) this.#actions.push({ type: 'relay', body: { kind: 'candidate', candidate: c } });
      const remote = this.#heldRemote;
      this.#heldLocal = [];
      this.#heldRemote = [];
      for (const c of remote) this.#addRemote(now, c);
    } else {
      return this.#fail('peer-misbehaved', `unexpected ${signal.kind}`);
    }
    this.#checkEstablished();
  }

  /**
   * Sends our confirm for the two SDPs (offer first); whether it went (else the session failed).
   * @param {string} offer
   * @param {string} answer
   * @returns {Promise<boolean>}
   */
  async #confirm(offer, answer) {
    /** @type {[string, string]} */
    let fps;
    try {
      fps = [sdpFingerprint(offer), sdpFingerprint(answer)];
    } catch (e) {
      this.#fail('peer-misbehaved', e instanceof Error ? e.message : 'bad sdp');
      return false;
    }
    this.#hs.setFingerprints(...fps);
    this.#actions.push({ type: 'relay', body: { ...(await this.#hs.confirm()) } });
    this.#stage = 'confirm';
    return true;
  }

  /**
   * @param {number} now
   * @param {RTCIceCandidateInit | null} candidate
   */
  #addRemote(now, candidate) {
    if (candidate === null) return;
    const relayed = typeof candidate.candidate === 'string' && candidate.candidate.includes(' typ relay');
    if (relayed && this.#config.relayedDelayMs > 0) {
      this.#later.push({ at: now + this.#config.relayedDelayMs, candidate });
    } else {
      this.#actions.push({ type: 'add-candidate', candidate });
    }
  }

  #checkEstablished() {
    const keys = this.#keys;
    if (!this.#open || this.#stage !== 'confirmed' || !keys) return;
    this.#stage = 'over';
    this.#outcome = { type: 'established', session: keys, peerIdentity: /** @type {Uint8Array} */ (this.#peerIdentity) };
  }

  /**
   * A wrong-role hello's grace ends (its time, or the server's end) with the error it was
   * waiting to explain.
   */
  #endSuspect() {
    const s = this.#suspect;
    this.#suspect = null;
    if (s) this.#fail(s.error.code, s.error.message);
  }

  /**
   * @param {string} code
   * @param {string} detail
   */
  #fail(code, detail) {
    this.#stage = 'over';
    this.#outcome ??= { type: 'failed', code, detail };
  }
}
