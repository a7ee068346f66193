/**
 * @file One pairing session (`docs/protocol.md` §2, §3, §5): the pairing room's signaling
 * connection around a `SessionDriver`, which runs the handshake and hands out a `SecureChannel`
 * only after the peer's confirm MAC verified. Nothing is sent on the data channel before that.
 * The identity is this device's long-term one (`store.js`), so the pairing can be remembered.
 *
 * The device that shows the QR code keeps its link valid while it waits: if it loses the
 * server before anyone opened the link (a restart, a node that went away), it connects again by
 * itself and joins the same room (the room comes from the link's secret), for up to
 * `REJOIN_FOR_MS`.
 *
 * Pairing by code (§2.1) runs the code exchange in the code's room first (`proto/code.js`):
 * once the peer's key is known the connection says `numbers`, the page asks the person, and
 * `numbersMatch(true)` starts the same handshake as a link would (in the same room), with the
 * secret and the initiator's identity the exchange gave.
 *
 * Events: `state` (detail: idle|waiting|connecting|paired), `numbers` (detail: {number}, six
 * digits, code pairing only), `paired` (detail: {sas}), `ready` (detail: {channel,
 * peerIdentity, pairingKey}), `error` (detail: {code}).
 */

/** @import { KeyPair } from '../../types/protocol.js' */

/** @import { CodeOutcome, CodeStep } from '../proto/code.js' */

/**
 * Pairing by code: the exchange, what the handshake will need (made up front: WebCrypto's key
 * generation is async), the exchange's outcome once known, and the timer on the people.
 * @typedef {{ exchange: CodeExchange, identity: KeyPair, ephemeral: KeyPair, nonce: Uint8Array,
 *   outcome: CodeOutcome | null, timer: ReturnType<typeof setTimeout> | null }} CodeState
 */

import { CodeExchange, codeRoom, isCodeBody, newCode, parseCode } from '../proto/code.js';
import { ProtocolError } from '../proto/errors.js';
import { Handshake } from '../proto/handshake.js';
import { generateKeyPair, randomBytes } from '../proto/keys.js';
import { CODE_COMPARE_TIMEOUT_MS } from '../proto/limits.js';
import { encodeLink, parsePairFragment, roomId } from '../proto/link.js';
import { SessionDriver } from './session-driver.js';
import { Signaling } from './signaling.js';

/** How long a waiting QR code keeps reconnecting to a server it lost. */
const REJOIN_FOR_MS = 10 * 60_000;
/** Delays between those attempts: doubling from the first, up to the last. */
const REJOIN_FIRST_MS = 500;
const REJOIN_MAX_MS = 8000;

export class Connection extends EventTarget {
  /** @type {Signaling} */
  #signaling;
  /** The handshake's driver; with a code, made once the people said the numbers match. @type {SessionDriver | null} */
  #driver = null;
  #initiator;
  /** Pairing by code (§2.1): its state. @type {CodeState | null} */
  #code = null;
  #failed = false;
  #room;
  #signalingUrl;
  /** Someone opened the link (a peer joined or a body came): from then on a lost server ends it. */
  #met = false;
  /** When the server was lost while waiting, and the next delay. @type {{ since: number, delay: number } | null} */
  #rejoin = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #rejoinTimer = null;

  /**
   * @param {{ initiator: boolean, hs?: Handshake, room: string, signalingUrl?: string,
   *   code?: { exchange: CodeExchange, identity: KeyPair, ephemeral: KeyPair, nonce: Uint8Array } }} opts
   *   `hs` for a link, `code` for pairing by code
   */
  constructor({ initiator, hs, room, signalingUrl, code }) {
    super();
    this.#initiator = initiator;
    this.#room = room;
    this.#signalingUrl = signalingUrl;
    if (code) this.#code = { ...code, outcome: null, timer: null };
    if (hs) this.#startDriver(hs);
    this.#signaling = this.#connect();
  }

