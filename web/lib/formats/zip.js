/**
 * @file A small streaming ZIP writer (PKWARE APPNOTE 6.3.10), so a received folder can be handed
 * over as one download. Our own because no fitting zero-build option exists: the client ships
 * without a bundler or vendored code, and the ZIP libraries we know either compress (we need
 * none: the content is usually already compressed media), build the archive in memory, or
 * stream through a `ReadableStream` without ZIP64 or positional output; what is needed here is a
 * few hundred lines.
 *
 * What it writes: stored entries (method 0), CRC-32 computed while the bytes stream through,
 * UTF-8 names (flag bit 11), Unix permissions 0644, no folder entries (a folder exists through
 * the paths of its files), no data descriptors: sizes are known up front (the files are complete
 * on disk), and the CRC-32 of an entry is patched into its local header once the entry's bytes
 * are written, so the output must take writes at a position (an OPFS sync access handle, a file
 * descriptor). ZIP64 extra fields are written for any size or offset of 4 GiB or more and the
 * ZIP64 end records then, or for 65 535 entries or more. Memory stays flat: bytes pass through
 * in chunks (up to 16 MiB read ahead), only the central directory (about 100 bytes per entry) is
 * kept until the end.
 */

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;
/** General purpose flag bit 11: names are UTF-8. */
const FLAG_UTF8 = 0x0800;
/** "Version needed to extract": 2.0 (plain), 4.5 (ZIP64). */
const NEEDS = 20;
const NEEDS64 = 45;
/** "Version made by": Unix (3) in the high byte, so the external attributes are Unix modes. */
const MADE_BY_UNIX = 0x0300;
/** A regular file, rw-r--r--, as Unix external attributes. */
const EXTERNAL_FILE = (0o100644 << 16) >>> 0;
const ZIP64_EXTRA = 0x0001;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;
/** Bytes read from a source at a time. */
const CHUNK = 2 * 1024 * 1024;
/** Reads started ahead of their use, at most (bytes, reads): many small reads overlap. */
const AHEAD_BYTES = 16 * 1024 * 1024;
const AHEAD_READS = 32;

/**
 * One file of the archive: its path inside the zip ("Album/day 1/a.jpg", `/`-separated) and a
 * way to read its bytes.
 * @typedef {object} ZipEntry
 * @property {string} path
 * @property {number} size
 * @property {(offset: number, length: number) => Promise<Uint8Array>} read exactly `length` bytes
 */

/**
 * Where the archive goes: `write` stores `bytes` at byte `at` (the writer appends, and rewrites
 * four bytes of each local header once the entry's CRC-32 is known). `bytes` may be reused
 * after `write` settles.
 * @typedef {object} ZipOutput
 * @property {(bytes: Uint8Array, at: number) => Promise<void> | void} write
 */

/**
 * Options. `zip64Value` and `zip64Count` exist for tests, which cannot write 4 GiB: a size or
 * offset at or above `zip64Value`, or at least `zip64Count` entries, switch ZIP64 on.
 * @typedef {object} ZipOptions
 * @property {Date} [date] the modification time of every entry (default: now)
 * @property {(bytes: number) => void} [onProgress] bytes of content written so far
 * @property {number} [zip64Value]
 * @property {number} [zip64Count]
 */

/** @type {Uint32Array | null} */
let tables = null;

/** Eight 256-entry tables for CRC-32 (reflected, polynomial 0xEDB88320), slicing by 8. */
function crcTables() {
  if (tables) return tables;
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  tables = t;
  return t;
}

/**
 * CRC-32 of `bytes` (as in ZIP, gzip, PNG), continuing from `crc`, the CRC-32 of what came before.
 * @param {Uint8Array} bytes
 * @param {number} [crc]
 * @returns {number} unsigned
 */
export function crc32(bytes, crc = 0) {
  const t = crcTables();
  let c = ~crc;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Little-endian field writer over a fixed-size buffer. */
class Fields {
  /** @param {number} size */
  constructor(size) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.at = 0;
  }
  /** @param {number} v */
  u16(v) {
    this.view.setUint16(this.at, v, true);
    this.at += 2;
    return this;
  }
  /** @param {number} v */
  u32(v) {
    this.view.setUint32(this.at, v >>> 0, true);
    this.at += 4;
    return this;
  }
  /** @param {number} v a safe integer */
  u64(v) {
    this.view.setUint32(this.at, v % 0x100000000, true);
    this.view.setUint32(this.at + 4, Math.floor(v / 0x100000000), true);
    this.at += 8;
    return this;
  }
  /** @param {Uint8Array} b */
  raw(b) {
    this.bytes.set(b, this.at);
    this.at += b.length;
    return this;
  }
}

