/**
 * @file What this browser keeps so that transfers resume (`docs/protocol.md` §11.3), over the
 * `Backend` of `store.js` (IndexedDB in the page, a map in unit tests):
 * - `offers`: the transfer id of each offer this device sent, keyed by the peer's device id and
 *   a fingerprint of the offered list (names, folders, sizes, modification times), so the same
 *   files chosen again for the same device, even after the page was closed, get the same id.
 *   Removed when the transfer ends (done, declined, cancelled); at most `MAX_OFFERS`, none
 *   older than `KEEP_MS`.
 * - `partials`: for each offer with an id this device accepted, per file the verified offset
 *   at the last 1 MiB boundary (or the whole file) and the chain value there. The bytes live
 *   in OPFS files named by `partialName`. Removed on done, cancel, decline; dropped after
 *   `KEEP_MS`.
 *
 * Which claims to make is a pure function exported for the unit tests (whether claims and answers
 * are valid is the transfer engines', `proto/transfer/rules.js`); `Checkpoints` coalesces the
 * record's writes.
 */

/** @import { Backend } from '../../types/devices.js' */
/** @import { ManifestFile, ResumeClaim } from '../../types/protocol.js' */

import { hex } from '../proto/b64.js';
import { sha256 } from '../proto/keys.js';
import { RESUME_BLOCK } from '../proto/limits.js';
import { relativePath } from '../proto/manifest.js';
import { proofText } from '../proto/resume.js';

/** How long an offer id or a kept partial transfer is remembered. */
export const KEEP_MS = 7 * 86_400_000;
/** Offer ids kept at most (the oldest go first). */
export const MAX_OFFERS = 64;

/**
 * @typedef {object} OfferRecord
 * @property {string} key `peer fingerprint`
 * @property {string} id b64url of the 16-byte transfer id
 * @property {number} created
 */

/**
 * @typedef {object} FileCheckpoint
 * @property {string} path relative path of the file in the offer
 * @property {number} size its size in the offer
 * @property {number} offset verified bytes kept (a multiple of 1 MiB, or the size)
 * @property {string} h b64url chain value at `offset`
 */

/**
 * @typedef {object} PartialRecord
 * @property {string} peer device id of the sender
 * @property {string} id b64url transfer id
 * @property {number} created
 * @property {number} updated
 * @property {Record<string, FileCheckpoint>} files by file index
 */

/**
 * The fingerprint of an offered list: hex SHA-256 of its names, folders, sizes and
 * modification times, in order.
 * @param {{ name: string, dir?: string[], size: number, lastModified: number }[]} files
 * @returns {Promise<string>}
 */
export async function fingerprint(files) {
  const list = files.map((f) => [f.name, f.dir ?? [], f.size, f.lastModified]);
  return hex(await sha256(new TextEncoder().encode(JSON.stringify(list))));
}

/**
 * The offer records to remove at `now`: expired ones, and the oldest beyond `MAX_OFFERS`.
 * @param {OfferRecord[]} records
 * @param {number} now
 * @returns {string[]} keys
 */
export function staleOffers(records, now) {
  const live = records.filter((r) => now - r.created < KEEP_MS).sort((a, b) => b.created - a.created);
  const keep = new Set(live.slice(0, MAX_OFFERS).map((r) => r.key));
  return records.filter((r) => !keep.has(r.key)).map((r) => r.key);
}

/**
 * The OPFS file name of file `index` of transfer `id` (b64url, so safe as a name).
 * @param {string} id
 * @param {number} index
 * @returns {string}
 */
export function partialName(id, index) {
  return `${id}-${index}`;
}

/**
 * Verified bytes a record keeps over all its files.
 * @param {PartialRecord} record
 * @returns {number}
 */
export function keptBytes(record) {
  return Object.values(record.files).reduce((sum, f) => sum + f.offset, 0);
}

/**
 * The claims a receiver makes for a new offer of a transfer it kept: one per file whose path
 * and size are unchanged and of which it holds a prefix, in index order.
 * @param {PartialRecord} record
 * @param {readonly ManifestFile[]} files the new offer
 * @returns {ResumeClaim[]}
 */
export function claimsFor(record, files) {
  /** @type {ResumeClaim[]} */
  const claims = [];
  files.forEach((f, index) => {
    const kept = record.files[index];
    if (!kept || kept.offset <= 0 || kept.path !== relativePath(f) || kept.size !== f.size) return;
    if (kept.offset > f.size || (kept.offset % RESUME_BLOCK !== 0 && kept.offset !== f.size)) return;
    claims.push({ index, offset: kept.offset, proof: kept.h });
  });
  return claims;
}

/** Offer ids and kept partial transfers in the store. */
export class ResumeStore {
  #db;

  /** @param {Backend} backend */
  constructor(backend) {
    this.#db = backend;
  }

