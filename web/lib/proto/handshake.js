/**
 * @file The peer-to-peer handshake of protocol v1 (`docs/protocol.md` §5), sans IO: strict
 * `hello` and `confirm` parsing and the order of the steps (the key schedule they use is in
 * `key-schedule.js`) through key confirmation. It takes and returns signaling bodies and keys; the
 * caller moves them over the signaling server and WebRTC. Only a verified peer `confirm` yields
 * a `Session`, so no record key exists for an unconfirmed peer. Mirrors `handshake/` of
 * `crates/pairwise-proto`; checked against `testdata/vectors/handshake.json` and `sdp.json`.
 */

/** @import { ConfirmBody, HelloBody, KeyPair, Role, Session } from '../../types/protocol.js' */
/** @import { HelloBytes } from './key-schedule.js' */

import { b64uEncode } from './b64.js';
import { bytesEqual, decodeField, hasExactKeys } from './bytes.js';
import { ProtocolError } from './errors.js';
import { LABELS, computeIkm, deriveSessionSecrets, importAesGcm, importHmac, sasFromBytes, transcriptHash } from './key-schedule.js';
import { PUBLIC_KEY_BYTES, bufferSource, isValidPublicKey } from './keys.js';

/** Bytes of a handshake nonce. */
export const NONCE_BYTES = 32;
/** Bytes of a confirm MAC (HMAC-SHA-256). */
export const MAC_BYTES = 32;

const HELLO_KEYS = ['kind', 'v', 'role', 'identity', 'ephemeral', 'nonce'];
const CONFIRM_KEYS = ['kind', 'mac'];

/**
 * The handshake of one session for one side, sans IO.
 *
 * Initiator: `handlePeerHello(responderHello)` -> send `hello()` and the offer -> once both SDPs
 * are known `setFingerprints` -> send `await confirm()` -> `handlePeerConfirm` -> `Session`.
 * Responder: send `hello()` -> `handlePeerHello(initiatorHello)` (checked against the link's
 * identity) -> answer -> `setFingerprints` -> `confirm()` -> `handlePeerConfirm`.
 *
 * Any refusal leaves the handshake failed: every later call throws too.
 */
export class Handshake {
  /** @type {Role} */
  #role;
  #secret;
  /** @type {KeyPair} */
  #identity;
  /** @type {KeyPair} */
  #ephemeral;
  #nonce;
  /** @type {Uint8Array | null} */
  #expectedPeerIdentity;
  /** @type {'pairing' | 'reconnect'} */
  #mode;
  /** @type {HelloBytes | null} */
  #peer = null;
  /** A peer `hello` arrived (set before it is checked, so a concurrent second one is refused). */
  #helloSeen = false;
  /** @type {{ fpOffer: string, fpAnswer: string } | null} */
  #fingerprints = null;
  /** @type {Promise<Keys> | null} */
  #keys = null;
  /** @type {ConfirmBody | null} */
  #ownConfirm = null;
  #confirmed = false;
  /** @type {ProtocolError | null} */
  #failed = null;