  /** Whether the peer's confirm verified: from then on the server's word changes nothing. */
  get #confirmed() {
    return this.#driver?.confirmed ?? false;
  }

  /** @param {Handshake} hs */
  #startDriver(hs) {
    const driver = new SessionDriver({
      hs,
      relay: (b) => this.#signaling.relay(b),
      iceServers: () => this.#signaling.iceServers,
    });
    driver.addEventListener('confirmed', (ev) => {
      this.#state('paired');
      this.dispatchEvent(new CustomEvent('paired', { detail: /** @type {CustomEvent} */ (ev).detail }));
    });
    driver.addEventListener('ready', (ev) => {
      // The page stays in the room (a third device opening the used link is told room-full,
      // "link already used"); what the server says from now on changes nothing (see above).
      this.dispatchEvent(new CustomEvent('ready', { detail: /** @type {CustomEvent} */ (ev).detail }));
    });
    driver.addEventListener('error', (ev) => this.#fail(/** @type {CustomEvent} */ (ev).detail.code));
    this.#driver = driver;
    return driver;
  }

  /** Opens a signaling connection, wires it to this session and joins the room. */
  #connect() {
    const sig = new Signaling(this.#signalingUrl);
    const mine = () => this.#signaling === sig && !this.#failed;
    sig.addEventListener('joined', (ev) => {
      if (!mine()) return;
      this.#rejoin = null;
      this.#onJoined(/** @type {CustomEvent} */ (ev).detail.peers);
    });
    sig.addEventListener('peer-joined', () => {
      if (!mine()) return;
      this.#met = true;
      // After the confirm it can only be the server's word (the peer is verified): no change.
      if (this.#initiator && !this.#confirmed) this.#state('connecting');
      if (this.#initiator && this.#code) this.#codeStep(this.#code.exchange.start());
    });
    // Pairing by code has no driver until the people said the numbers match (`#driver` is
    // null): until then what the server says ends the attempt here (the other person said
    // "they differ" and left: `peer-left`; `room-full` is `code-used`), as the tests in
    // tests/e2e/code-pairing.test.js check. Once the driver exists its session engine weighs
    // the server's word: before the peer's confirm verified, `peer-left`, an `error` and the
    // connection's end fail the session; after it the channel is the judge (the peer may leave
    // the room as soon as its own channel is open, and a late candidate relayed after that is
    // answered `no-peer`).
    sig.addEventListener('peer-left', () => {
      if (!mine()) return;
      if (this.#driver) this.#driver.handleServer({ type: 'peer-left' });
      else this.#fail('peer-left');
    });
    sig.addEventListener('relay', (ev) => {
      if (!mine()) return;
      this.#met = true;
      const body = /** @type {CustomEvent} */ (ev).detail;
      if (this.#code && isCodeBody(body)) this.#codeStep(this.#code.exchange.handle(body));
      else if (this.#driver) {
        // The initiator's person said yes and the responder's hello is here: from now on the
        // handshake's own deadline holds, not the people's.
        this.#stopCodeTimer();
        this.#driver.handle(body);
      }
      // With a code, the handshake's first body (the responder's hello) follows `code-match`,
      // which the initiator sends once its driver exists: anything earlier breaks the order.
      else this.#fail('peer-misbehaved');
    });
    sig.addEventListener('server-error', (ev) => {
      if (!mine()) return;
      const { code, message } = /** @type {CustomEvent} */ (ev).detail;
      const said = this.#code && code === 'room-full' ? 'code-used' : code;
      if (this.#driver) this.#driver.handleServer({ type: 'error', code: said, message });
      else this.#fail(said);
    });
    sig.addEventListener('closed', () => {
      if (!mine()) return;
      if (this.#initiator && !this.#met) this.#rejoinLater();
      else if (this.#driver) this.#driver.serverClosed();
      else this.#fail('signaling-lost');
    });
    sig.join(this.#room);
    return sig;
  }

  /** The QR code is still up and nobody opened it: connect again soon, with the same room. */
  #rejoinLater() {
    const now = Date.now();
    const r = (this.#rejoin ??= { since: now, delay: REJOIN_FIRST_MS });
    if (now - r.since > REJOIN_FOR_MS) {
      this.#fail('signaling-lost');
      return;
    }
    console.info(`lost the server while waiting; connecting again in ${r.delay} ms`);
    this.#rejoinTimer = setTimeout(() => {
      this.#rejoinTimer = null;
      if (!this.#failed) this.#signaling = this.#connect();
    }, r.delay);
    r.delay = Math.min(r.delay * 2, REJOIN_MAX_MS);
  }

  /**
   * Starts a pairing as the device that shows the QR code.
   * @param {string} origin the web app's origin, e.g. `https://host:port`
   * @param {KeyPair} identity this device's long-term identity
   * @returns {Promise<{ link: string, connection: Connection }>}
   */
  static async initiate(origin, identity) {
    const secret = randomBytes(32);
    const hs = new Handshake({
      role: 'initiator',
      secret,
      identity,
      ephemeral: await generateKeyPair(),
      nonce: randomBytes(32),
    });
    const link = encodeLink(origin, secret, identity.publicRaw);
    const connection = new Connection({ initiator: true, hs, room: await roomId(secret) });
    return { link, connection };
  }

  /**
   * Joins a pairing from a link's fragment (`#pair=...`).
   * @param {string} hash `location.hash`
   * @param {KeyPair} identity this device's long-term identity
   * @returns {Promise<Connection>}
   * @throws {ProtocolError} `bad-link`
   */
  static async respond(hash, identity) {
    const { secret, identityPub } = await parsePairFragment(hash);
    const hs = new Handshake({
      role: 'responder',
      secret,
      identity,
      ephemeral: await generateKeyPair(),
      nonce: randomBytes(32),
      expectedPeerIdentity: identityPub,
    });
    return new Connection({ initiator: false, hs, room: await roomId(secret) });
  }

  /**
   * Starts a pairing by code as the device that shows the code (§2.1).
   * @param {KeyPair} identity this device's long-term identity
   * @returns {Promise<{ code: string, connection: Connection }>} `code`: 8 digits
   */
  static async initiateByCode(identity) {
    const code = newCode();
    const exchange = new CodeExchange({ role: 'initiator', identity, ephemeral: await generateKeyPair(), nonce: randomBytes(32) });
    const later = { identity, ephemeral: await generateKeyPair(), nonce: randomBytes(32) };
    const connection = new Connection({ initiator: true, room: await codeRoom(code), code: { exchange, ...later } });
    return { code, connection };
  }

  /**
   * Joins a pairing by a typed code (§2.1).
   * @param {string} typed what the person typed
   * @param {KeyPair} identity this device's long-term identity
   * @returns {Promise<Connection>}
   * @throws {ProtocolError} `bad-code`
   */
  static async respondByCode(typed, identity) {
    const code = parseCode(typed);
    const exchange = new CodeExchange({ role: 'responder', ephemeral: await generateKeyPair(), nonce: randomBytes(32) });
    const later = { identity, ephemeral: await generateKeyPair(), nonce: randomBytes(32) };
    return new Connection({ initiator: false, room: await codeRoom(code), code: { exchange, ...later } });
  }

  /**
   * The person's answer to "does the other screen show this number?" (code pairing). No ends
   * the attempt (`numbers-differ`); yes starts the handshake (the initiator) or lets it start
   * once the initiator's person said yes too (the responder).
   * @param {boolean} yes
   */
  numbersMatch(yes) {
    const code = this.#code;
    if (!code?.outcome || this.#failed || this.#driver) return;
    if (!yes) {
      this.#fail('numbers-differ');
      return;
    }
    const step = code.exchange.matched();
    this.#state('connecting');
    if (this.#initiator) {
      // The driver first: the responder's hello follows our code-match.
      this.#handshake(code, code.outcome);
      for (const b of step.send) this.#signaling.relay(b);
    } else if (step.ready) {
      this.#respond(code, code.outcome);
    }
  }

  /** Ends the session: signaling and the peer connection. */
  close() {
    this.#failed = true;
    if (this.#rejoinTimer !== null) clearTimeout(this.#rejoinTimer);
    this.#stopCodeTimer();
    this.#driver?.close();
    this.#signaling.close();
  }

  /** @param {number} peers */
  #onJoined(peers) {
    if (this.#initiator) {
      this.#state('waiting');
      if (peers >= 2 && this.#code) this.#codeStep(this.#code.exchange.start());
    } else if (peers < 2) {
      this.#fail(this.#code ? 'code-unknown' : 'link-expired');
    } else {
      this.#state('connecting');
      // With a code, the initiator speaks first (its commitment), then the hello comes later.
      if (!this.#code) this.#driver?.sendHello();
    }
  }

  /**
   * What a step of the code exchange gives: bodies to relay, the numbers to show, the moment the
   * responder may send its hello.
   * @param {Promise<CodeStep>} step
   */
  #codeStep(step) {
    step.then(
      (s) => {
        const code = this.#code;
        if (this.#failed || !code) return;
        for (const b of s.send) this.#signaling.relay(b);
        if (s.outcome && !code.outcome) {
          code.outcome = s.outcome;
          code.timer = setTimeout(() => this.#fail('connect-failed'), CODE_COMPARE_TIMEOUT_MS);
          this.dispatchEvent(new CustomEvent('numbers', { detail: { number: s.outcome.number } }));
        }
        if (s.ready && code.outcome && !this.#driver) this.#respond(code, code.outcome);
      },
      (e) => this.#fail(e instanceof ProtocolError ? e.code : 'peer-misbehaved'),
    );
  }

  /**
   * The handshake of §5 with what the exchange gave, as a link would have given it.
   * @param {CodeState} code
   * @param {CodeOutcome} outcome
   */
  #handshake(code, outcome) {
    // The responder's hello goes now and starts the handshake's deadline; the initiator's
    // person may still wait for the other's yes, under the people's timer.
    if (!this.#initiator) this.#stopCodeTimer();
    const role = this.#initiator ? 'initiator' : 'responder';
    const hs = new Handshake({
      role,
      secret: outcome.secret,
      identity: code.identity,
      ephemeral: code.ephemeral,
      nonce: code.nonce,
      ...(role === 'responder' ? { expectedPeerIdentity: outcome.identityPub } : {}),
    });
    return this.#startDriver(hs);
  }

  #stopCodeTimer() {
    if (this.#code?.timer) clearTimeout(this.#code.timer);
    if (this.#code) this.#code.timer = null;
  }

  /**
   * The responder: both people said yes; its hello starts the handshake.
   * @param {CodeState} code
   * @param {CodeOutcome} outcome
   */
  #respond(code, outcome) {
    this.#handshake(code, outcome).sendHello();
  }

  /** @param {string} state */
  #state(state) {
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  /** @param {string} code */
  #fail(code) {
    if (this.#failed) return;
    this.#failed = true;
    this.#driver?.fail(new ProtocolError(code));
    this.close();
    this.dispatchEvent(new CustomEvent('error', { detail: { code } }));
  }
}
