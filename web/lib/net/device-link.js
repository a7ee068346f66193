/**
 * @file Reaching one remembered device (`docs/protocol.md` §10) while the app is open: its own
 * signaling connection to the pair's room of the UTC day (§10.1), a reconnection handshake
 * (`SessionDriver`, §10.3) each time the two meet there, and presence: *online* only once a
 * session is confirmed and its data channel open.
 *
 * - Joined while the device has no live channel; left while it has one (the channel is the
 *   judge of presence); joined again when the channel ends, at the UTC day change, and after a
 *   failed session or a lost signaling connection (exponential backoff with jitter).
 * - Both sides send `hello` on seeing the other (`joined` with 2 peers, or `peer-joined`); a
 *   `peer-left` drops an unconfirmed session.
 * - A tombstone link (§10.4, §10.5) sends no `hello`: it answers the forgotten device's `hello`
 *   with the `forgotten` notice, then reports `told` and leaves.
 * - A server that refuses this network's sessions for a while (`rate-limited`, §4) is reported
 *   as an `error` and asked again only after `RATE_LIMITED_WAIT_MS`; the next join reports
 *   `recovered`.
 *
 * Events: `online` (detail: {channel}), `offline`, `error` (detail: {code}), `recovered` (the
 * server lets this device in again), `forgotten` (the peer forgot this device: its record must
 * go), `told` (a tombstone did its job).
 */

/** @import { KeyPair } from '../../types/protocol.js' */
/** @import { SecureChannel } from './secure-channel.js' */

import { b64uDecode, b64uEncode } from '../proto/b64.js';
import { ProtocolError, SESSION_OVER } from '../proto/errors.js';
import { Handshake } from '../proto/handshake.js';
import { generateKeyPair, randomBytes } from '../proto/keys.js';
import { deviceRoom, forgottenNotice, notPairedBody, reconnectRole, utcDay } from '../proto/remembered.js';
import { SessionDriver } from './session-driver.js';
import { Signaling } from './signaling.js';

/** First retry delay after a failure, doubled each time up to `MAX_BACKOFF_MS`. */
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
/** The minute a server that answered `rate-limited` asks for (§4). */
const RATE_LIMITED_WAIT_MS = 60_000;
/** Rooms change at 00:00 UTC; join the new one a little after. */
const DAY_MS = 86_400_000;
const DAY_CHANGE_SLACK_MS = 2000;
/** A tombstone leaves the room this long after sending its notice, if the peer stays. */
const TOLD_LINGER_MS = 5000;

/**
 * What a link needs of a signaling connection (`Signaling`'s API and events).
 * @typedef {EventTarget & { join(room: string): void, relay(body: unknown): void, close(): void, iceServers?: RTCIceServer[] }} SignalingLike
 */

export class DeviceLink extends EventTarget {
  #own;
  #peerIdentity;
  #pairingKey;
  #tombstone;
  #now;
  #connect;
  /** @type {SignalingLike | null} */
  #signaling = null;
  /** @type {SessionDriver | null} */
  #driver = null;
  /** Bodies relayed while the next session's keys are being made. @type {unknown[] | null} */
  #early = null;
  /** @type {SecureChannel | null} */
  #live = null;
  #stopped = true;
  #failures = 0;
  /** The server refused the last connection for its rate: the next join clears that. */
  #rateLimited = false;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #timer = null;

  /**
   * @param {object} opts
   * @param {KeyPair} opts.own this device's identity
   * @param {Uint8Array} opts.peerIdentity the remembered device's identity
   * @param {Uint8Array} opts.pairingKey the pair's key
   * @param {boolean} [opts.tombstone] only answer the forgotten device with a `forgotten` notice
   * @param {string} [opts.signalingUrl]
   * @param {() => number} [opts.now] the clock (ms since the epoch)
   * @param {() => SignalingLike} [opts.connect] opens a signaling connection (tests pass a fake)
   */
  constructor({ own, peerIdentity, pairingKey, tombstone = false, signalingUrl, now = Date.now, connect }) {
    super();
    this.#own = own;
    this.#peerIdentity = peerIdentity;
    this.#pairingKey = pairingKey;
    this.#tombstone = tombstone;
    this.#now = now;
    this.#connect = connect ?? (() => new Signaling(signalingUrl));
  }

