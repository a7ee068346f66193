/**
 * @file The ZIP writer (`lib/formats/zip.js`) checked by independent implementations: CRC-32 against
 * published values and node's zlib, whole archives read back by CPython's `zipfile` (which
 * reads ZIP64) and tested by Info-ZIP's `unzip -t`, with every extracted byte compared. ZIP64 is
 * forced by the writer's test-only thresholds (writing 4 GiB here would be too slow), and the
 * records for a real 5 GiB entry at a 6 GiB offset are checked field by field.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import { LOCAL_CRC_AT, blobEntry, centralRecord, crc32, dosDateTime, endRecords, localHeader, writeZip } from '../lib/formats/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'pairwise-zip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Reads a zip with CPython's zipfile: testzip(), then name -> [size, SHA-256] of each member. */
const PY_READ = `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    out = {"bad": bad, "files": {}, "utf8": [], "unix": []}
    for i in z.infolist():
        data = z.read(i)
        out["files"][i.filename] = [len(data), hashlib.sha256(data).hexdigest()]
        if i.flag_bits & 0x800: out["utf8"].append(i.filename)
        if (i.external_attr >> 16) == 0o100644: out["unix"].append(i.filename)
print(json.dumps(out))
`;

/**
 * @param {string} path
 * @returns {{ bad: string | null, files: Record<string, [number, string]>, utf8: string[], unix: string[] }}
 */
function pythonRead(path) {
  return JSON.parse(execFileSync('python3', ['-c', PY_READ, path], { encoding: 'utf8' }));
}

/** @param {string} path @returns {string} `unzip -t` output; throws if unzip finds an error */
function unzipTest(path) {
  return execFileSync('unzip', ['-t', path], { encoding: 'utf8' });
}

/** @param {Uint8Array} b */
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/**
 * Writes `files` (path -> bytes) as a zip into a file in `dir`.
 * @param {string} name
 * @param {Map<string, Uint8Array>} files
 * @param {import('../lib/formats/zip.js').ZipOptions} [opts]
 * @returns {Promise<{ path: string, size: number }>}
 */
async function zipToFile(name, files, opts) {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  try {
    const entries = [...files].map(([p, bytes]) => blobEntry(p, new Blob([/** @type {Uint8Array<ArrayBuffer>} */ (bytes)])));
    const size = await writeZip(entries, { write: (bytes, at) => void writeSync(fd, bytes, 0, bytes.length, at) }, opts);
    return { path, size };
  } finally {
    closeSync(fd);
  }
}

/** Asserts that python's zipfile and unzip read exactly `files` back from `path`. */
function assertReadsBack(/** @type {string} */ path, /** @type {Map<string, Uint8Array>} */ files) {
  const got = pythonRead(path);
  assert.equal(got.bad, null, 'zipfile.testzip() finds no bad CRC');
  assert.deepEqual(Object.keys(got.files).sort(), [...files.keys()].sort(), 'the names');
  for (const [p, bytes] of files) assert.deepEqual(got.files[p], [bytes.length, sha256(bytes)], p);
  assert.deepEqual(got.utf8.sort(), [...files.keys()].sort(), 'every name is flagged UTF-8');
  assert.deepEqual(got.unix.sort(), [...files.keys()].sort(), 'every entry is a 0644 regular file');
  assert.match(unzipTest(path), /No errors detected/);
}

