/**
 * @file Inner messages and the receive engine (`proto/transfer/receiver.js`) beyond the shared vectors: round trips, the strict
 * manifest JSON reader (no fraction, exponent, sign, duplicate key, lone surrogate, BOM or
 * trailing text), manifest limits, FINAL only on chunks, a multi-file transfer with an empty
 * file, and every chunk rule of §6.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ProtocolError } from '../lib/proto/errors.js';
import { MAX_MANIFEST_FILES, MAX_RECORD_BYTES } from '../lib/proto/limits.js';
import { distinctPaths, manifestParts } from '../lib/proto/manifest.js';
import { Receiver } from '../lib/proto/transfer/receiver.js';
import {
  chunkPayloadSize,
  decodeInner,
  encodeAccept,
  encodeCancel,
  encodeChunk,
  encodeClose,
  encodeDecline,
  encodeManifest,
  encodeReceived,
} from '../lib/proto/transfer.js';

/** @import { ManifestFile } from '../types/protocol.js' */

/**
 * @param {unknown} e
 * @param {string} code
 */
const isCode = (e, code) => e instanceof ProtocolError && e.code === code;

/**
 * Inner manifest bytes from JSON text.
 * @param {string} json
 */
const manifest = (json) => new Uint8Array([1, ...new TextEncoder().encode(json)]);

/** @param {string} json */
const file = (json) => `{"files":[${json}]}`;

test('every message round-trips', () => {
  /** @type {ManifestFile[]} */
  const files = [
    { name: 'résumé "final".pdf', size: 1234567, type: 'application/pdf' },
    { name: 'empty', size: 0, type: '' },
    { name: '🎉.png', size: Number.MAX_SAFE_INTEGER, type: 'image/png' },
  ];
  assert.deepEqual(decodeInner(encodeManifest(files)), { type: 'manifest', files });
  assert.deepEqual(decodeInner(encodeAccept()), { type: 'accept' });
  assert.deepEqual(decodeInner(encodeDecline()), { type: 'decline' });
  assert.deepEqual(decodeInner(encodeCancel()), { type: 'cancel' });
  assert.deepEqual(decodeInner(encodeReceived(7)), { type: 'received', index: 7 });
  assert.deepEqual(decodeInner(encodeChunk(new Uint8Array([1, 2])), true), { type: 'chunk', data: new Uint8Array([1, 2]) });
});

test('FINAL on anything but a chunk is peer-misbehaved', () => {
  for (const inner of [encodeAccept(), encodeDecline(), encodeCancel(), encodeReceived(0), encodeManifest([{ name: 'a', size: 1, type: '' }])]) {
    assert.throws(() => decodeInner(inner, true), (e) => isCode(e, 'peer-misbehaved'));
  }
});

test('manifest JSON is read strictly', () => {
  const ok = [
    file('{"name":"a","size":1,"type":""}'),
    ' { "files" : [ { "type" : "" , "size" : 0 , "name" : "a" } ] } \n',
    file('{"name":"\\u0061b\\u00e9\\ud83c\\udf89","size":9007199254740991,"type":"text\\/plain"}'),
  ];
  for (const json of ok) assert.equal(decodeInner(manifest(json)).type, 'manifest', json);
  assert.deepEqual(decodeInner(manifest(ok[2])), {
    type: 'manifest',
    files: [{ name: 'abé🎉', size: 9007199254740991, type: 'text/plain' }],
  });
  const misbehaved = [
    file('{"name":"a","size":1.0,"type":""}'),
    file('{"name":"a","size":1e3,"type":""}'),
    file('{"name":"a","size":1E0,"type":""}'),
    file('{"name":"a","size":-0,"type":""}'),
    file('{"name":"a","size":01,"type":""}'),
    file('{"name":"a","size":9007199254740992,"type":""}'),
    file('{"name":"a","size":99999999999999999999999,"type":""}'),
    file('{"name":"a","size":1,"type":"","name":"b"}'),
    '{"files":[],"files":[{"name":"a","size":1,"type":""}]}',
    file('{"name":"a\\ud800","size":1,"type":""}'),
    file('{"name":"a","size":1,"type":"\\udc00"}'),
    file('{"name":"a","size":1,"type":"\t"}'),
    file('{"name":"a","size":1,"type":"\\x"}'),
    file('{"name":"a","size":1,"type":"\\u12"}'),
    file('{"name":"a","size":1,"type":""}') + 'x',
    file('{"name":"a","size":1,"type":""}') + '{}',
    '\ufeff' + file('{"name":"a","size":1,"type":""}'),
    file('{"name":"a","size":1,"type":"",}'),
    file('{"name":"a","size":1,"type":""},'),
    file('{"name":"a","size":null,"type":""}'),
    file('{"name":"a","size":true,"type":""}'),
    file('[]'),
    file('{"name":"a","size":1,"type":"' + 't'.repeat(256) + '"}'),
    '{"files":null}',
    '{}',
    '{"files":[[[[[[[[[[]]]]]]]]]]}',
    '[' .repeat(100000),
    '',
  ];
  for (const json of misbehaved) {
    assert.throws(() => decodeInner(manifest(json)), (e) => isCode(e, 'peer-misbehaved'), json.slice(0, 80));
  }
  // Structure errors anywhere win over a bad name (as serde parses before names are checked).
  assert.throws(
    () => decodeInner(manifest(`{"files":[{"name":"..","size":1,"type":""},{"name":"a","size":1,"type":"","x":0}]}`)),
    (e) => isCode(e, 'peer-misbehaved'),
  );
  assert.throws(
    () => decodeInner(manifest(file('{"name":"a\\u0000","size":1,"type":""}'))),
    (e) => isCode(e, 'bad-name'),
  );
});

