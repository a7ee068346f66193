/**
 * @file Pairing by code (`docs/protocol.md` §2.1), the twin of `pairwise_proto::code`: the
 * 8-digit code and its room, the strict `code-*` bodies, and the exchange that turns an ECDH
 * between the two devices into what a link gives (`s`, `I_init_pub`) plus the six-digit
 * number both people compare. The initiator commits to its key, nonce and identity before it
 * sees the responder's, so a server in the middle gets one guess at the number per attempt.
 *
 * Decisions are synchronous and made in arrival order; only the hashing and the ECDH are
 * awaited (WebCrypto has no synchronous form), and `CodeExchange.handle` serialises its calls so
 * a body that arrives while another one's crypto runs is decided after it, as in Rust.
 */

/** @import { KeyPair } from '../../types/protocol.js' */

import { b64uEncode } from './b64.js';
import { bytesEqual, concat, decodeField, hasExactKeys } from './bytes.js';
import { ProtocolError } from './errors.js';
import { NONCE_BYTES } from './handshake.js';
import { PUBLIC_KEY_BYTES, deriveKeyBytes, ecdh, isValidPublicKey, sha256 } from './keys.js';

/** Digits in a code. */
export const CODE_DIGITS = 8;
/** Digits in the number the people compare. */
export const NUMBER_DIGITS = 6;

const ROOM_LABEL = 'pairwise/v1/code-room';
const COMMIT_LABEL = 'pairwise/v1/code-commit';
const TRANSCRIPT_LABEL = 'pairwise/v1/code';
const COMPARE_LABEL = 'pairwise/v1/code-compare';
const SECRET_LABEL = 'pairwise/v1/code-secret';
const EMPTY = new Uint8Array(0);
const ascii = (/** @type {string} */ s) => new TextEncoder().encode(s);

/** The largest multiple of 10^8 below 2^32: u32 values from here on are drawn again. */
const CODE_LIMIT = Math.floor(2 ** 32 / 10 ** CODE_DIGITS) * 10 ** CODE_DIGITS;

/**
 * A code from random bytes, uniformly: each 4 bytes are a big-endian u32, taken modulo 10^8
 * unless it is at or above `CODE_LIMIT` (then the next 4 bytes are tried). Undefined when no
 * group of 4 qualifies (the caller draws more bytes; 8 bytes fail with probability 2^-10).
 * @param {Uint8Array} random
 * @returns {string | undefined} 8 digits
 */
export function codeFromRandom(random) {
  const view = new DataView(random.buffer, random.byteOffset, random.byteLength);
  for (let at = 0; at + 4 <= random.length; at += 4) {
    const n = view.getUint32(at);
    if (n < CODE_LIMIT) return String(n % 10 ** CODE_DIGITS).padStart(CODE_DIGITS, '0');
  }
  return undefined;
}

/**
 * A fresh code (WebCrypto's random source).
 * @returns {string}
 */
export function newCode() {
  for (;;) {
    const code = codeFromRandom(globalThis.crypto.getRandomValues(new Uint8Array(8)));
    if (code) return code;
  }
}

/**
 * How a code is shown: two groups of four, "4821 9377".
 * @param {string} code 8 digits
 * @returns {string}
 */
export function showCode(code) {
  return `${code.slice(0, 4)} ${code.slice(4)}`;
}

/**
 * A typed code: spaces and `-` are removed, then exactly 8 ASCII digits must remain.
 * @param {string} typed
 * @returns {string} the 8 digits
 * @throws {ProtocolError} `bad-code`
 */
export function parseCode(typed) {
  const digits = typed.replace(/[ -]/g, '');
  if (!new RegExp(`^[0-9]{${CODE_DIGITS}}$`).test(digits)) throw new ProtocolError('bad-code', 'not 8 digits');
  return digits;
}