  /**
   * @param {object} opts
   * @param {Role} opts.role
   * @param {Uint8Array} opts.secret the 32-byte pairing secret from the link, or the stored
   *   pairing key when remembered devices reconnect
   * @param {KeyPair} opts.identity own long-term identity key pair
   * @param {KeyPair} opts.ephemeral a fresh key pair for this session only
   * @param {Uint8Array} opts.nonce 32 fresh random bytes
   * @param {Uint8Array} [opts.expectedPeerIdentity] the initiator's identity from the link
   *   (required for the responder), or the remembered device's identity (required to reconnect)
   * @param {'pairing' | 'reconnect'} [opts.mode] `reconnect` for remembered devices (§10): the
   *   secret is the pairing key, the transcript has its own label, and a hello from another
   *   identity is `unknown-device`
   */
  constructor({ role, secret, identity, ephemeral, nonce, expectedPeerIdentity, mode = 'pairing' }) {
    if (role !== 'initiator' && role !== 'responder') throw new TypeError(`bad role ${role}`);
    if (secret.length !== 32) throw new TypeError('pairing secret must be 32 bytes');
    if (nonce.length !== NONCE_BYTES) throw new TypeError('nonce must be 32 bytes');
    for (const k of [identity, ephemeral]) {
      if (k.publicRaw.length !== PUBLIC_KEY_BYTES) throw new TypeError('public keys must be 65 bytes');
    }
    if ((role === 'responder' || mode === 'reconnect') && !expectedPeerIdentity) {
      throw new TypeError("the responder needs the initiator's identity from the link");
    }
    if (mode !== 'pairing' && mode !== 'reconnect') throw new TypeError(`bad mode ${mode}`);
    this.#mode = mode;
    this.#role = role;
    this.#secret = secret.slice();
    this.#identity = identity;
    this.#ephemeral = ephemeral;
    this.#nonce = nonce.slice();
    this.#expectedPeerIdentity = expectedPeerIdentity ? expectedPeerIdentity.slice() : null;
  }

  /** This side's role. */
  get role() {
    return this.#role;
  }