test('CRC-32: published check values, and equal to zlib on random data split anywhere', () => {
  const enc = new TextEncoder();
  assert.equal(crc32(enc.encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(enc.encode('a')), 0xe8b7be43);
  assert.equal(crc32(enc.encode('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  const data = new Uint8Array(randomBytes(100_003));
  const whole = crc32(data);
  assert.equal(whole, zlib.crc32(data));
  for (const cut of [0, 1, 7, 8, 9, 4096, 99_999, 100_003]) {
    assert.equal(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), whole, `split at ${cut}`);
  }
});

test('empty, 1 B, several MiB random, nested folders and UTF-8 names read back intact', async () => {
  const files = new Map([
    ['Album/empty.txt', new Uint8Array(0)],
    ['Album/one.bin', new Uint8Array([0x5a])],
    ['Album/big/random.bin', new Uint8Array(randomBytes(5 * 1024 * 1024 + 3))],
    ['Album/a/b/c/d/deep.txt', new TextEncoder().encode('deep\n')],
    ['Album/Fotos/Zoë 日本 🎉.jpg', new Uint8Array(randomBytes(70_000))],
  ]);
  const { path, size } = await zipToFile('plain.zip', files, { date: new Date(2026, 10, 26, 3, 4, 6) });
  assertReadsBack(path, files);
  const listing = execFileSync('unzip', ['-Z', '-v', path], { encoding: 'utf8' });
  assert.equal((listing.match(/extended local header: +no/g) ?? []).length, files.size, 'no data descriptors');
  assert.equal((listing.match(/minimum software version required to extract: +2\.0/g) ?? []).length, files.size, 'no ZIP64');
  const zip = readFileSync(path);
  assert.notEqual(zip.readUInt32LE(zip.length - 22 - 20), 0x07064b50, 'no ZIP64 end record locator');
  assert.ok(size > 5 * 1024 * 1024);
});

test('an empty archive is valid', async () => {
  const { path, size } = await zipToFile('empty.zip', new Map());
  assert.equal(size, 22, 'only the end of central directory record');
  assert.deepEqual(pythonRead(path).files, {});
});

test('ZIP64 (forced by a low threshold): sizes, offsets and the entry count go to ZIP64 records', async () => {
  const files = new Map();
  for (let i = 0; i < 7; i++) files.set(`Top/dir ${i % 3}/f${i}.bin`, new Uint8Array(randomBytes(i * 900)));
  const { path } = await zipToFile('zip64.zip', files, { zip64Value: 1000, zip64Count: 5 });
  assertReadsBack(path, files);
  const zip = readFileSync(path);
  assert.equal(zip.readUInt32LE(zip.length - 22 - 20), 0x07064b50, 'a ZIP64 end of central directory locator');
  assert.equal(zip.readUInt32LE(zip.length - 22 - 20 - 56), 0x06064b50, 'a ZIP64 end of central directory record');
  const end = new DataView(zip.buffer, zip.byteOffset + zip.length - 22, 22);
  assert.equal(end.getUint32(0, true), 0x06054b50);
  assert.deepEqual([end.getUint16(8, true), end.getUint16(10, true), end.getUint32(16, true)], [0xffff, 0xffff, 0xffffffff], 'the classic end record says "see ZIP64"');
});

test('ZIP64 forced by the entry count alone', async () => {
  const files = new Map([...Array(4)].map((_, i) => [`F/${i}.txt`, new TextEncoder().encode(`file ${i}`)]));
  const { path } = await zipToFile('count64.zip', files, { zip64Count: 3 });
  assertReadsBack(path, files);
});

test('records for a 5 GiB entry at a 6 GiB offset, field by field', () => {
  const GiB = 1024 ** 3;
  const name = new TextEncoder().encode('A/huge.mkv');
  const dos = dosDateTime(new Date(2026, 0, 2, 3, 4, 5));
  const r = { name, size: 5 * GiB, crc: 0x12345678, offset: 6 * GiB, dos };
  /** @param {DataView} v @param {number} at */
  const u64 = (v, at) => v.getUint32(at, true) + v.getUint32(at + 4, true) * 2 ** 32;

  const local = localHeader(r, true);
  const lv = new DataView(local.buffer);
  assert.equal(lv.getUint32(0, true), 0x04034b50);
  assert.equal(lv.getUint16(4, true), 45, 'version needed 4.5');
  assert.equal(lv.getUint16(6, true), 0x0800, 'UTF-8 flag, no data descriptor');
  assert.equal(lv.getUint16(8, true), 0, 'stored');
  assert.equal(lv.getUint32(LOCAL_CRC_AT, true), 0x12345678);
  assert.equal(lv.getUint32(18, true), 0xffffffff);
  assert.equal(lv.getUint32(22, true), 0xffffffff);
  assert.equal(lv.getUint16(28, true), 20, 'extra field length');
  const le = 30 + name.length;
  assert.deepEqual([lv.getUint16(le, true), lv.getUint16(le + 2, true)], [1, 16]);
  assert.deepEqual([u64(lv, le + 4), u64(lv, le + 12)], [5 * GiB, 5 * GiB]);
  assert.equal(local.length, le + 20);

  const central = centralRecord(r, 0xffffffff);
  const cv = new DataView(central.buffer);
  assert.equal(cv.getUint32(0, true), 0x02014b50);
  assert.equal(cv.getUint16(4, true), 0x0300 | 45, 'made by Unix, 4.5');
  assert.equal(cv.getUint32(16, true), 0x12345678);
  assert.deepEqual([cv.getUint32(20, true), cv.getUint32(24, true), cv.getUint32(42, true)], [0xffffffff, 0xffffffff, 0xffffffff]);
  assert.equal(cv.getUint16(30, true), 28, 'extra: 4 + sizes 16 + offset 8');
  const ce = 46 + name.length;
  assert.deepEqual([cv.getUint16(ce, true), cv.getUint16(ce + 2, true)], [1, 24]);
  assert.deepEqual([u64(cv, ce + 4), u64(cv, ce + 12), u64(cv, ce + 20)], [5 * GiB, 5 * GiB, 6 * GiB]);

  // Only the offset overflows: the extra field holds the offset alone.
  const small = centralRecord({ ...r, size: 10 }, 0xffffffff);
  const sv = new DataView(small.buffer);
  assert.deepEqual([sv.getUint32(20, true), sv.getUint32(42, true), sv.getUint16(30, true)], [10, 0xffffffff, 12]);
  assert.equal(u64(sv, 46 + name.length + 4), 6 * GiB);

  const cdOffset = 11 * GiB + 100;
  const end = endRecords({ count: 70_000, cdOffset, cdSize: 5000, zip64: true, limit: 0xffffffff, countLimit: 0xffff });
  const ev = new DataView(end.buffer);
  assert.equal(ev.getUint32(0, true), 0x06064b50);
  assert.equal(u64(ev, 4), 44);
  assert.deepEqual([u64(ev, 24), u64(ev, 32), u64(ev, 40), u64(ev, 48)], [70_000, 70_000, 5000, cdOffset]);
  assert.equal(ev.getUint32(56, true), 0x07064b50);
  assert.equal(u64(ev, 64), cdOffset + 5000, 'the locator points at the ZIP64 end record');
  assert.equal(ev.getUint32(72, true), 1, 'one disk');
  assert.equal(ev.getUint32(76, true), 0x06054b50);
  assert.deepEqual([ev.getUint16(84, true), ev.getUint16(86, true), ev.getUint32(88, true), ev.getUint32(92, true)], [0xffff, 0xffff, 5000, 0xffffffff]);
  assert.equal(end.length, 98);
});

test('a source that gives fewer bytes than its size fails with a sentence', async () => {
  const entry = { path: 'A/short.bin', size: 10, read: async () => new Uint8Array(3) };
  await assert.rejects(writeZip([entry], { write: () => {} }), /"A\/short.bin" gave 3 bytes where 10 were expected/);
});

test('paths a zip must not hold are refused', async () => {
  for (const path of ['/abs', 'A//b', 'A/../b', 'A\\b', '']) {
    await assert.rejects(writeZip([blobEntry(path, new Blob(['x']))], { write: () => {} }), /cannot be a path in a zip/, path);
  }
});

test('reads run ahead of their use, bounded, and the bytes still land in order', async () => {
  /** @type {Map<string, Uint8Array>} */
  const files = new Map();
  for (let i = 0; i < 300; i++) files.set(`R/${i % 9}/f${i}.bin`, new Uint8Array(randomBytes(i % 50 === 0 ? 3 * 1024 * 1024 : i * 11)));
  let inFlight = 0;
  let maxInFlight = 0;
  let inFlightBytes = 0;
  let maxInFlightBytes = 0;
  const entries = [...files].map(([path, bytes]) => ({
    path,
    size: bytes.length,
    /** @param {number} offset @param {number} length */
    read: async (offset, length) => {
      inFlight += 1;
      inFlightBytes += length;
      maxInFlight = Math.max(maxInFlight, inFlight);
      maxInFlightBytes = Math.max(maxInFlightBytes, inFlightBytes);
      // Later reads may finish first.
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      inFlight -= 1;
      inFlightBytes -= length;
      return bytes.slice(offset, offset + length);
    },
  }));
  const path = join(dir, 'ahead.zip');
  const fd = openSync(path, 'w');
  try {
    await writeZip(entries, { write: (bytes, at) => void writeSync(fd, bytes, 0, bytes.length, at) });
  } finally {
    closeSync(fd);
  }
  assertReadsBack(path, files);
  assert.ok(maxInFlight > 4, `reads overlap (at most ${maxInFlight} at once)`);
  assert.ok(maxInFlight <= 32, `at most 32 reads at once, saw ${maxInFlight}`);
  assert.ok(maxInFlightBytes <= 18 * 1024 * 1024, `at most 16 MiB (+ one chunk) ahead, saw ${maxInFlightBytes}`);
});