/**
 * The code's signaling room: `b64u(HKDF(ikm = ASCII(code), salt = "", info =
 * "pairwise/v1/code-room", L = 16))`. Anyone can compute it from the code, the server too: the
 * room only lets the two devices meet.
 * @param {string} code 8 digits
 * @returns {Promise<string>}
 */
export async function codeRoom(code) {
  return b64uEncode(await deriveKeyBytes(ascii(code), EMPTY, ROOM_LABEL, EMPTY, 16));
}

/**
 * How the number is shown: "482 193".
 * @param {string} number 6 digits
 * @returns {string}
 */
export function showNumber(number) {
  return `${number.slice(0, 3)} ${number.slice(3)}`;
}

/**
 * @typedef {{ kind: 'code-commit', commit: Uint8Array }
 *   | { kind: 'code-key', ephemeral: Uint8Array, nonce: Uint8Array }
 *   | { kind: 'code-open', ephemeral: Uint8Array, nonce: Uint8Array, identity: Uint8Array }
 *   | { kind: 'code-match' }} CodeBody
 */

/** The fields of each body after `kind`. @type {Record<string, string[]>} */
const FIELDS = {
  'code-commit': ['commit'],
  'code-key': ['ephemeral', 'nonce'],
  'code-open': ['ephemeral', 'nonce', 'identity'],
  'code-match': [],
};

/**
 * Whether a relayed body belongs to the code exchange (a `kind` starting with `code-`).
 * @param {unknown} body
 * @returns {boolean}
 */
export function isCodeBody(body) {
  return typeof body === 'object' && body !== null && typeof (/** @type {any} */ (body).kind) === 'string' && /** @type {any} */ (body).kind.startsWith('code-');
}

/**
 * Parses a `code-*` body strictly: a known kind, exactly its fields, 32-byte values, valid
 * P-256 keys.
 * @param {unknown} body
 * @returns {Promise<CodeBody>}
 * @throws {ProtocolError} `peer-misbehaved`
 */
export async function parseCodeBody(body) {
  const kind = isCodeBody(body) ? /** @type {any} */ (body).kind : null;
  const fields = kind !== null && Object.hasOwn(FIELDS, kind) ? FIELDS[kind] : null;
  if (!fields || !hasExactKeys(body, ['kind', ...fields])) throw new ProtocolError('peer-misbehaved', 'malformed code body');
  const b = /** @type {Record<string, unknown>} */ (body);
  try {
    if (kind === 'code-match') return { kind };
    if (kind === 'code-commit') return { kind, commit: decodeField(b.commit, 32, 'commit') };
    const ephemeral = decodeField(b.ephemeral, PUBLIC_KEY_BYTES, 'ephemeral');
    const nonce = decodeField(b.nonce, NONCE_BYTES, 'nonce');
    if (!(await isValidPublicKey(ephemeral))) throw new Error('ephemeral is not a P-256 point');
    if (kind === 'code-key') return { kind, ephemeral, nonce };
    const identity = decodeField(b.identity, PUBLIC_KEY_BYTES, 'identity');
    if (!(await isValidPublicKey(identity))) throw new Error('identity is not a P-256 point');
    return { kind, ephemeral, nonce, identity };
  } catch (e) {
    throw new ProtocolError('peer-misbehaved', e instanceof Error ? e.message : 'malformed code body');
  }
}

/**
 * `commit = SHA-256("pairwise/v1/code-commit" || E_i_pub || N_i || I_init_pub)`.
 * @param {Uint8Array} ephemeral @param {Uint8Array} nonce @param {Uint8Array} identity
 * @returns {Promise<Uint8Array>}
 */
export function commitment(ephemeral, nonce, identity) {
  return sha256(concat([ascii(COMMIT_LABEL), ephemeral, nonce, identity]));
}

/**
 * What the exchange ends with: the number to compare and what a link would have given.
 * @typedef {{ number: string, secret: Uint8Array, identityPub: Uint8Array, th: Uint8Array }} CodeOutcome
 */

