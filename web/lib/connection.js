/**
 * @file One pairing session from the first signaling message to a confirmed, open, encrypted
 * channel: it drives the sans-IO handshake (`handshake.js`) with bodies from `signaling.js` and
 * fingerprints from `peer.js`, and hands out a `SecureChannel` only after the peer's confirm
 * MAC verified. Nothing is sent on the data channel before that.
 *
 * Events: `state` (detail: idle|waiting|connecting|paired), `paired` (detail: {sas}),
 * `ready` (detail: SecureChannel), `error` (detail: {code}).
 */

import { ProtocolError } from './errors.js';
import { Handshake, sdpFingerprint } from './handshake.js';
import { generateKeyPair, randomBytes } from './keys.js';
import { encodeLink, parsePairFragment, roomId } from './link.js';
import { Peer } from './peer.js';
import { SecureChannel } from './secure-channel.js';
import { Signaling } from './signaling.js';

export class Connection extends EventTarget {
  /** @type {Signaling} */
  #signaling;
  /** @type {Handshake} */
  #hs;
  /** @type {Peer | null} */
  #peer = null;
  #initiator;
  /** Relay bodies are handled strictly one after another, in arrival order. */
  #queue = Promise.resolve();
  /** @type {import('../types/protocol.js').Session | null} */
  #session = null;
  #failed = false;
  #ready = false;
  #helloSeen = false;
  /**
   * ICE candidates are held back, in both directions, until the peer's confirm verified: no
   * connectivity check, no DTLS, no data channel with a device that has not proven the secret.
   * @type {import("../types/protocol.js").CandidateBody[]}
   */
  #heldLocal = [];
  /** @type {any[]} */
  #heldRemote = [];

  /**
   * @param {{ initiator: boolean, hs: Handshake, room: string, signalingUrl?: string }} opts
   */
  constructor({ initiator, hs, room, signalingUrl }) {
    super();
    this.#initiator = initiator;
    this.#hs = hs;
    this.#signaling = new Signaling(signalingUrl);
    this.#signaling.addEventListener('joined', (ev) => this.#onJoined(/** @type {CustomEvent} */ (ev).detail.peers));
    this.#signaling.addEventListener('peer-joined', () => this.#onPeerJoined());
    this.#signaling.addEventListener('peer-left', () => this.#onPeerLeft());
    this.#signaling.addEventListener('relay', (ev) => {
      const body = /** @type {CustomEvent} */ (ev).detail;
      this.#queue = this.#queue.then(() => this.#onRelay(body)).catch((e) => this.#fail(e));
    });
    this.#signaling.addEventListener('server-error', (ev) => {
      this.#fail(new ProtocolError(/** @type {CustomEvent} */ (ev).detail.code));
    });
    this.#signaling.addEventListener('closed', () => {
      if (!this.#session) this.#fail(new ProtocolError('signaling-lost'));
    });
    this.#signaling.join(room);
  }

  /**
   * Starts a pairing as the device that shows the QR code.
   * @param {string} origin the web app's origin, e.g. `https://host:port`
   * @returns {Promise<{ link: string, connection: Connection }>}
   */
  static async initiate(origin) {
    const secret = randomBytes(32);
    const identity = await generateKeyPair();
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
   * @returns {Promise<Connection>}
   * @throws {ProtocolError} `bad-link`
   */
  static async respond(hash) {
    const { secret, identityPub } = await parsePairFragment(hash);
    const hs = new Handshake({
      role: 'responder',
      secret,
      identity: await generateKeyPair(),
      ephemeral: await generateKeyPair(),
      nonce: randomBytes(32),
      expectedPeerIdentity: identityPub,
    });
    return new Connection({ initiator: false, hs, room: await roomId(secret) });
  }

  /** Ends the session: signaling and the peer connection. */
  close() {
    this.#failed = true;
    this.#peer?.close();
    this.#signaling.close();
  }

  /** @param {number} peers */
  #onJoined(peers) {
    if (this.#initiator) {
      this.#state('waiting');
    } else if (peers < 2) {
      this.#fail(new ProtocolError('link-expired'));
    } else {
      this.#state('connecting');
      this.#signaling.relay(this.#hs.hello());
    }
  }

  #onPeerJoined() {
    if (this.#initiator) this.#state('connecting');
  }

  #onPeerLeft() {
    // Once the peer is verified the channel is the judge: its own close or failure says when
    // the peer is gone (the peer may leave the room as soon as its own channel is open).
    if (this.#session) return;
    this.#fail(new ProtocolError('peer-left'));
  }

  /** @param {any} body */
  async #onRelay(body) {
    if (this.#failed) return;
    if (typeof body !== 'object' || body === null) throw new ProtocolError('peer-misbehaved');
    switch (body.kind) {
      case 'hello':
        await this.#hs.handlePeerHello(body);
        this.#helloSeen = true;
        if (this.#initiator) {
          this.#signaling.relay(this.#hs.hello());
          this.#peer = this.#newPeer();
          await this.#peer.start();
        }
        break;
      case 'offer':
        if (this.#initiator || !this.#helloSeen || this.#peer) throw new ProtocolError('peer-misbehaved');
        this.#peer = this.#newPeer();
        await this.#peer.handleSignal(body);
        await this.#sendConfirm(this.#peer);
        break;
      case 'answer':
        if (!this.#initiator || !this.#peer) throw new ProtocolError('peer-misbehaved');
        await this.#peer.handleSignal(body);
        await this.#sendConfirm(this.#peer);
        break;
      case 'candidate':
        if (this.#session) await this.#peer?.handleSignal(body);
        else this.#heldRemote.push(body);
        break;
      case 'confirm': {
        this.#session = await this.#hs.handlePeerConfirm(body);
        this.#state('paired');
        this.dispatchEvent(new CustomEvent('paired', { detail: { sas: this.#session.sas } }));
        // Only now may the two devices try to reach each other (protocol.md §5, step 6).
        for (const held of this.#heldLocal) this.#signaling.relay(held);
        const remote = this.#heldRemote;
        this.#heldLocal = [];
        this.#heldRemote = [];
        for (const held of remote) await this.#peer?.handleSignal(held);
        this.#maybeReady();
        break;
      }
      default:
        throw new ProtocolError('peer-misbehaved');
    }
  }

  #newPeer() {
    const peer = new Peer({
      initiator: this.#initiator,
      sendSignal: (b) => {
        if (b.kind === 'candidate' && !this.#session) this.#heldLocal.push(b);
        else this.#signaling.relay(b);
      },
    });
    peer.addEventListener('open', () => this.#maybeReady());
    peer.addEventListener('failed', () => this.#fail(new ProtocolError('connect-failed')));
    peer.addEventListener('closed', () => {
      this.#fail(new ProtocolError(this.#session ? 'peer-left' : 'connect-failed'));
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
    this.#signaling.relay(await this.#hs.confirm());
  }

  #maybeReady() {
    // Called from the channel's open event and after the confirm; the channel may open while
    // the confirm handler still applies held candidates, so both can get here: announce once.
    if (this.#ready || this.#failed || !this.#session || !this.#peer?.isOpen) return;
    this.#ready = true;
    this.dispatchEvent(new CustomEvent('ready', { detail: new SecureChannel(this.#peer, this.#session) }));
  }

  /** @param {string} state */
  #state(state) {
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  /** @param {unknown} e */
  #fail(e) {
    if (this.#failed) return;
    this.#failed = true;
    const code = e instanceof ProtocolError ? e.code : 'peer-misbehaved';
    this.#peer?.close();
    this.#signaling.close();
    this.dispatchEvent(new CustomEvent('error', { detail: { code } }));
  }
}
