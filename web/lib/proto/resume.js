/**
 * @file Resuming a transfer (`docs/protocol.md` §11.3): the hash chain over a file's 1 MiB
 * blocks, and the JSON of the receiver's claims (an `accept` payload) and the sender's
 * `resume-ack`. WebCrypto has no incremental SHA-256, so the chain buffers the current block
 * (at most 1 MiB) and hashes whole blocks. Mirrors `transfer/resume.rs`; checked against
 * `testdata/vectors/resume.json` and `transfer.json`.
 */

/** @import { ResumeClaim, ResumeStart } from '../../types/protocol.js' */

import { b64uDecode, b64uEncode } from './b64.js';
import { RESUME_BLOCK, TRANSFER_ID_BYTES } from './limits.js';
import { sha256 } from './keys.js';
import { strictJson } from './strict-json.js';

const encoder = new TextEncoder();

/** The running hash chain of one file. */
export class ResumeChain {
  /** @type {Uint8Array} */
  #h;
  #block = new Uint8Array(RESUME_BLOCK);
  #inBlock = 0;
  #offset;

  /**
   * A chain continued from a kept value `h` at `offset` (a multiple of 1 MiB); use
   * `ResumeChain.start` for a new file.
   * @param {Uint8Array} h 32 bytes
   * @param {number} offset
   */
  constructor(h, offset) {
    if (h.length !== 32) throw new RangeError('chain value must be 32 bytes');
    if (offset % RESUME_BLOCK !== 0) throw new RangeError('a chain continues at a block boundary');
    this.#h = h.slice();
    this.#offset = offset;
  }

  /**
   * The chain of file `index` of transfer `id` at offset 0:
   * `h_0 = SHA-256("pairwise/v1/resume" || id || u32be(index))`.
   * @param {Uint8Array} id 16 bytes
   * @param {number} index
   * @returns {Promise<ResumeChain>}
   */
  static async start(id, index) {
    if (id.length !== TRANSFER_ID_BYTES) throw new RangeError('transfer id must be 16 bytes');
    const label = encoder.encode('pairwise/v1/resume');
    const input = new Uint8Array(label.length + 16 + 4);
    input.set(label);
    input.set(id, label.length);
    new DataView(input.buffer).setUint32(label.length + 16, index, false);
    return new ResumeChain(await sha256(input), 0);
  }