/**
 * The number, the secret and `th_c` from both sides' values (§2.1).
 * @param {{ commit: Uint8Array, ei: Uint8Array, ni: Uint8Array, identity: Uint8Array, er: Uint8Array, nr: Uint8Array, own: CryptoKey, peer: Uint8Array }} v
 *   `own` is this side's ephemeral private key, `peer` the other side's ephemeral public key
 * @returns {Promise<CodeOutcome>}
 */
async function outcome(v) {
  const th = await sha256(concat([ascii(TRANSCRIPT_LABEL), v.commit, v.ei, v.ni, v.identity, v.er, v.nr]));
  const ikm = await ecdh(v.own, v.peer);
  const compare = await deriveKeyBytes(ikm, EMPTY, COMPARE_LABEL, th, 4);
  const n = new DataView(compare.buffer, compare.byteOffset, 4).getUint32(0) % 10 ** NUMBER_DIGITS;
  const secret = await deriveKeyBytes(ikm, EMPTY, SECRET_LABEL, th, 32);
  return { number: String(n).padStart(NUMBER_DIGITS, '0'), secret, identityPub: v.identity, th };
}

/**
 * What a call to the exchange produced: bodies to relay (in order) and, once, the outcome.
 * @typedef {{ send: object[], outcome?: CodeOutcome, ready?: boolean }} CodeStep
 */

/**
 * One side of the exchange. The initiator: `start()` when the responder has joined (the
 * `code-commit`), `handle(code-key)` gives the `code-open` and the outcome, `matched()` when its
 * person said yes (the `code-match`). The responder: `handle(code-commit)` gives the
 * `code-key`, `handle(code-open)` the outcome, and `ready` once its person said yes
 * (`matched()`) and the initiator's `code-match` came: then it sends its `hello`.
 */
export class CodeExchange {
  #role;
  #identity;
  #ephemeral;
  #nonce;
  /** The next kind this side takes from the peer. @type {string | null} */
  #expect;
  /** Bodies taken, as JSON text: a repeat byte for byte is ignored. @type {Map<string, string>} */
  #seen = new Map();
  /** @type {Uint8Array | null} */
  #commit = null;
  /** @type {CodeOutcome | null} */
  #outcome = null;
  #ownYes = false;
  #peerYes = false;
  /** @type {ProtocolError | null} */
  #failed = null;
  /** The running call: calls are decided one after another. @type {Promise<unknown>} */
  #queue = Promise.resolve();

  /**
   * @param {{ role: 'initiator' | 'responder', identity?: KeyPair, ephemeral: KeyPair, nonce: Uint8Array }} opts
   *   `identity` is the initiator's own (it goes into `code-open`)
   */
  constructor({ role, identity, ephemeral, nonce }) {
    if (role === 'initiator' && !identity) throw new TypeError('the initiator sends its identity');
    if (nonce.length !== NONCE_BYTES) throw new TypeError('nonce must be 32 bytes');
    this.#role = role;
    this.#identity = identity ?? null;
    this.#ephemeral = ephemeral;
    this.#nonce = nonce.slice();
    this.#expect = role === 'initiator' ? null : 'code-commit';
  }

  /** The outcome, once both keys are known. */
  get outcome() {
    return this.#outcome;
  }

  /** Responder: its person said yes and the initiator's `code-match` came. */
  get ready() {
    return this.#ownYes && this.#peerYes;
  }

