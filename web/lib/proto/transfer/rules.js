/**
 * @file Checks both transfer engines share (`docs/protocol.md` §11.1, §11.3): joining the parts
 * of one offer, a receiver's resume claims against the offer, and the sender's `resume-ack`
 * against the claims. The twins of `Manifest::join`, `check_claims` and `check_ack` in
 * `pairwise-proto`'s `transfer/`. Pure.
 */

/** @import { ManifestPart, ResumeClaim, ResumeStart } from '../../../types/protocol.js' */

import { ProtocolError } from '../errors.js';
import { MAX_MANIFEST_FILES, RESUME_BLOCK } from '../limits.js';

/**
 * The offer part a `manifest` message carries, without its type.
 * @param {ManifestPart} msg
 * @returns {ManifestPart}
 */
export function partOf(msg) {
  /** @type {ManifestPart} */
  const part = { files: msg.files };
  if (msg.id !== undefined) part.id = msg.id;
  if (msg.more) part.more = true;
  return part;
}

/**
 * The offer so far with its next part appended (§11.1).
 * @param {ManifestPart} offer
 * @param {ManifestPart} next
 * @returns {ManifestPart}
 * @throws {ProtocolError} `peer-misbehaved`: a part after the last one, another id, or more
 *   than MAX_MANIFEST_FILES files in all
 */
export function joinParts(offer, next) {
  if (!offer.more) throw new ProtocolError('peer-misbehaved', 'manifest part after the last one');
  if (next.id !== offer.id) throw new ProtocolError('peer-misbehaved', 'manifest parts with different ids');
  const total = offer.files.length + next.files.length;
  if (total > MAX_MANIFEST_FILES) throw new ProtocolError('peer-misbehaved', `${total} files exceed ${MAX_MANIFEST_FILES}`);
  return partOf({ ...next, files: [...offer.files, ...next.files] });
}

/**
 * A receiver's claims (§11.3): for an offer with an id, not empty, in file order, each for an
 * offered file at a whole number of resume blocks (or the whole file), never 0.
 * @param {ManifestPart} offer
 * @param {ResumeClaim[]} claims
 * @throws {ProtocolError} `peer-misbehaved`
 */
export function checkClaims(offer, claims) {
  if (offer.id === undefined) throw new ProtocolError('peer-misbehaved', 'resume claims for an offer without an id');
  if (claims.length === 0) throw new ProtocolError('peer-misbehaved', 'empty resume claims');
  let last = -1;
  for (const c of claims) {
    if (c.index <= last) throw new ProtocolError('peer-misbehaved', 'resume claims out of order');
    last = c.index;
    const file = offer.files[c.index];
    if (!file) throw new ProtocolError('peer-misbehaved', 'resume claim for a file not offered');
    const aligned = c.offset % RESUME_BLOCK === 0;
    if (c.offset === 0 || c.offset > file.size || !(aligned || c.offset === file.size)) {
      throw new ProtocolError('peer-misbehaved', 'resume claim with an invalid offset');
    }
  }
}

/**
 * The sender's answer answers every claim in order, each with the claimed offset or 0.
 * @param {ResumeClaim[]} claims
 * @param {ResumeStart[]} starts
 * @throws {ProtocolError} `peer-misbehaved`
 */
export function checkAck(claims, starts) {
  const ok = claims.length === starts.length && claims.every((c, i) => c.index === starts[i].index && (starts[i].offset === 0 || starts[i].offset === c.offset));
  if (!ok) throw new ProtocolError('peer-misbehaved', 'resume-ack that does not answer the claims');
}
