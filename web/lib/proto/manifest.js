/**
 * @file Manifest JSON (`docs/protocol.md` §6 and §11.1): one part of an offer,
 * `{"id":…,"files":[{"name","size","type","dir"}],"more":true}`, parsed strictly in the same
 * order as the Rust side (structure, file count, id, then per file: name, size, type, folder) so
 * both refuse the same input with the same code; encoded with the same key order; and split into
 * parts that each fit a record. Mirrors `transfer/manifest.rs`; checked against
 * `testdata/vectors/transfer.json`.
 */

/** @import { ManifestFile, ManifestPart } from '../../types/protocol.js' */

import { b64uDecode } from './b64.js';
import { ProtocolError } from './errors.js';
import { MAX_DIR_DEPTH, MAX_FILE_SIZE, MAX_MANIFEST_FILES, MAX_PATH_BYTES, MAX_TYPE_BYTES, TRANSFER_ID_BYTES } from './limits.js';
import { alternativeName, isWellFormed, parseSafeName } from './name.js';
import { strictJson } from './strict-json.js';

const encoder = new TextEncoder();

/**
 * The relative path `dir/…/name`.
 * @param {ManifestFile} f
 * @returns {string}
 */
export function relativePath(f) {
  return [...(f.dir ?? []), f.name].join('/');
}

/**
 * Checks one of our own files by the rules the receiver applies.
 * @param {ManifestFile} f
 * @throws {ProtocolError} `bad-name` for a name or folder the peer would refuse
 * @throws {RangeError} for a bad size, type or folder depth
 */
function checkOwnFile(f) {
  parseSafeName(f.name);
  if (!Number.isSafeInteger(f.size) || f.size < 0) throw new RangeError(`bad size for ${f.name}`);
  if (typeof f.type !== 'string' || !isWellFormed(f.type) || encoder.encode(f.type).length > MAX_TYPE_BYTES) {
    throw new RangeError(`bad type for ${f.name}`);
  }
  if (f.dir !== undefined) {
    if (f.dir.length === 0 || f.dir.length > MAX_DIR_DEPTH) throw new RangeError(`bad folder depth for ${f.name}`);
    for (const segment of f.dir) parseSafeName(segment);
    if (encoder.encode(relativePath(f)).length > MAX_PATH_BYTES) throw new RangeError(`path too long for ${f.name}`);
  }
}

/**
 * The JSON of one manifest part, keys in the order `id`, `files`, `more`; per file `name`,
 * `size`, `type`, `dir`; `id`, `more` and `dir` only when present.
 * @param {ManifestPart} part
 * @returns {Uint8Array}
 */
export function manifestJson(part) {
  if (part.files.length < 1 || part.files.length > MAX_MANIFEST_FILES) {
    throw new RangeError(`a manifest lists 1 to ${MAX_MANIFEST_FILES} files`);
  }
  for (const f of part.files) checkOwnFile(f);
  /** @type {Record<string, unknown>} */
  const wire = {};
  if (part.id !== undefined) wire.id = part.id;
  wire.files = part.files.map((f) => (f.dir ? { name: f.name, size: f.size, type: f.type, dir: f.dir } : { name: f.name, size: f.size, type: f.type }));
  if (part.more) wire.more = true;
  return encoder.encode(JSON.stringify(wire));
}

/**
 * Splits an offer into parts whose JSON is at most `maxJson` bytes, all but the last marked
 * `more` (one part when it fits).
 * @param {ManifestFile[]} files
 * @param {string | undefined} id the transfer id (base64url) if the offer is resumable
 * @param {number} maxJson
 * @returns {ManifestPart[]}
 */
export function manifestParts(files, id, maxJson) {
  if (files.length < 1 || files.length > MAX_MANIFEST_FILES) {
    throw new RangeError(`an offer lists 1 to ${MAX_MANIFEST_FILES} files`);
  }
  /** @type {ManifestFile[][]} */
  const groups = [[]];
  const frame = 60;
  let size = frame;
  for (const f of files) {
    const entry = encoder.encode(JSON.stringify(f)).length + 1;
    if (groups[groups.length - 1].length > 0 && size + entry > maxJson) {
      groups.push([]);
      size = frame;
    }
    size += entry;
    groups[groups.length - 1].push(f);
  }
  return groups.map((g, i) => {
    /** @type {ManifestPart} */
    const part = { files: g };
    if (id !== undefined) part.id = id;
    if (i < groups.length - 1) part.more = true;
    return part;
  });
}