  /** Whether a confirmed session's channel is open. */
  get online() {
    return this.#live !== null;
  }

  /** Starts trying to reach the device (joins the room unless a channel is live). */
  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (!this.#live) this.#join();
  }

  /** Stops: leaves the room and closes the live channel, if any. No events after this. */
  stop() {
    this.#stopped = true;
    this.#clearTimer();
    this.#leave();
    const live = this.#live;
    this.#live = null;
    live?.close();
  }

  /**
   * Takes a live channel to this device from elsewhere (the pairing that just made the record):
   * the device is online and the room is left until the channel ends.
   * @param {SecureChannel} channel
   * @param {SessionDriver | EventTarget} source what reports the channel's end with `error`
   */
  adopt(channel, source) {
    this.#leave();
    this.#online(channel, source);
  }

  async #join() {
    this.#clearTimer();
    this.#leave();
    if (this.#stopped) return;
    const day = utcDay(this.#now());
    const room = await deviceRoom(this.#pairingKey, day);
    if (this.#stopped || this.#live || this.#signaling) return;
    const sig = this.#connect();
    this.#signaling = sig;
    const mine = () => this.#signaling === sig && !this.#stopped;
    sig.addEventListener('joined', (ev) => {
      if (!mine()) return;
      if (this.#rateLimited) {
        this.#rateLimited = false;
        this.dispatchEvent(new Event('recovered'));
      }
      if (/** @type {CustomEvent} */ (ev).detail.peers >= 2) this.#meetSafely();
    });
    sig.addEventListener('peer-joined', () => mine() && this.#meetSafely());
    // The session engine weighs it: an unconfirmed session ends (`peer-left`, below: the
    // device is waited for in the room), unless a wrong-role hello is waiting for its
    // `not-paired`; a confirmed one goes on.
    sig.addEventListener('peer-left', () => {
      if (mine()) this.#driver?.handleServer({ type: 'peer-left' });
    });
    sig.addEventListener('relay', (ev) => {
      if (!mine()) return;
      const body = /** @type {CustomEvent} */ (ev).detail;
      if (body?.kind === 'hello' && body.identity === b64uEncode(this.#own.publicRaw)) {
        // Another tab of this same browser profile is in the room: step back and try later.
        this.#retry();
      } else if (this.#tombstone) {
        this.#answerForgotten(sig, body).catch(() => {});
      } else if (this.#early) {
        this.#early.push(body);
      } else {
        this.#driver?.handle(body);
      }
    });
    // `room-full` and the like: try again later with a fresh connection. Too many sessions
    // from this network: the person is told (the device list shows it) and the server gets
    // its minute.
    sig.addEventListener('server-error', (ev) => {
      if (!mine()) return;
      if (/** @type {CustomEvent} */ (ev).detail.code !== 'rate-limited') {
        this.#retry();
        return;
      }
      this.#rateLimited = true;
      this.#error('rate-limited');
      this.#retry(RATE_LIMITED_WAIT_MS);
    });
    sig.addEventListener('closed', () => {
      if (mine() && !this.#driver?.confirmed) this.#retry();
    });
    sig.join(room);
    // Move to the next day's room at 00:00 UTC.
    const next = (day + 1) * DAY_MS + DAY_CHANGE_SLACK_MS - this.#now();
    this.#timer = setTimeout(() => this.#join(), Math.max(next, 0));
  }

  #meetSafely() {
    this.#meet().catch((e) => {
      this.#error(e instanceof ProtocolError ? e.code : 'peer-misbehaved');
      this.#retry();
    });
  }

  /** The other device is in the room: a new session (a tombstone waits for its hello). */
  async #meet() {
    if (this.#tombstone) return;
    this.#driver?.close();
    this.#driver = null;
    const sig = this.#signaling;
    if (!sig) return;
    // The peer's hello may arrive while our keys are being made: keep it for the new driver.
    /** @type {unknown[]} */
    const early = [];
    this.#early = early;
    const hs = await this.#reconnectHandshake(randomBytes(32));
    // A newer meeting or leaving the room meanwhile makes this one moot.
    if (this.#early !== early || this.#signaling !== sig || this.#stopped) return;
    this.#early = null;
    const driver = new SessionDriver({
      hs,
      relay: (b) => sig.relay(b),
      iceServers: () => sig.iceServers ?? [],
      reconnect: { pairingKey: this.#pairingKey, peerIdentity: this.#peerIdentity },
    });
    this.#driver = driver;
    driver.addEventListener('ready', (ev) => {
      if (this.#driver !== driver || this.#stopped) return;
      this.#driver = null;
      this.#leave();
      this.#online(/** @type {CustomEvent} */ (ev).detail.channel, driver);
    });
    driver.addEventListener('error', (ev) => {
      if (this.#driver !== driver || this.#stopped) return;
      this.#driver = null;
      const { code, final } = /** @type {CustomEvent} */ (ev).detail;
      // The device left before the session was confirmed: it may come back to this room.
      if (code === 'peer-left') return;
      this.#error(code);
      if (code === 'forgotten' && final) {
        this.stop();
        this.dispatchEvent(new Event('forgotten'));
      } else if (final) {
        this.stop();
      } else {
        this.#retry();
      }
    });
    driver.sendHello();
    for (const body of early) driver.handle(body);
  }

  /**
   * @param {SecureChannel} channel
   * @param {EventTarget} source reports the end of the session with `error`
   */
  #online(channel, source) {
    this.#live = channel;
    this.#failures = 0;
    const ended = () => {
      if (this.#live !== channel) return;
      this.#live = null;
      this.dispatchEvent(new Event('offline'));
      if (!this.#stopped) this.#join();
    };
    source.addEventListener('error', (ev) => {
      const { code } = /** @type {CustomEvent} */ (ev).detail;
      // A session that failed (not one that merely ended) says why on the device's row.
      if (this.#live === channel && !SESSION_OVER.has(code)) this.#error(code);
      ended();
    });
    channel.addEventListener('closed', ended);
    this.dispatchEvent(new CustomEvent('online', { detail: { channel } }));
  }

  /**
   * A reconnection handshake with this device (§10.3): fresh ephemeral key, the given nonce.
   * @param {Uint8Array} nonce
   */
  async #reconnectHandshake(nonce) {
    return new Handshake({
      mode: 'reconnect',
      role: reconnectRole(this.#own.publicRaw, this.#peerIdentity),
      secret: this.#pairingKey,
      identity: this.#own,
      ephemeral: await generateKeyPair(),
      nonce,
      expectedPeerIdentity: this.#peerIdentity,
    });
  }

  /**
   * Tombstone: checks the hello's identity (§10.3 step 2) and answers with the notice.
   * @param {SignalingLike} sig
   * @param {any} body
   */
  async #answerForgotten(sig, body) {
    if (body?.kind !== 'hello') return;
    const hs = await this.#reconnectHandshake(randomBytes(32));
    try {
      await hs.handlePeerHello(body);
    } catch (e) {
      if (e instanceof ProtocolError && e.code === 'key-changed') sig.relay(notPairedBody());
      return;
    }
    const peerHello = { nonce: b64uDecode(body.nonce), identity: this.#peerIdentity };
    sig.relay(await forgottenNotice(this.#pairingKey, peerHello, this.#own.publicRaw));
    this.#stopped = true;
    this.#clearTimer();
    this.dispatchEvent(new Event('told'));
    // Leave once the notice is surely relayed: when the peer leaves, or a little later.
    sig.addEventListener('peer-left', () => sig.close());
    setTimeout(() => sig.close(), TOLD_LINGER_MS);
  }

  /** @param {number} [atLeastMs] the earliest the next attempt may come */
  #retry(atLeastMs = 0) {
    this.#leave();
    if (this.#stopped || this.#live) return;
    this.#clearTimer();
    const base = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.#failures);
    this.#failures += 1;
    const delay = Math.max(atLeastMs, base / 2 + Math.random() * (base / 2));
    this.#timer = setTimeout(() => this.#join(), delay);
  }

  #leave() {
    this.#driver?.close();
    this.#driver = null;
    this.#early = null;
    const sig = this.#signaling;
    this.#signaling = null;
    sig?.close();
  }

  #clearTimer() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** @param {string} code */
  #error(code) {
    this.dispatchEvent(new CustomEvent('error', { detail: { code } }));
  }
}