/**
 * MS-DOS time and date of `d` (local time, two-second steps, years 1980 to 2107).
 * @param {Date} d
 * @returns {{ time: number, date: number }}
 */
export function dosDateTime(d) {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/**
 * The bytes of an entry's name; refuses paths a zip must not hold.
 * @param {string} path
 * @returns {Uint8Array}
 */
function nameBytes(path) {
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..') || path.includes('\\')) {
    throw new Error(`"${path}" cannot be a path in a zip: use "/" between non-empty folder names, without "." or "..".`);
  }
  const name = new TextEncoder().encode(path);
  if (name.length > MAX16) throw new Error(`The path "${path.slice(0, 40)}…" is too long for a zip (over 65 535 bytes).`);
  return name;
}

/**
 * @typedef {object} Record
 * @property {Uint8Array} name
 * @property {number} size
 * @property {number} crc
 * @property {number} offset of the local header
 * @property {{ time: number, date: number }} dos
 */

/**
 * A local file header. Sizes are written here (stored: compressed = uncompressed); the CRC-32
 * field (bytes 14..18) is zero until patched. With `zip64`, both sizes go in a ZIP64 extra field
 * and the 32-bit ones say 0xFFFFFFFF, as APPNOTE 4.5.3 asks of local headers.
 * @param {Record} r
 * @param {boolean} zip64
 * @returns {Uint8Array}
 */
export function localHeader(r, zip64) {
  const f = new Fields(30 + r.name.length + (zip64 ? 20 : 0));
  f.u32(SIG_LOCAL).u16(zip64 ? NEEDS64 : NEEDS).u16(FLAG_UTF8).u16(0).u16(r.dos.time).u16(r.dos.date).u32(r.crc);
  f.u32(zip64 ? MAX32 : r.size).u32(zip64 ? MAX32 : r.size).u16(r.name.length).u16(zip64 ? 20 : 0).raw(r.name);
  if (zip64) f.u16(ZIP64_EXTRA).u16(16).u64(r.size).u64(r.size);
  return f.bytes;
}

/** Offset of the CRC-32 field in a local header. */
export const LOCAL_CRC_AT = 14;

/**
 * A central directory record. Its ZIP64 extra field holds, in APPNOTE's order, only the values
 * whose 32-bit field says 0xFFFFFFFF: uncompressed size, compressed size, local header offset.
 * @param {Record} r
 * @param {number} limit values at or above it go to the ZIP64 extra field
 * @returns {Uint8Array}
 */
export function centralRecord(r, limit) {
  const bigSize = r.size >= limit;
  const bigOffset = r.offset >= limit;
  const extra = (bigSize ? 16 : 0) + (bigOffset ? 8 : 0);
  const extraLen = extra > 0 ? 4 + extra : 0;
  const needs = extra > 0 ? NEEDS64 : NEEDS;
  const f = new Fields(46 + r.name.length + extraLen);
  f.u32(SIG_CENTRAL).u16(MADE_BY_UNIX | needs).u16(needs).u16(FLAG_UTF8).u16(0).u16(r.dos.time).u16(r.dos.date);
  f.u32(r.crc).u32(bigSize ? MAX32 : r.size).u32(bigSize ? MAX32 : r.size);
  f.u16(r.name.length).u16(extraLen).u16(0).u16(0).u16(0).u32(EXTERNAL_FILE).u32(bigOffset ? MAX32 : r.offset);
  f.raw(r.name);
  if (extra > 0) {
    f.u16(ZIP64_EXTRA).u16(extra);
    if (bigSize) f.u64(r.size).u64(r.size);
    if (bigOffset) f.u64(r.offset);
  }
  return f.bytes;
}

/**
 * The records after the central directory: with `zip64`, the ZIP64 end of central directory
 * record and its locator, then always the end of central directory record, whose fields that
 * overflow say 0xFFFF / 0xFFFFFFFF (the ZIP64 record has the values).
 * @param {{ count: number, cdOffset: number, cdSize: number, zip64: boolean, limit: number, countLimit: number }} e
 * @returns {Uint8Array}
 */
export function endRecords({ count, cdOffset, cdSize, zip64, limit, countLimit }) {
  const f = new Fields((zip64 ? 56 + 20 : 0) + 22);
  if (zip64) {
    const end64At = cdOffset + cdSize;
    f.u32(SIG_END64).u64(44).u16(MADE_BY_UNIX | NEEDS64).u16(NEEDS64).u32(0).u32(0);
    f.u64(count).u64(count).u64(cdSize).u64(cdOffset);
    f.u32(SIG_LOCATOR64).u32(0).u64(end64At).u32(1);
  }
  const n = count >= countLimit ? MAX16 : count;
  f.u32(SIG_END).u16(0).u16(0).u16(n).u16(n);
  f.u32(cdSize >= limit ? MAX32 : cdSize).u32(cdOffset >= limit ? MAX32 : cdOffset).u16(0);
  return f.bytes;
}