  /**
   * Feeds the next bytes of the file.
   * @param {Uint8Array} bytes
   * @returns {Promise<void>}
   */
  async update(bytes) {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(RESUME_BLOCK - this.#inBlock, bytes.length - at);
      this.#block.set(bytes.subarray(at, at + take), this.#inBlock);
      this.#inBlock += take;
      this.#offset += take;
      at += take;
      if (this.#inBlock === RESUME_BLOCK) await this.#fold();
    }
  }

  /** Bytes fed so far (plus the start offset). */
  get offset() {
    return this.#offset;
  }

  /**
   * The last block boundary and the chain value there: what a receiver keeps and claims.
   * @returns {{ offset: number, h: Uint8Array }}
   */
  checkpoint() {
    return { offset: this.#offset - this.#inBlock, h: this.#h.slice() };
  }

  /**
   * The value over everything fed, a shorter last block included (the claim for a file held
   * whole). The chain must not be used afterwards.
   * @returns {Promise<Uint8Array>}
   */
  async finish() {
    if (this.#inBlock > 0) await this.#fold();
    return this.#h.slice();
  }

  async #fold() {
    const digest = await sha256(this.#block.subarray(0, this.#inBlock));
    const input = new Uint8Array(64);
    input.set(this.#h);
    input.set(digest, 32);
    this.#h = await sha256(input);
    this.#inBlock = 0;
  }
}

/**
 * The chain value over bytes `[0, length)` of file `index` of transfer `id`, read 1 MiB at a
 * time through `read(start, end)` (the next block is read while one is hashed, so at most two
 * blocks are held): what a sender computes over its own file to check a claim.
 * @param {Uint8Array} id 16 bytes
 * @param {number} index
 * @param {number} length a multiple of 1 MiB, or the file's size
 * @param {(start: number, end: number) => Promise<ArrayBuffer | Uint8Array>} read
 * @returns {Promise<Uint8Array>}
 */
export async function chainOver(id, index, length, read) {
  const chain = await ResumeChain.start(id, index);
  let next = length > 0 ? read(0, Math.min(RESUME_BLOCK, length)) : null;
  for (let at = 0; next; at += RESUME_BLOCK) {
    const block = new Uint8Array(await next);
    const end = at + RESUME_BLOCK;
    next = end < length ? read(end, Math.min(end + RESUME_BLOCK, length)) : null;
    await chain.update(block);
  }
  return chain.finish();
}

/**
 * The `accept` payload with claims: `{"resume":[{"index","offset","proof"}]}`.
 * @param {ResumeClaim[]} claims
 * @returns {Uint8Array}
 */
export function claimsJson(claims) {
  return encoder.encode(JSON.stringify({ resume: claims.map((c) => ({ index: c.index, offset: c.offset, proof: c.proof })) }));
}

/**
 * Parses an `accept` payload strictly.
 * @param {Uint8Array} payload
 * @returns {ResumeClaim[]}
 * @throws {import('./errors.js').ProtocolError} `peer-misbehaved`
 */
export function parseClaims(payload) {
  const r = strictJson(payload, 'accept');
  /** @type {ResumeClaim[] | undefined} */
  let claims;
  r.object((key) => {
    if (key !== 'resume') throw r.bad(`unknown field ${key}`);
    claims = r.array(() => {
      /** @type {Partial<ResumeClaim>} */
      const c = {};
      r.object((k) => {
        if (k === 'index') c.index = r.uint(0xffffffff);
        else if (k === 'offset') c.offset = r.uint();
        else if (k === 'proof') c.proof = r.string();
        else throw r.bad(`unknown field ${k}`);
      });
      if (c.index === undefined || c.offset === undefined || c.proof === undefined) throw r.bad('missing field');
      let proof;
      try {
        proof = b64uDecode(c.proof);
      } catch {
        proof = null;
      }
      if (!proof || proof.length !== 32) throw r.bad('proof is not 32 bytes of canonical base64url');
      return { index: c.index, offset: c.offset, proof: c.proof };
    }, Number.MAX_SAFE_INTEGER);
  });
  r.end();
  if (!claims) throw r.bad('missing field resume');
  return claims;
}

/**
 * The `resume-ack` payload: `{"files":[{"index","offset"}]}`.
 * @param {ResumeStart[]} starts
 * @returns {Uint8Array}
 */
export function ackJson(starts) {
  return encoder.encode(JSON.stringify({ files: starts.map((s) => ({ index: s.index, offset: s.offset })) }));
}

/**
 * Parses a `resume-ack` payload strictly.
 * @param {Uint8Array} payload
 * @returns {ResumeStart[]}
 */
export function parseAck(payload) {
  const r = strictJson(payload, 'resume-ack');
  /** @type {ResumeStart[] | undefined} */
  let starts;
  r.object((key) => {
    if (key !== 'files') throw r.bad(`unknown field ${key}`);
    starts = r.array(() => {
      /** @type {Partial<ResumeStart>} */
      const s = {};
      r.object((k) => {
        if (k === 'index') s.index = r.uint(0xffffffff);
        else if (k === 'offset') s.offset = r.uint();
        else throw r.bad(`unknown field ${k}`);
      });
      if (s.index === undefined || s.offset === undefined) throw r.bad('missing field');
      return { index: s.index, offset: s.offset };
    }, Number.MAX_SAFE_INTEGER);
  });
  r.end();
  if (!starts) throw r.bad('missing field files');
  return starts;
}

/**
 * A proof as carried in JSON.
 * @param {Uint8Array} h
 * @returns {string}
 */
export function proofText(h) {
  return b64uEncode(h);
}
