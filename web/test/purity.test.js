/**
 * @file Layering of `web/lib/`: no module imports from `ui/`, and the pure protocol modules
 * (the list below, and every module under `lib/proto/`, where purity is the folder's rule)
 * import only each other and never name `window`, `document`, `WebSocket`, `RTCPeerConnection`
 * or `console`, so they run unchanged under `node --test` and cannot leak into the page.
 */

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { test } from 'node:test';

const LIB = new URL('../lib/', import.meta.url);
const PURE = ['b64', 'bytes', 'device', 'errors', 'handshake', 'flow', 'key-schedule', 'keys', 'lanes', 'limits', 'link', 'manifest', 'name', 'record', 'remembered', 'resume', 'strict-json', 'transfer', 'zip'].map((m) => `${m}.js`);
/** Every module under lib/proto/, relative to lib/. */
const PROTO = readdirSync(new URL('proto/', LIB), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.js'))
  .map((f) => `proto/${f.split('\\').join('/')}`);
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

test('the scanners see what they must', () => {
  assert.deepEqual(imports("/** @import { A } from '../types/protocol.js' */\nimport { b } from './b.js';\nimport './c.js';"), [
    '../types/protocol.js',
    './b.js',
    './c.js',
  ]);
  const body = code("const s = 'window'; /* document */ // WebSocket\nconsole.log(s);");
  assert.ok(/\bconsole\b/.test(body) && !/window|document|WebSocket/.test(body));
});

test('no module in lib/ imports from ui/', () => {
  const files = readdirSync(LIB).filter((f) => f.endsWith('.js'));
  assert.ok(files.length >= PURE.length);
  for (const f of files) {
    for (const spec of imports(readFileSync(new URL(f, LIB), 'utf8'))) {
      assert.ok(!/(^|\/)ui\//.test(spec), `${f} imports ${spec}`);
    }
  }
});

test('pure modules import only pure modules and touch no DOM, network or console', () => {
  assert.ok(PROTO.length >= 3, 'lib/proto/ holds the engines');
  for (const f of [...PURE, ...PROTO]) {
    const src = readFileSync(new URL(f, LIB), 'utf8');
    assert.match(src, /^\/\*\*\n \* @file /, `${f} starts with a file-level JSDoc comment`);
    for (const spec of imports(src)) {
      const target = posix.normalize(posix.join(posix.dirname(f), spec));
      const allowed = PURE.includes(target) || PROTO.includes(target);
      const types = target === '../types/protocol.js';
      assert.ok(allowed || types, `${f} imports ${spec}`);
    }
    const body = code(src);
    for (const name of FORBIDDEN) {
      assert.ok(!new RegExp(`\\b${name}\\b`).test(body), `${f} references ${name}`);
    }
  }
});
