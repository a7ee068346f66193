/**
 * @file Tests for `lib/formats/qr.js`: exact module matrices against the shared vectors made with the Rust
 * `qrcode` crate (testdata/vectors/qr.json), version/ECL boundaries, errors, and a decode
 * round trip through an independent decoder (jsQR) for every version and ECL.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import { byteCapacity, encodeQr, penalty } from '../lib/formats/qr.js';
import { drawQr } from '../ui/qr-canvas.js';

/**
 * @typedef {object} QrVector
 * @property {string} text
 * @property {'L'|'M'|'Q'|'H'} ecl
 * @property {number} version
 * @property {number} mask mask of `rows`, chosen by the standard's penalty rules
 * @property {number} crate_mask the mask the qrcode crate picks itself
 * @property {number} size
 * @property {string[]} rows
 * @property {string[]} [crate_rows] the crate's own symbol, present where `crate_mask != mask`
 */

/** @type {QrVector[]} */
const vectors = JSON.parse(readFileSync(new URL('../../testdata/vectors/qr.json', import.meta.url), 'utf8'));

/** @type {(data: Uint8ClampedArray, width: number, height: number) => {binaryData: number[], version: number} | null} */
const jsQR = (() => {
  const mod = createRequire(import.meta.url)('jsqr');
  return mod.default ?? mod;
})();

/**
 * @param {{size: number, modules: Uint8Array}} qr
 * @returns {string[]}
 */
function toRows(qr) {
  const rows = [];
  for (let r = 0; r < qr.size; r += 1) rows.push(Array.from(qr.modules.subarray(r * qr.size, (r + 1) * qr.size)).join(''));
  return rows;
}

/**
 * ASCII text of exactly `len` bytes (same filler as the Rust vector test).
 * @param {number} len
 */
function filler(len) {
  const base = 'The quick brown fox jumps over the lazy dog 0123456789. ';
  return base.repeat(Math.ceil(len / base.length) + 1).slice(0, len);
}

test('qr.json has the cases it promises', () => {
  assert.ok(vectors.length >= 30);
  assert.deepEqual(new Set(vectors.map((v) => v.ecl)), new Set(['L', 'M', 'Q', 'H']));
  assert.ok(vectors.some((v) => v.text.startsWith('http://127.0.0.1:8080/#pair=') && v.text.length === 28 + 131));
  assert.ok(vectors.some((v) => v.text.startsWith('https://')));
  assert.ok(vectors.some((v) => /[^\x00-\x7f]/.test(v.text)));
  assert.ok(vectors.some((v) => v.version === 40));
});

for (const v of vectors) {
  const label = `${v.ecl} v${v.version} ${JSON.stringify(v.text.length > 40 ? `${v.text.slice(0, 37)}...` : v.text)}`;
  test(`matches the qrcode crate: ${label}`, () => {
    const qr = encodeQr(v.text, { ecl: v.ecl });
    assert.equal(qr.version, v.version);
    assert.equal(qr.size, v.size);
    assert.equal(qr.modules.length, v.size * v.size);
    assert.equal(qr.mask, v.mask, 'mask chosen by the penalty rules');
    assert.deepEqual(toRows(qr), v.rows);
    // The crate's own mask choice, forced, must give the crate's own symbol as well.
    const forced = encodeQr(v.text, { ecl: v.ecl, mask: v.crate_mask });
    assert.deepEqual(toRows(forced), v.crate_rows ?? v.rows);
  });
}

test('default ECL is M', () => {
  const v = vectors.find((x) => x.ecl === 'M' && x.text.startsWith('http://'));
  assert.ok(v);
  const qr = encodeQr(v.text);
  assert.equal(qr.ecl, 'M');
  assert.deepEqual(toRows(qr), v.rows);
});

test('byte capacities follow the standard table', () => {
  /** @type {Record<string, number[]>} */
  const table = {
    L: [17, 32, 53, 78, 106, 134, 154, 192, 230, 271],
    M: [14, 26, 42, 62, 84, 106, 122, 152, 180, 213],
    Q: [11, 20, 32, 46, 60, 74, 86, 108, 130, 151],
    H: [7, 14, 24, 34, 44, 58, 64, 84, 98, 119],
  };
  for (const [ecl, caps] of Object.entries(table)) {
    caps.forEach((cap, i) => assert.equal(byteCapacity(i + 1, /** @type {'L'|'M'|'Q'|'H'} */ (ecl)), cap, `${ecl} v${i + 1}`));
  }
  assert.equal(byteCapacity(40, 'L'), 2953);
  assert.equal(byteCapacity(40, 'M'), 2331);
  assert.equal(byteCapacity(40, 'Q'), 1663);
  assert.equal(byteCapacity(40, 'H'), 1273);
});

test('picks the smallest version at each boundary, for every ECL', () => {
  for (const ecl of /** @type {const} */ (['L', 'M', 'Q', 'H'])) {
    for (let version = 1; version < 40; version += 1) {
      const cap = byteCapacity(version, ecl);
      assert.equal(encodeQr(filler(cap), { ecl }).version, version, `${ecl} ${cap} bytes`);
      assert.equal(encodeQr(filler(cap + 1), { ecl }).version, version + 1, `${ecl} ${cap + 1} bytes`);
    }
  }
});

test('a minimum version can be forced', () => {
  assert.equal(encodeQr('hi', { version: 5 }).version, 5);
  assert.equal(encodeQr(filler(100), { version: 2 }).version, 6);
});

test('counts UTF-8 bytes, not UTF-16 units', () => {
  // 7 characters, 14 bytes in UTF-8: exactly version 1-M; one more byte is version 2.
  assert.equal(encodeQr('ééééééé').version, 1);
  assert.equal(encodeQr('éééééééa').version, 2);
});