test('a long offer is split into parts that each fit a record and parse back; one part of too many files is refused', () => {
  const entry = (/** @type {number} */ i) => ({ name: `file-${i}.bin`, size: i, type: '' });
  const files = Array.from({ length: 5000 }, (_, i) => entry(i));
  const maxJson = 64 * 1024 - 18;
  const parts = manifestParts(files, 'AAAAAAAAAAAAAAAAAAAAAA', maxJson);
  assert.ok(parts.length > 3);
  /** @type {any[]} */
  const back = [];
  parts.forEach((part, i) => {
    const inner = encodeManifest(part);
    assert.ok(inner.length <= maxJson + 1);
    const decoded = decodeInner(inner);
    assert.ok(decoded.type === 'manifest');
    assert.equal(decoded.id, 'AAAAAAAAAAAAAAAAAAAAAA');
    assert.equal(decoded.more, i < parts.length - 1 ? true : undefined);
    back.push(...decoded.files);
  });
  assert.deepEqual(back, files);
  const tooMany = JSON.stringify({ files: Array.from({ length: MAX_MANIFEST_FILES + 1 }, (_, i) => ({ name: 'a', size: i, type: '' })) });
  assert.throws(() => decodeInner(manifest(tooMany)), (e) => isCode(e, 'peer-misbehaved'));
  assert.throws(() => encodeManifest([]), RangeError);
});

test('encodeManifest refuses what the peer would refuse', () => {
  assert.throws(() => encodeManifest([{ name: 'a/b', size: 1, type: '' }]), (e) => isCode(e, 'bad-name'));
  assert.throws(() => encodeManifest([{ name: 'CON.txt', size: 1, type: '' }]), (e) => isCode(e, 'bad-name'));
  assert.throws(() => encodeManifest([{ name: 'a', size: 1.5, type: '' }]), RangeError);
  assert.throws(() => encodeManifest([{ name: 'a', size: -1, type: '' }]), RangeError);
  assert.throws(() => encodeManifest([{ name: 'a', size: 2 ** 53, type: '' }]), RangeError);
  assert.throws(() => encodeManifest([{ name: 'a', size: 1, type: 'é'.repeat(128) }]), RangeError);
  assert.throws(() => encodeManifest([{ name: 'a', size: 1, type: '\ud800' }]), RangeError);
  const big = Array.from({ length: 1000 }, (_, i) => ({ name: `${i}`.padEnd(255, 'x'), size: 1, type: '' }));
  assert.throws(() => encodeManifest(big), RangeError);
});

test('distinctPaths: a repeated path is kept beside the first as NAME (1).ext, as the CLI saves it', () => {
  /** @param {string} name @param {string[]} [dir] */
  const f = (name, dir) => ({ name, size: 1, type: '', ...(dir ? { dir } : {}) });
  const names = distinctPaths([
    f('dup.txt'),
    f('dup.txt'),
    f('dup (1).txt'),
    f('dup.txt', ['d']),
    f('dup.txt', ['d']),
    f('.profile'),
    f('.profile'),
    f('README'),
    f('README'),
  ]).map((x) => [...(x.dir ?? []), x.name].join('/'));
  assert.deepEqual(names, [
    'dup.txt',
    'dup (1).txt',
    'dup (1) (1).txt',
    'd/dup.txt',
    'd/dup (1).txt',
    '.profile',
    '.profile (1)',
    'README',
    'README (1)',
  ]);
  const once = [f('a'), f('b')];
  assert.deepEqual(distinctPaths(once), once, 'distinct names stay as they are');
});