/**
 * The entries' bytes as one sequence of chunks (each at most `CHUNK`, none for an empty entry),
 * read up to `AHEAD_BYTES` / `AHEAD_READS` before they are taken, so that the latency of
 * reading many small files (a round trip to the browser process each) overlaps.
 */
class ReadAhead {
  /** @type {{ length: number, bytes: Promise<Uint8Array> }[]} */
  #queue = [];
  #queued = 0;
  #entry = 0;
  #offset = 0;

  /** @param {ZipEntry[]} entries */
  constructor(entries) {
    this.entries = entries;
  }

  #fill() {
    while (this.#queue.length < AHEAD_READS && this.#queued < AHEAD_BYTES && this.#entry < this.entries.length) {
      const e = this.entries[this.#entry];
      if (this.#offset >= e.size) {
        this.#entry += 1;
        this.#offset = 0;
        continue;
      }
      const length = Math.min(CHUNK, e.size - this.#offset);
      const bytes = e.read(this.#offset, length);
      bytes.catch(() => {}); // seen by whoever takes this chunk
      this.#queue.push({ length, bytes });
      this.#queued += length;
      this.#offset += length;
    }
  }

  /** @returns {Promise<{ length: number, bytes: Uint8Array }>} the next chunk, in order */
  async next() {
    this.#fill();
    const c = /** @type {{ length: number, bytes: Promise<Uint8Array> }} */ (this.#queue.shift());
    this.#queued -= c.length;
    return { length: c.length, bytes: await c.bytes };
  }
}

/**
 * Writes `entries` as a ZIP archive into `out`, from byte 0.
 * @param {ZipEntry[]} entries
 * @param {ZipOutput} out
 * @param {ZipOptions} [opts]
 * @returns {Promise<number>} the archive's size in bytes
 */
export async function writeZip(entries, out, opts = {}) {
  const limit = opts.zip64Value ?? MAX32;
  const countLimit = opts.zip64Count ?? MAX16;
  const dos = dosDateTime(opts.date ?? new Date());
  /** @type {Record[]} */
  const records = [];
  let pos = 0;
  let content = 0;
  let zip64 = entries.length >= countLimit;
  const names = entries.map((e) => nameBytes(e.path));
  const ahead = new ReadAhead(entries);
  for (const [i, e] of entries.entries()) {
    const r = { name: names[i], size: e.size, crc: 0, offset: pos, dos };
    const big = e.size >= limit;
    zip64 ||= big || pos >= limit;
    const header = localHeader(r, big);
    await out.write(header, pos);
    pos += header.length;
    for (let done = 0; done < e.size; ) {
      const { length: want, bytes } = await ahead.next();
      if (bytes.length !== want) {
        throw new Error(`"${e.path}" gave ${bytes.length} bytes where ${want} were expected: the file changed or is unreadable.`);
      }
      r.crc = crc32(bytes, r.crc);
      await out.write(bytes, pos);
      pos += want;
      done += want;
      content += want;
      opts.onProgress?.(content);
    }
    const crc = new Fields(4).u32(r.crc).bytes;
    await out.write(crc, r.offset + LOCAL_CRC_AT);
    records.push(r);
  }
  const cdOffset = pos;
  // The central directory goes out in batches of about a megabyte.
  /** @type {Uint8Array[]} */
  let batch = [];
  let batchBytes = 0;
  const flush = async () => {
    const buf = new Uint8Array(batchBytes);
    let at = 0;
    for (const b of batch) {
      buf.set(b, at);
      at += b.length;
    }
    await out.write(buf, pos);
    pos += buf.length;
    batch = [];
    batchBytes = 0;
  };
  for (const r of records) {
    const c = centralRecord(r, limit);
    batch.push(c);
    batchBytes += c.length;
    if (batchBytes >= CHUNK) await flush();
  }
  if (batchBytes > 0) await flush();
  const cdSize = pos - cdOffset;
  zip64 ||= cdOffset >= limit || cdSize >= limit;
  const end = endRecords({ count: records.length, cdOffset, cdSize, zip64, limit, countLimit });
  await out.write(end, pos);
  return pos + end.length;
}

/**
 * A zip entry reading from a Blob (a received file: on disk for OPFS, in memory otherwise).
 * @param {string} path
 * @param {Blob} blob
 * @returns {ZipEntry}
 */
export function blobEntry(path, blob) {
  return {
    path,
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}