  /**
   * The id for offering the files with `fp` to `peer`: the one used before, else a new one.
   * @param {string} peer
   * @param {string} fp
   * @param {number} now
   * @returns {Promise<string>} b64url
   */
  async offerId(peer, fp, now) {
    const key = `${peer} ${fp}`;
    const old = /** @type {OfferRecord | undefined} */ (await this.#db.get('offers', key));
    if (old && now - old.created < KEEP_MS) return old.id;
    /** @type {OfferRecord} */
    const record = { key, id: proofText(crypto.getRandomValues(new Uint8Array(16))), created: now };
    await this.#db.put('offers', key, record);
    const all = /** @type {OfferRecord[]} */ (await this.#db.all('offers'));
    for (const k of staleOffers(all, now)) await this.#db.delete('offers', k);
    return record.id;
  }

  /** @param {string} peer @param {string} fp */
  forgetOffer(peer, fp) {
    return this.#db.delete('offers', `${peer} ${fp}`);
  }

  /**
   * @param {string} peer
   * @param {string} id
   * @returns {Promise<PartialRecord | undefined>}
   */
  async partial(peer, id) {
    return /** @type {PartialRecord | undefined} */ (await this.#db.get('partials', `${peer} ${id}`));
  }

  /** @param {PartialRecord} record */
  savePartial(record) {
    return this.#db.put('partials', `${record.peer} ${record.id}`, record);
  }

  /** @param {string} peer @param {string} id */
  deletePartial(peer, id) {
    return this.#db.delete('partials', `${peer} ${id}`);
  }

  /**
   * Every kept transfer (call `livePartialNames` first to drop the expired ones).
   * @returns {Promise<PartialRecord[]>}
   */
  async partials() {
    return /** @type {PartialRecord[]} */ (await this.#db.all('partials'));
  }

  /**
   * Drops records older than `KEEP_MS`; returns the OPFS names the others still need.
   * @param {number} now
   * @returns {Promise<Set<string>>}
   */
  async livePartialNames(now) {
    const names = new Set();
    for (const r of /** @type {PartialRecord[]} */ (await this.#db.all('partials'))) {
      if (now - r.updated >= KEEP_MS) {
        await this.#db.delete('partials', `${r.peer} ${r.id}`);
        continue;
      }
      for (const index of Object.keys(r.files)) names.add(partialName(r.id, Number(index)));
    }
    return names;
  }
}

/**
 * Kept bytes a record on disk may lag behind the checkpoints the worker reported before it is
 * written again: every 1 MiB step cost an IndexedDB write (258 per 256 MiB, about 0.2 CPU-s of
 * the browser process); at most this much more is sent again when the page dies mid-transfer.
 */
export const SAVE_STEP = 4 * RESUME_BLOCK;

/**
 * A kept transfer's record while it is received: checkpoints update it in memory, and it is
 * written when the kept bytes grew by `SAVE_STEP`, when a file is whole, and on `flush()`;
 * writes go in order, at most one at a time (a newer state replaces one not yet written), and
 * nothing waits on them.
 */
export class Checkpoints {
  #store;
  /** @type {PartialRecord} */
  record;
  /** @type {Promise<void> | null} */
  #writing = null;
  #dirty = false;
  #gone = false;
  /** Kept bytes of the state last written (or being written). */
  #saved;

  /** @param {ResumeStore} store @param {PartialRecord} record */
  constructor(store, record) {
    this.#store = store;
    this.record = record;
    this.#saved = keptBytes(record);
  }

  /**
   * File `index` is stored and verified up to `offset`, chain value `h` there.
   * @param {number} index
   * @param {ManifestFile} file
   * @param {number} offset
   * @param {Uint8Array} h
   */
  set(index, file, offset, h) {
    this.record.files[index] = { path: relativePath(file), size: file.size, offset, h: proofText(h) };
    this.record.updated = Date.now();
    if (offset === file.size || keptBytes(this.record) - this.#saved >= SAVE_STEP) this.save();
  }

  /** Writes the latest state if `set` held it back (a session ends). */
  flush() {
    if (keptBytes(this.record) !== this.#saved) this.save();
  }

  /** Writes the record (now, or after the write in progress). */
  save() {
    if (this.#gone) return;
    this.#dirty = true;
    this.#writing ??= this.#drain();
  }

  async #drain() {
    while (this.#dirty && !this.#gone) {
      this.#dirty = false;
      const state = structuredClone(this.record);
      this.#saved = keptBytes(state);
      await this.#store.savePartial(state).catch(() => {});
    }
    this.#writing = null;
  }

  /** Deletes the record (after any write in progress). */
  async remove() {
    this.#gone = true;
    await this.#writing;
    await this.#store.deletePartial(this.record.peer, this.record.id).catch(() => {});
  }
}