test('received carries a u32; other payload lengths are refused', () => {
  assert.deepEqual(decodeInner(encodeReceived(0xffffffff)), { type: 'received', index: 0xffffffff });
  assert.throws(() => encodeReceived(2 ** 32), RangeError);
  assert.throws(() => encodeReceived(-1), RangeError);
});

test('chunkPayloadSize: record size minus overhead and type byte, capped at MAX_RECORD_BYTES', () => {
  assert.equal(chunkPayloadSize(MAX_RECORD_BYTES), MAX_RECORD_BYTES - 18);
  assert.equal(chunkPayloadSize(65536), 65536 - 18);
  assert.equal(chunkPayloadSize(1073741823), MAX_RECORD_BYTES - 18);
  assert.throws(() => chunkPayloadSize(18), RangeError);
});

/**
 * A receive engine that accepted `files`.
 * @param {{ name: string, size: number, type: string }[]} files
 */
function receiving(files) {
  const r = new Receiver();
  r.handleMessage({ type: 'manifest', files }, false);
  r.accept();
  while (r.pollEvent());
  return r;
}

/**
 * One chunk into the engine; what it reports, as the page's shell sees it.
 * @param {Receiver} r
 * @param {number} n
 * @param {boolean} fin
 */
function chunk(r, n, fin) {
  r.handleMessage({ type: 'chunk', data: new Uint8Array(n) }, fin);
  const out = [];
  for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) out.push(ev.type === 'data' ? `data ${ev.index} ${ev.data.length}` : 'index' in ev ? `${ev.type} ${ev.index}` : ev.type);
  return out;
}

test('receive engine: a multi-file transfer with an empty file', () => {
  const r = receiving([
    { name: 'a', size: 5, type: '' },
    { name: 'empty', size: 0, type: '' },
    { name: 'b', size: 3, type: '' },
  ]);
  assert.deepEqual(chunk(r, 2, false), ['data 0 2']);
  assert.deepEqual(chunk(r, 0, false), []);
  assert.deepEqual(chunk(r, 3, true), ['data 0 3', 'file-complete 0']);
  assert.deepEqual(chunk(r, 0, true), ['file-complete 1']);
  assert.deepEqual(chunk(r, 3, true), ['data 2 3', 'file-complete 2', 'transfer-complete']);
  assert.ok(!r.busy);
  assert.throws(() => chunk(r, 0, true), (e) => isCode(e, 'peer-misbehaved'));
});

test('receive engine: too many bytes, FINAL too early, or bytes for an empty file are peer-misbehaved', () => {
  const files = [{ name: 'a', size: 4, type: '' }, { name: 'e', size: 0, type: '' }];
  /** @type {[string, [number, boolean][]][]} */
  const cases = [
    ['more bytes than the size', [[3, false], [2, false]]],
    ['more bytes with FINAL', [[5, true]]],
    ['FINAL with fewer bytes', [[3, true]]],
    ['FINAL on an empty chunk too early', [[0, true]]],
    ['a byte for the empty file', [[4, true], [1, true]]],
  ];
  for (const [why, chunks] of cases) {
    const r = receiving(files);
    assert.throws(
      () => {
        for (const [n, fin] of chunks) chunk(r, n, fin);
      },
      (e) => isCode(e, 'peer-misbehaved'),
      why,
    );
  }
});

test('close: {} or a catalogue code, refused with anything else, never FINAL (§6.1)', () => {
  assert.deepEqual(decodeInner(encodeClose()), { type: 'close' });
  assert.deepEqual(decodeInner(encodeClose('bad-name')), { type: 'close', code: 'bad-name' });
  assert.deepEqual([...encodeClose()], [0x0e, ...new TextEncoder().encode('{}')]);
  assert.throws(() => encodeClose(/** @type {any} */ ('oops')), RangeError);
  const close = (/** @type {string} */ json) => new Uint8Array([0x0e, ...new TextEncoder().encode(json)]);
  assert.deepEqual(decodeInner(close(' { "code" : "record-rejected" } ')), { type: 'close', code: 'record-rejected' });
  for (const json of ['', '[]', '{"code":null}', '{"code":"toString"}', '{"code":"bad-name"}x', '{"code":"bad-name","code":"bad-name"}', '{"why":"x"}']) {
    assert.throws(() => decodeInner(close(json)), (e) => isCode(e, 'peer-misbehaved'), json);
  }
  assert.throws(() => decodeInner(encodeClose(), true), (e) => isCode(e, 'peer-misbehaved'));
});