  /**
   * Initiator: the `code-commit`, once.
   * @returns {Promise<CodeStep>}
   */
  start() {
    return this.#serial(async () => {
      if (this.#role !== 'initiator' || this.#commit) return { send: [] };
      const identity = /** @type {KeyPair} */ (this.#identity);
      this.#commit = await commitment(this.#ephemeral.publicRaw, this.#nonce, identity.publicRaw);
      this.#expect = 'code-key';
      return { send: [{ kind: 'code-commit', commit: b64uEncode(this.#commit) }] };
    });
  }

  /**
   * A relayed `code-*` body from the peer.
   * @param {unknown} body
   * @returns {Promise<CodeStep>}
   * @throws {ProtocolError} `peer-misbehaved` (malformed, out of order, a second different
   *   body of a kind), `verify-failed` (a `code-open` that is not what was committed)
   */
  handle(body) {
    return this.#serial(async () => {
      const parsed = await parseCodeBody(body).catch((/** @type {unknown} */ e) => {
        throw this.#fail('peer-misbehaved', e instanceof Error ? e.message : 'malformed code body');
      });
      const text = JSON.stringify(body);
      const before = this.#seen.get(parsed.kind);
      if (before === text) return { send: [] };
      if (before !== undefined) throw this.#fail('peer-misbehaved', `second ${parsed.kind}`);
      if (parsed.kind === 'code-match') {
        if (this.#role !== 'responder' || !this.#outcome) throw this.#fail('peer-misbehaved', 'code-match out of order');
        this.#seen.set(parsed.kind, text);
        this.#peerYes = true;
        return { send: [], ready: this.ready };
      }
      if (parsed.kind !== this.#expect) throw this.#fail('peer-misbehaved', `${parsed.kind} out of order`);
      this.#seen.set(parsed.kind, text);
      if (parsed.kind === 'code-commit') {
        this.#commit = parsed.commit;
        this.#expect = 'code-open';
        return { send: [{ kind: 'code-key', ephemeral: b64uEncode(this.#ephemeral.publicRaw), nonce: b64uEncode(this.#nonce) }] };
      }
      if (parsed.kind === 'code-key') {
        const identity = /** @type {KeyPair} */ (this.#identity);
        this.#expect = null;
        this.#outcome = await outcome({
          commit: /** @type {Uint8Array} */ (this.#commit),
          ei: this.#ephemeral.publicRaw,
          ni: this.#nonce,
          identity: identity.publicRaw,
          er: parsed.ephemeral,
          nr: parsed.nonce,
          own: this.#ephemeral.privateKey,
          peer: parsed.ephemeral,
        });
        const open = {
          kind: 'code-open',
          ephemeral: b64uEncode(this.#ephemeral.publicRaw),
          nonce: b64uEncode(this.#nonce),
          identity: b64uEncode(identity.publicRaw),
        };
        return { send: [open], outcome: this.#outcome };
      }
      // code-open, at the responder
      const open = /** @type {{ ephemeral: Uint8Array, nonce: Uint8Array, identity: Uint8Array }} */ (parsed);
      this.#expect = null;
      const expected = await commitment(open.ephemeral, open.nonce, open.identity);
      if (!bytesEqual(expected, /** @type {Uint8Array} */ (this.#commit))) throw this.#fail('verify-failed', 'code-open does not match the commitment');
      this.#outcome = await outcome({
        commit: /** @type {Uint8Array} */ (this.#commit),
        ei: open.ephemeral,
        ni: open.nonce,
        identity: open.identity,
        er: this.#ephemeral.publicRaw,
        nr: this.#nonce,
        own: this.#ephemeral.privateKey,
        peer: open.ephemeral,
      });
      return { send: [], outcome: this.#outcome };
    });
  }

  /**
   * This side's person said the numbers match. The initiator relays `code-match`.
   * @returns {CodeStep}
   */
  matched() {
    if (!this.#outcome || this.#ownYes) return { send: [] };
    this.#ownYes = true;
    if (this.#role === 'initiator') return { send: [{ kind: 'code-match' }] };
    return { send: [], ready: this.ready };
  }

  /**
   * @template T
   * @param {() => Promise<T>} step
   * @returns {Promise<T>}
   */
  #serial(step) {
    const run = this.#queue.then(() => {
      if (this.#failed) throw this.#failed;
      return step();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** @param {string} code @param {string} why */
  #fail(code, why) {
    this.#failed = new ProtocolError(/** @type {any} */ (code), why);
    return this.#failed;
  }
}
