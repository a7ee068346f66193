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
 * Events: `state` (detail: idle|waiting|connecting|paired), `paired` (detail: {sas}),
 * `ready` (detail: {channel, peerIdentity, pairingKey}), `error` (detail: {code}).
 */

/** @import { KeyPair } from '../../types/protocol.js' */

import { ProtocolError } from '../proto/errors.js';
import { Handshake } from '../proto/handshake.js';
import { generateKeyPair, randomBytes } from '../proto/keys.js';
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
  /** @type {SessionDriver} */
  #driver;
  #initiator;
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
   * @param {{ initiator: boolean, hs: Handshake, room: string, signalingUrl?: string }} opts
   */
  constructor({ initiator, hs, room, signalingUrl }) {
    super();
    this.#initiator = initiator;
    this.#room = room;
    this.#signalingUrl = signalingUrl;
    this.#driver = new SessionDriver({
      hs,
      relay: (b) => this.#signaling.relay(b),
      iceServers: () => this.#signaling.iceServers,
    });
    this.#driver.addEventListener('confirmed', (ev) => {
      this.#state('paired');
      this.dispatchEvent(new CustomEvent('paired', { detail: /** @type {CustomEvent} */ (ev).detail }));
    });
    this.#driver.addEventListener('ready', (ev) => {
      // The page stays in the room (a third device opening the used link is told room-full,
      // "link already used"); what the server says from now on changes nothing (see above).
      this.dispatchEvent(new CustomEvent('ready', { detail: /** @type {CustomEvent} */ (ev).detail }));
    });
    this.#driver.addEventListener('error', (ev) => this.#fail(/** @type {CustomEvent} */ (ev).detail.code));
    this.#signaling = this.#connect();
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
      if (this.#initiator && !this.#driver.confirmed) this.#state('connecting');
    });
    sig.addEventListener('peer-left', () => {
      // Once the peer is verified the channel is the judge: its own close or failure says when
      // the peer is gone (the peer may leave the room as soon as its own channel is open).
      if (mine() && !this.#driver.confirmed) this.#fail('peer-left');
    });
    sig.addEventListener('relay', (ev) => {
      if (!mine()) return;
      this.#met = true;
      this.#driver.handle(/** @type {CustomEvent} */ (ev).detail);
    });
    sig.addEventListener('server-error', (ev) => {
      // Once the peer is verified, the server's word about relaying changes nothing either: a
      // late candidate relayed after the peer left the room (it may leave as soon as its own
      // channel is open) is answered `no-peer`, which ended sessions that were working.
      if (mine() && !this.#driver.confirmed) this.#fail(/** @type {CustomEvent} */ (ev).detail.code);
    });
    sig.addEventListener('closed', () => {
      if (!mine() || this.#driver.confirmed) return;
      if (this.#initiator && !this.#met) this.#rejoinLater();
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

  /** Ends the session: signaling and the peer connection. */
  close() {
    this.#failed = true;
    if (this.#rejoinTimer !== null) clearTimeout(this.#rejoinTimer);
    this.#driver.close();
    this.#signaling.close();
  }

  /** @param {number} peers */
  #onJoined(peers) {
    if (this.#initiator) {
      this.#state('waiting');
    } else if (peers < 2) {
      this.#fail('link-expired');
    } else {
      this.#state('connecting');
      this.#driver.sendHello();
    }
  }

  /** @param {string} state */
  #state(state) {
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  /** @param {string} code */
  #fail(code) {
    if (this.#failed) return;
    this.#failed = true;
    this.#driver.fail(new ProtocolError(code));
    this.close();
    this.dispatchEvent(new CustomEvent('error', { detail: { code } }));
  }
}
