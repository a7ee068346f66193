/**
 * @file Layering of `web/lib/`, by folder: `proto/` (the protocol: formats, key schedule,
 * engines) and `formats/` (QR, ZIP) are pure: they import only each other and never name
 * `window`, `document`, `WebSocket`, `RTCPeerConnection` or `console`, so they run unchanged under
 * `node --test` and cannot leak into the page. `net/` (signaling, WebRTC, sessions),
 * `transfers/` (the IO around the transfer engines), `storage/` (IndexedDB) and `files/` (OPFS,
 * folders, workers) are the IO around them; `app/` holds the app's controller. No module in `lib/` imports from `ui/`.
 */

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { test } from 'node:test';

const LIB = new URL('../lib/', import.meta.url);
const LAYERS = ['proto', 'formats', 'net', 'transfers', 'storage', 'files', 'app'];
const PURE_LAYERS = ['proto', 'formats'];
/**
 * Every module under these folders of lib/, relative to lib/.
 * @param {string[]} dirs
 * @returns {string[]}
 */
function modules(dirs) {
  return dirs.flatMap((d) =>
    readdirSync(new URL(`${d}/`, LIB), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => `${d}/${f.split('\\').join('/')}`),
  );
}
const PURE = modules(PURE_LAYERS);
const FORBIDDEN = ['window', 'document', 'WebSocket', 'RTCPeerConnection', 'console'];

/**
 * Import specifiers of a module, including `@import` type imports and dynamic imports.
 * @param {string} src
 * @returns {string[]}
 */
function imports(src) {
  const out = [];
  for (const m of src.matchAll(/(?:^|[\s;@])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of src.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) out.push(m[1]);
  for (const m of src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]);
  return out;
}

/**
 * Source without comments and string literals, for identifier scans.
 * @param {string} src
 * @returns {string}
 */
function code(src) {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

/**
 * The global `name` used in code: not a property (`this.window`) nor an accessor's name
 * (`get window()`), which pure modules may well have.
 * @param {string} name
 * @returns {RegExp}
 */
function global(name) {
  return new RegExp(`(?<![.\\w$])(?<!\\b(?:get|set)\\s+)${name}\\b`);
}

test('the scanners see what they must', () => {
  assert.deepEqual(imports("/** @import { A } from '../types/protocol.js' */\nimport { b } from './b.js';\nimport './c.js';"), [
    '../types/protocol.js',
    './b.js',
    './c.js',
  ]);
  const body = code("const s = 'window'; /* document */ // WebSocket\nconsole.log(s);");
  assert.ok(/\bconsole\b/.test(body) && !/window|document|WebSocket/.test(body));
  assert.ok(global('window').test('const w = window.open();') && global('WebSocket').test('new WebSocket(u)'));
  assert.ok(!global('window').test('get window() { return this.window; }'));
});

test('lib/ holds only its layer folders, and no module there imports from ui/', () => {
  assert.deepEqual(
    readdirSync(LIB).sort(),
    [...LAYERS].sort(),
    'every module of lib/ sits in a layer folder',
  );
  for (const f of modules(LAYERS)) {
    for (const spec of imports(readFileSync(new URL(f, LIB), 'utf8'))) {
      assert.ok(!/(^|\/)ui\//.test(spec), `${f} imports ${spec}`);
    }
  }
});

test('pure modules import only pure modules and touch no DOM, network or console', () => {
  assert.ok(PURE.length >= 20, 'lib/proto/ and lib/formats/ hold the pure modules');
  for (const f of PURE) {
    const src = readFileSync(new URL(f, LIB), 'utf8');
    assert.match(src, /^\/\*\*\n \* @file /, `${f} starts with a file-level JSDoc comment`);
    for (const spec of imports(src)) {
      const target = posix.normalize(posix.join(posix.dirname(f), spec));
      const types = target === '../types/protocol.js';
      assert.ok(PURE.includes(target) || types, `${f} imports ${spec}`);
    }
    const body = code(src);
    for (const name of FORBIDDEN) {
      assert.ok(!global(name).test(body), `${f} references ${name}`);
    }
  }
});