test('pairing links fit comfortably', () => {
  const frag = 'A'.repeat(131);
  assert.equal(encodeQr(`http://127.0.0.1:8080/#pair=${frag}`).version, 9);
  assert.ok(encodeQr(`https://${'h'.repeat(30)}.local:8443/#pair=${frag}`).version <= 10);
});

test('too-long input and bad options are refused', () => {
  assert.throws(() => encodeQr(filler(2332)), RangeError);
  assert.throws(() => encodeQr(filler(2954), { ecl: 'L' }), RangeError);
  assert.throws(() => encodeQr(filler(1274), { ecl: 'H' }), /1273/);
  assert.doesNotThrow(() => encodeQr(filler(2953), { ecl: 'L' }));
  assert.throws(() => encodeQr('x', { ecl: /** @type {any} */ ('X') }), RangeError);
  assert.throws(() => encodeQr('x', { mask: 8 }), RangeError);
});

test('the chosen mask has the lowest penalty (ties go to the lower number)', () => {
  const text = 'http://127.0.0.1:8080/#pair=' + filler(131);
  const chosen = encodeQr(text);
  const scores = [0, 1, 2, 3, 4, 5, 6, 7].map((mask) => penalty(encodeQr(text, { mask }).modules, chosen.size));
  assert.equal(chosen.mask, scores.indexOf(Math.min(...scores)));
});

/**
 * Renders a symbol to RGBA with a 4-module quiet zone, `scale` pixels per module.
 * @param {{size: number, modules: Uint8Array}} qr
 * @param {number} scale
 */
function toRgba(qr, scale) {
  const side = (qr.size + 8) * scale;
  const px = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let y = 0; y < side; y += 1) {
    for (let x = 0; x < side; x += 1) {
      const r = Math.floor(y / scale) - 4;
      const c = Math.floor(x / scale) - 4;
      if (r >= 0 && c >= 0 && r < qr.size && c < qr.size && qr.modules[r * qr.size + c]) {
        px.fill(0, (y * side + x) * 4, (y * side + x) * 4 + 3);
      }
    }
  }
  return { px, side };
}

test('jsQR decodes every version at every ECL back to the same bytes', () => {
  for (let version = 1; version <= 40; version += 1) {
    for (const ecl of /** @type {const} */ (['L', 'M', 'Q', 'H'])) {
      // Full versions only for a quarter of the large ones, to keep the run short.
      if (version > 10 && (version + 'LMQH'.indexOf(ecl)) % 4 !== 0) continue;
      const prefix = `${ecl}${version}:`;
      const text = prefix + filler(byteCapacity(version, ecl) - prefix.length - 2) + 'ü';
      const bytes = new TextEncoder().encode(text);
      assert.equal(bytes.length, byteCapacity(version, ecl));
      const qr = encodeQr(text, { ecl });
      assert.equal(qr.version, version);
      const { px, side } = toRgba(qr, version > 20 ? 2 : 3);
      const decoded = jsQR(px, side, side);
      assert.ok(decoded, `jsQR found no code in ${ecl} v${version}`);
      assert.equal(decoded.version, version);
      assert.deepEqual(Uint8Array.from(decoded.binaryData), bytes, `${ecl} v${version}`);
    }
  }
});

test('jsQR decodes the pairing link for every mask', () => {
  const text = 'https://192.168.178.42:8443/#pair=' + filler(131);
  for (let mask = 0; mask < 8; mask += 1) {
    const qr = encodeQr(text, { mask });
    const { px, side } = toRgba(qr, 4);
    const decoded = jsQR(px, side, side);
    assert.ok(decoded, `mask ${mask}`);
    assert.deepEqual(Uint8Array.from(decoded.binaryData), new TextEncoder().encode(text));
  }
});

test('drawQr paints a scannable symbol with a white quiet zone', () => {
  const text = 'http://127.0.0.1:8080/#pair=' + filler(131);
  const qr = encodeQr(text);
  // A stand-in canvas whose 2D context paints fillRect calls into an RGBA buffer.
  const fake = { width: 0, height: 0, px: new Uint8ClampedArray(0) };
  const ctx = {
    fillStyle: '',
    imageSmoothingEnabled: true,
    /** @param {number} x @param {number} y @param {number} w @param {number} h */
    fillRect(x, y, w, h) {
      if (fake.px.length !== fake.width * fake.height * 4) fake.px = new Uint8ClampedArray(fake.width * fake.height * 4);
      const v = this.fillStyle === '#000000' ? 0 : 255;
      for (let yy = y; yy < y + h; yy += 1) {
        for (let xx = x; xx < x + w; xx += 1) {
          const i = (yy * fake.width + xx) * 4;
          fake.px.set([v, v, v, 255], i);
        }
      }
    },
  };
  const canvas = Object.assign(fake, { getContext: () => ctx });
  drawQr(/** @type {any} */ (canvas), qr);
  assert.equal(canvas.width, (qr.size + 8) * 6);
  assert.equal(canvas.height, canvas.width);
  assert.equal(ctx.imageSmoothingEnabled, false);
  // Quiet zone: the first 4 modules (24 px) of rows and columns are white.
  for (let i = 0; i < 24 * canvas.width; i += 1) assert.equal(canvas.px[i * 4], 255);
  // The top-left finder's corner module starts right after the quiet zone.
  assert.equal(canvas.px[(24 * canvas.width + 24) * 4], 0);
  const decoded = jsQR(canvas.px, canvas.width, canvas.height);
  assert.ok(decoded);
  assert.deepEqual(Uint8Array.from(decoded.binaryData), new TextEncoder().encode(text));
  drawQr(/** @type {any} */ (canvas), qr, { scale: 2, margin: 1 });
  assert.equal(canvas.width, (qr.size + 2) * 2);
});