/**
 * The offer's files, each one whose relative path an earlier file of the offer took renamed to
 * the first free `NAME (1).ext`, `NAME (2).ext`, …: two files of one path are kept and shown side
 * by side (§11.1), never as two entries of one name. The same names the CLI gives them in an
 * empty folder, where each file takes the first name still free when it is saved.
 * @template {ManifestFile} F
 * @param {F[]} files
 * @returns {F[]}
 */
export function distinctPaths(files) {
  const used = new Set();
  return files.map((f) => {
    for (let n = 0; ; n++) {
      const renamed = n === 0 ? f : { ...f, name: alternativeName(f.name, n) };
      const path = relativePath(renamed);
      if (!used.has(path)) {
        used.add(path);
        return renamed;
      }
    }
  });
}

/**
 * Parses one manifest part from the peer.
 * @param {Uint8Array} json
 * @returns {ManifestPart}
 * @throws {ProtocolError} `bad-name` for an unsafe name or folder, otherwise `peer-misbehaved`
 */
export function parseManifestJson(json) {
  const r = strictJson(json, 'manifest');
  /** @type {{ name?: string, size?: string, type?: string, dir?: string[] }[] | undefined} */
  let wire;
  /** @type {string | undefined} */
  let id;
  let more = false;
  r.object((key) => {
    if (key === 'files') wire = r.array(() => file(), MAX_MANIFEST_FILES);
    else if (key === 'id') id = r.string();
    else if (key === 'more') more = r.bool();
    else throw r.bad(`unknown field ${key}`);
  });
  r.end();
  if (!wire) throw r.bad('missing field files');
  if (id !== undefined) {
    let bytes;
    try {
      bytes = b64uDecode(id);
    } catch {
      bytes = null;
    }
    if (!bytes || bytes.length !== TRANSFER_ID_BYTES) throw r.bad('id is not 16 bytes of canonical base64url');
  }
  /** @type {ManifestFile[]} */
  const files = [];
  for (const f of wire) {
    const name = /** @type {string} */ (f.name);
    parseSafeName(name);
    const size = /** @type {string} */ (f.size);
    if (size.length > 16 || Number(size) > MAX_FILE_SIZE) throw r.bad(`size ${size} exceeds ${MAX_FILE_SIZE}`);
    const type = /** @type {string} */ (f.type);
    if (encoder.encode(type).length > MAX_TYPE_BYTES) throw r.bad(`type longer than ${MAX_TYPE_BYTES} bytes`);
    /** @type {ManifestFile} */
    const entry = { name, size: Number(size), type };
    if (f.dir !== undefined) {
      if (f.dir.length === 0) throw r.bad('empty dir list');
      for (const segment of f.dir) parseSafeName(segment);
      // A path the receiver could not create is a bad name, as in the Rust twin (§11.1).
      if (f.dir.length > MAX_DIR_DEPTH) throw new ProtocolError('bad-name', `more than ${MAX_DIR_DEPTH} folder levels`);
      entry.dir = f.dir;
      if (encoder.encode(relativePath(entry)).length > MAX_PATH_BYTES) throw new ProtocolError('bad-name', `path longer than ${MAX_PATH_BYTES} bytes`);
    }
    files.push(entry);
  }
  if (files.length === 0) throw new ProtocolError('peer-misbehaved', 'manifest with no files');
  /** @type {ManifestPart} */
  const part = { files };
  if (id !== undefined) part.id = id;
  if (more) part.more = true;
  return part;

  function file() {
    /** @type {{ name?: string, size?: string, type?: string, dir?: string[] }} */
    const f = {};
    r.object((key) => {
      if (key === 'name') f.name = r.string();
      else if (key === 'size') f.size = r.uintDigits();
      else if (key === 'type') f.type = r.string();
      else if (key === 'dir') f.dir = r.array(() => r.string(), Number.MAX_SAFE_INTEGER);
      else throw r.bad(`unknown field ${key}`);
    });
    if (f.name === undefined || f.size === undefined || f.type === undefined) throw r.bad('missing field');
    return f;
  }
}
