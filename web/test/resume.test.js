/**
 * @file The resume hash chain (§11.3) against `testdata/vectors/resume.json`, which the Rust
 * crate generates and checks too, and the chain's own properties.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { fromHex, hex } from '../lib/proto/b64.js';
import { RESUME_BLOCK } from '../lib/proto/limits.js';
import { ResumeChain } from '../lib/proto/resume.js';

const v = JSON.parse(readFileSync(new URL('../../testdata/vectors/resume.json', import.meta.url), 'utf8'));

/** @param {number} len */
function pattern(len) {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = (i * 31 + 7) % 251;
  return out;
}

test('resume.json: start value, checkpoints and final values', async () => {
  assert.equal(v.block, RESUME_BLOCK);
  const id = fromHex(v.id);
  const start = await ResumeChain.start(id, v.index);
  assert.equal(hex(start.checkpoint().h), v.start);
  for (const c of v.cases) {
    const data = pattern(c.length);
    const chain = await ResumeChain.start(id, v.index);
    // Fed in odd pieces: the result must not depend on how bytes arrive.
    for (let at = 0; at < data.length; at += 262_127) await chain.update(data.subarray(at, at + 262_127));
    const cp = chain.checkpoint();
    assert.equal(cp.offset, c.checkpoint_offset, `length ${c.length}`);
    assert.equal(hex(cp.h), c.checkpoint, `length ${c.length}`);
    // Continued from the checkpoint, as a receiver does after a reload.
    const rest = new ResumeChain(cp.h, cp.offset);
    await rest.update(data.subarray(cp.offset));
    assert.equal(hex(await rest.finish()), c.finish, `length ${c.length}`);
    assert.equal(hex(await chain.finish()), c.finish, `length ${c.length}`);
  }
});

test('a chain differs by file index and refuses bad starts', async () => {
  const id = fromHex(v.id);
  const a = await (await ResumeChain.start(id, 0)).finish();
  const b = await (await ResumeChain.start(id, 1)).finish();
  assert.notEqual(hex(a), hex(b));
  assert.throws(() => new ResumeChain(new Uint8Array(32), 5), RangeError);
  await assert.rejects(ResumeChain.start(new Uint8Array(15), 0), RangeError);
});