  /** The role the peer must have. */
  get peerRole() {
    return otherRole(this.#role);
  }

  /**
   * This side's `hello` body.
   * @returns {HelloBody}
   */
  hello() {
    return {
      kind: 'hello',
      v: 1,
      role: this.#role,
      identity: b64uEncode(this.#identity.publicRaw),
      ephemeral: b64uEncode(this.#ephemeral.publicRaw),
      nonce: b64uEncode(this.#nonce),
    };
  }

  /**
   * Takes the peer's `hello`, parsed strictly: exactly the fields of §4, `v` 1, the peer's role,
   * valid P-256 keys, a 32-byte nonce. The responder also checks the initiator's identity
   * against the link.
   * @param {unknown} body the relayed body
   * @returns {Promise<void>}
   * @throws {ProtocolError} `peer-misbehaved` (malformed, wrong role, second hello),
   *   `verify-failed` (identity differs from the link)
   */
  async handlePeerHello(body) {
    this.#check();
    if (this.#helloSeen) throw this.#fail('peer-misbehaved', 'second hello');
    this.#helloSeen = true;
    const hello = await parseHello(body).catch((/** @type {unknown} */ e) => {
      throw this.#fail('peer-misbehaved', e instanceof Error ? e.message : 'malformed hello');
    });
    this.#takeHello(hello);
  }

  /**
   * Takes the peer's `hello` already parsed (`parsePeerSignal`), synchronously: the checks of
   * `handlePeerHello` after the parse.
   * @param {ParsedHello} hello
   * @throws {ProtocolError} as `handlePeerHello`; a wrong role is an `UnexpectedRole`
   */
  handleHello(hello) {
    this.#check();
    if (this.#helloSeen) throw this.#fail('peer-misbehaved', 'second hello');
    this.#helloSeen = true;
    this.#takeHello(hello);
  }

  /** @param {ParsedHello} hello */
  #takeHello(hello) {
    const expected = this.#expectedPeerIdentity;
    // Reconnecting, the identity is checked first: a stranger's hello is `unknown-device`
    // whatever role it claims (the same order as the Rust state).
    if (this.#mode === 'reconnect' && expected && !bytesEqual(expected, hello.identity)) {
      throw this.#fail('key-changed', 'hello from an identity that is not the paired device');
    }
    if (hello.role !== this.peerRole) {
      const why = `hello from a ${hello.role}, expected a ${this.peerRole}`;
      this.#failed ??= new UnexpectedRole(why);
      throw new UnexpectedRole(why);
    }
    if (expected && !bytesEqual(expected, hello.identity)) {
      throw this.#fail('verify-failed', 'peer identity differs from the pairing link');
    }
    this.#check();
    this.#peer = { identity: hello.identity, ephemeral: hello.ephemeral, nonce: hello.nonce };
  }

  /**
   * Sets the DTLS fingerprints (from `sdpFingerprint`) of the offer and the answer: own from the
   * local description, the peer's from the received one. Once only; a repeat with other values
   * is a second offer or answer (`peer-misbehaved`).
   * @param {string} fpOffer
   * @param {string} fpAnswer
   * @throws {ProtocolError} `peer-misbehaved` on changed fingerprints
   */
  setFingerprints(fpOffer, fpAnswer) {
    this.#check();
    if (typeof fpOffer !== 'string' || typeof fpAnswer !== 'string') {
      throw new TypeError('fingerprints must be strings');
    }
    const fps = this.#fingerprints;
    if (fps) {
      if (fps.fpOffer === fpOffer && fps.fpAnswer === fpAnswer) return;
      throw this.#fail('peer-misbehaved', 'fingerprints changed: second offer or answer');
    }
    this.#fingerprints = { fpOffer, fpAnswer };
  }

  /**
   * This side's `confirm` body. Needs the peer's `hello` and both fingerprints; computes `th` and
   * the keys on the first call, returns the same body on later calls.
   * @returns {Promise<ConfirmBody>}
   */
  async confirm() {
    this.#check();
    if (this.#ownConfirm) return this.#ownConfirm;
    const keys = await this.#deriveKeys();
    const own = this.#role === 'initiator' ? keys.confirmInitiator : keys.confirmResponder;
    const mac = new Uint8Array(
      await globalThis.crypto.subtle.sign('HMAC', own, bufferSource(keys.th)),
    );
    this.#ownConfirm ??= { kind: 'confirm', mac: b64uEncode(mac) };
    return this.#ownConfirm;
  }

  /**
   * Checks the peer's `confirm` MAC (constant time, `crypto.subtle.verify`) and only then hands
   * out the session keys.
   * @param {unknown} body the relayed body
   * @returns {Promise<Session>}
   * @throws {ProtocolError} `verify-failed` for a wrong MAC, `peer-misbehaved` for a malformed
   *   or second `confirm`, or one before both hellos and SDPs are known
   */
  async handlePeerConfirm(body) {
    this.#check();
    if (this.#confirmed) throw this.#fail('peer-misbehaved', 'second confirm');
    this.#confirmed = true;
    const mac = parseConfirm(body);
    if (!mac) throw this.#fail('peer-misbehaved', 'malformed confirm');
    if (!this.#peer || !this.#fingerprints) {
      throw this.#fail('peer-misbehaved', 'confirm before both hellos and SDPs');
    }
    const keys = await this.#deriveKeys();
    const peerKey = this.#role === 'initiator' ? keys.confirmResponder : keys.confirmInitiator;
    const ok = await globalThis.crypto.subtle.verify('HMAC', peerKey, bufferSource(mac), bufferSource(keys.th));
    if (!ok) throw this.#fail('verify-failed', 'confirm MAC does not verify');
    this.#check();
    return {
      sendKey: this.#role === 'initiator' ? keys.recordInitiator : keys.recordResponder,
      recvKey: this.#role === 'initiator' ? keys.recordResponder : keys.recordInitiator,
      sas: keys.sas,
      pairingKey: keys.pairingKey.slice(),
      transcriptHash: keys.th.slice(),
    };
  }

  /** @returns {Promise<Keys>} */
  #deriveKeys() {
    const peer = this.#peer;
    const fps = this.#fingerprints;
    if (!peer) throw new Error('confirm() needs the peer hello first');
    if (!fps) throw new Error('confirm() needs both fingerprints first');
    this.#keys ??= (async () => {
      const own = {
        identity: this.#identity.publicRaw,
        ephemeral: this.#ephemeral.publicRaw,
        nonce: this.#nonce,
      };
      const [initiator, responder] = this.#role === 'initiator' ? [own, peer] : [peer, own];
      const label = this.#mode === 'reconnect' ? LABELS.reconnectTranscript : LABELS.transcript;
      const th = await transcriptHash({ initiator, responder, ...fps, label });
      const ikm = await computeIkm(
        this.#ephemeral.privateKey,
        peer.ephemeral,
        this.#identity.privateKey,
        peer.identity,
      );
      const s = await deriveSessionSecrets(ikm, this.#secret, th);
      const keys = {
        th,
        confirmInitiator: await importHmac(s.confirmInitiator),
        confirmResponder: await importHmac(s.confirmResponder),
        recordInitiator: await importAesGcm(s.recordInitiator, this.#role === 'initiator' ? 'encrypt' : 'decrypt'),
        recordResponder: await importAesGcm(s.recordResponder, this.#role === 'responder' ? 'encrypt' : 'decrypt'),
        pairingKey: s.pairingKey,
        sas: sasFromBytes(s.sasBytes),
      };
      // Raw bytes that live on in CryptoKeys only are wiped (best effort in JS).
      for (const b of [ikm, s.confirmInitiator, s.confirmResponder, s.recordInitiator, s.recordResponder]) b.fill(0);
      return keys;
    })();
    return this.#keys;
  }

  /** Throws the earlier failure again, if any. */
  #check() {
    if (this.#failed) throw this.#failed;
  }

  /**
   * Marks the handshake failed.
   * @param {'peer-misbehaved' | 'verify-failed' | 'key-changed'} code
   * @param {string} why
   * @returns {ProtocolError}
   */
  #fail(code, why) {
    this.#failed ??= new ProtocolError(code, why);
    return new ProtocolError(code, why);
  }
}

/**
 * A `hello` with the wrong role (`peer-misbehaved`). Reconnecting, it most likely means the peer
 * does not know this device's key and is about to say `not-paired` (the session engine waits).
 */
export class UnexpectedRole extends ProtocolError {
  /** @param {string} why */
  constructor(why) {
    super('peer-misbehaved', why);
    this.name = 'UnexpectedRole';
  }
}

/**
 * A parsed `hello`: its role and values as bytes.
 * @typedef {HelloBytes & { role: Role }} ParsedHello
 */

/**
 * Derived keys of one session.
 * @typedef {object} Keys
 * @property {Uint8Array} th
 * @property {CryptoKey} confirmInitiator
 * @property {CryptoKey} confirmResponder
 * @property {CryptoKey} recordInitiator
 * @property {CryptoKey} recordResponder
 * @property {Uint8Array} pairingKey
 * @property {string} sas
 */

/**
 * @param {Role} role
 * @returns {Role}
 */
function otherRole(role) {
  return role === 'initiator' ? 'responder' : 'initiator';
}

/**
 * Parses a `hello` body strictly (§5).
 * @param {unknown} body
 * @returns {Promise<ParsedHello>}
 */
export async function parseHello(body) {
  if (!hasExactKeys(body, HELLO_KEYS)) throw new Error('hello fields are not exactly those of §4');
  const b = /** @type {Record<string, unknown>} */ (body);
  if (b.kind !== 'hello') throw new Error('not a hello');
  if (b.v !== 1) throw new Error('hello version is not 1');
  if (b.role !== 'initiator' && b.role !== 'responder') throw new Error('bad role');
  const identity = decodeField(b.identity, PUBLIC_KEY_BYTES, 'identity');
  const ephemeral = decodeField(b.ephemeral, PUBLIC_KEY_BYTES, 'ephemeral');
  const nonce = decodeField(b.nonce, NONCE_BYTES, 'nonce');
  if (!(await isValidPublicKey(identity))) throw new Error('identity is not a P-256 point');
  if (!(await isValidPublicKey(ephemeral))) throw new Error('ephemeral is not a P-256 point');
  return { role: b.role, identity, ephemeral, nonce };
}

/**
 * The MAC of a strictly parsed `confirm` body, or null.
 * @param {unknown} body
 * @returns {Uint8Array | null}
 */
function parseConfirm(body) {
  if (!hasExactKeys(body, CONFIRM_KEYS)) return null;
  const b = /** @type {Record<string, unknown>} */ (body);
  if (b.kind !== 'confirm') return null;
  try {
    return decodeField(b.mac, MAC_BYTES, 'mac');
  } catch {
    return null;
  }
}

