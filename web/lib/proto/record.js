/**
 * @file Records on the data channel (`docs/protocol.md` §6): every message is
 * `AES-256-GCM(key, nonce = 0^4 || u64be(seq), aad = empty, plaintext = flags[1] || inner)`,
 * that is ciphertext and tag only. The sequence number is implicit: each side counts its own
 * records from 0, so a dropped, replayed, duplicated or reordered record fails authentication.
 * Every refusal is `record-rejected`. Pure: keys and bytes in, bytes out. Mirrors `record.rs`
 * of `crates/pairwise-proto`; checked against `testdata/vectors/records.json`.
 *
 * WebCrypto copies its input when `encrypt` is called (before the promise settles), so a
 * caller may reuse or overwrite a plaintext buffer as soon as `sealFramed` returns; the sender
 * relies on that to frame file chunks in place (`transfer.js` `frameChunk`).
 */

import { ProtocolError } from './errors.js';
import { bufferSource } from './keys.js';
import { MAX_RECORD_BYTES, RECORD_OVERHEAD } from './limits.js';

/** Flags bit 0: the last chunk of a file. */
export const FLAG_FINAL = 0x01;
/** Largest inner message one record can carry. */
export const MAX_INNER_BYTES = MAX_RECORD_BYTES - RECORD_OVERHEAD;

const MAX_SEQ = 2n ** 64n - 1n;

/**
 * The GCM nonce for `seq`: `0x00000000 || u64be(seq)`.
 * @param {bigint} seq
 * @returns {Uint8Array<ArrayBuffer>}
 */
function nonceFor(seq) {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(4, seq, false);
  return iv;
}

/**
 * @param {number | bigint} seq
 * @returns {bigint}
 */
function toSeq(seq) {
  const s = BigInt(seq);
  if (s < 0n || s > MAX_SEQ) throw new RangeError('seq out of range');
  return s;
}

/**
 * Seals one record at an explicit `seq`. Use `RecordSealer` in sessions; this is the primitive
 * (and what the vectors check).
 * @param {CryptoKey} key AES-256-GCM key of the sender's role
 * @param {number | bigint} seq
 * @param {number} flags `0` or `FLAG_FINAL`
 * @param {Uint8Array} inner at most `MAX_INNER_BYTES`
 * @returns {Promise<Uint8Array>}
 */
export async function sealRecord(key, seq, flags, inner) {
  if ((flags & ~FLAG_FINAL) !== 0 || flags < 0 || flags > 0xff) throw new RangeError('unknown flag bits');
  if (inner.length > MAX_INNER_BYTES) throw new RangeError(`inner message over ${MAX_INNER_BYTES} bytes`);
  const plain = new Uint8Array(1 + inner.length);
  plain[0] = flags;
  plain.set(inner, 1);
  return sealFramed(key, seq, plain);
}

/**
 * Seals a plaintext the caller already laid out as `flags[1] || inner`. The bytes are copied
 * before this returns (WebCrypto), so the caller may overwrite `plaintext` right away.
 * @param {CryptoKey} key
 * @param {number | bigint} seq
 * @param {Uint8Array} plaintext `flags || inner`, at most `MAX_INNER_BYTES + 1` bytes
 * @returns {Promise<Uint8Array>}
 */
export function sealFramed(key, seq, plaintext) {
  if (plaintext.length < 1 || (plaintext[0] & ~FLAG_FINAL) !== 0) {
    return Promise.reject(new RangeError('unknown flag bits'));
  }
  if (plaintext.length > MAX_INNER_BYTES + 1) {
    return Promise.reject(new RangeError(`inner message over ${MAX_INNER_BYTES} bytes`));
  }
  // Called synchronously on purpose: see the file comment.
  return globalThis.crypto.subtle
    .encrypt({ name: 'AES-GCM', iv: nonceFor(toSeq(seq)), tagLength: 128 }, key, bufferSource(plaintext))
    .then((sealed) => new Uint8Array(sealed));
}

/**
 * Opens one record expected at `seq`.
 * @param {CryptoKey} key AES-256-GCM key of the sender's role
 * @param {number | bigint} seq the sequence number the receiver expects
 * @param {Uint8Array} record
 * @returns {Promise<{ inner: Uint8Array, final: boolean }>}
 * @throws {ProtocolError} `record-rejected`: shorter than 17 bytes, longer than
 *   `MAX_RECORD_BYTES`, authentication failure (tamper, wrong seq, key) or unknown flag bits
 */
export async function openRecord(key, seq, record) {
  if (!(record instanceof Uint8Array)) throw new ProtocolError('record-rejected', 'not bytes');
  if (record.length < RECORD_OVERHEAD) throw new ProtocolError('record-rejected', 'too short');
  if (record.length > MAX_RECORD_BYTES) throw new ProtocolError('record-rejected', 'too long');
  /** @type {ArrayBuffer} */
  let plain;
  try {
    plain = await globalThis.crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: nonceFor(toSeq(seq)), tagLength: 128 },
      key,
      bufferSource(record),
    );
  } catch {
    throw new ProtocolError('record-rejected', `record ${seq} of ${record.length} bytes failed authentication`);
  }
  const bytes = new Uint8Array(plain);
  const flags = bytes[0];
  if ((flags & ~FLAG_FINAL) !== 0) throw new ProtocolError('record-rejected', 'unknown flag bits');
  return { inner: bytes.subarray(1), final: (flags & FLAG_FINAL) !== 0 };
}

/** Seals the records one side sends, numbering them from 0 in call order. */
export class RecordSealer {
  #key;
  #seq = 0n;

  /** @param {CryptoKey} key the session's `sendKey` */
  constructor(key) {
    this.#key = key;
  }

  /** The sequence number the next `seal` or `sealFramed` takes (a frame names it, §12). */
  get nextSeq() {
    return this.#seq;
  }

  /**
   * Seals `inner` as the next record. The sequence number is taken when `seal` is called, so
   * records must be sent in call order; concurrent calls keep that order.
   * @param {Uint8Array} inner at most `MAX_INNER_BYTES`
   * @param {boolean} final FINAL flag: the last chunk of a file
   * @returns {Promise<Uint8Array>}
   */
  seal(inner, final) {
    if (inner.length > MAX_INNER_BYTES) {
      return Promise.reject(new RangeError(`inner message over ${MAX_INNER_BYTES} bytes`));
    }
    if (this.#seq > MAX_SEQ) return Promise.reject(new RangeError('sequence numbers exhausted'));
    const seq = this.#seq++;
    return sealRecord(this.#key, seq, final ? FLAG_FINAL : 0, inner);
  }

  /**
   * Seals a plaintext laid out as `flags || inner` as the next record, copying nothing; the
   * caller may overwrite `plaintext` once this returns.
   * @param {Uint8Array} plaintext
   * @returns {Promise<Uint8Array>}
   */
  sealFramed(plaintext) {
    if (this.#seq > MAX_SEQ) return Promise.reject(new RangeError('sequence numbers exhausted'));
    return sealFramed(this.#key, this.#seq++, plaintext);
  }
}

/** Opens the records the peer sends, expecting them numbered from 0 in call order. */
export class RecordOpener {
  #key;
  #seq = 0n;
  #broken = false;

  /** @param {CryptoKey} key the session's `recvKey` */
  constructor(key) {
    this.#key = key;
  }

  /**
   * Opens `record` as the next one. The expected sequence number is taken when `open` is called,
   * so call it in arrival order. After one refusal every later record is refused too: the
   * session is over.
   * @param {Uint8Array} record
   * @returns {Promise<{ inner: Uint8Array, final: boolean }>}
   * @throws {ProtocolError} `record-rejected`
   */
  open(record) {
    const seq = this.#seq++;
    return this.openAt(seq, record);
  }

  /** The sequence number the next `open` expects: where a peer that switched to frames (§12) goes on. */
  get nextSeq() {
    return this.#seq;
  }

  /**
   * Opens `record` sealed at the explicit `seq` (a frame's, §12), without moving the implicit
   * count; the caller (`Reorder`) makes sure each `seq` is opened once.
   * @param {bigint} seq
   * @param {Uint8Array} record
   * @returns {Promise<{ inner: Uint8Array, final: boolean }>}
   * @throws {ProtocolError} `record-rejected`
   */
  openAt(seq, record) {
    if (this.#broken) return Promise.reject(new ProtocolError('record-rejected', 'earlier record rejected'));
    return openRecord(this.#key, seq, record).catch((/** @type {unknown} */ e) => {
      this.#broken = true;
      throw e;
    });
  }
}
