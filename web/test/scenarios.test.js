/**
 * @file Replays the shared scenario vectors (`testdata/vectors/scenarios/*.json`, written by
 * `crates/pairwise-proto/tests/scenario_vectors.rs` from the Rust engines) against the JS twins
 * in `lib/proto/transfer/`: every step's input gives exactly the step's outputs (messages to
 * send, events, chunk runs, errors), in order. If the two languages disagree,
 * `docs/protocol.md` decides and the fix lands with the vector.
 */

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

import { fromHex, hex } from '../lib/proto/b64.js';
import { ProtocolError } from '../lib/proto/errors.js';
import { Receiver } from '../lib/proto/transfer/receiver.js';
import { Sender } from '../lib/proto/transfer/sender.js';

/** @import { InnerMessage } from '../types/protocol.js' */

const DIR = new URL('../../testdata/vectors/scenarios/', import.meta.url);

/**
 * A message as the vectors write it (chunk data in hex) to the engine's form, and back.
 * @param {any} m
 * @returns {InnerMessage}
 */
const fromJson = (m) => (m.type === 'chunk' ? { type: 'chunk', data: fromHex(m.data) } : m);
/** @param {any} m */
const toJson = (m) => (m.type === 'chunk' || m.type === 'data' ? { ...m, data: hex(m.data) } : m.type === 'offered' ? { type: 'offered', manifest: { type: 'manifest', ...m.manifest } } : m);

/**
 * Runs `f`, adding what it returns to `out` as a message to send, or its error code.
 * @param {any[]} out
 * @param {() => InnerMessage | null | void} f
 */
function call(out, f) {
  try {
    const msg = f();
    if (msg) out.push({ send: toJson(msg) });
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    out.push({ error: e.code });
  }
}

/**
 * @param {any} scenario
 * @returns {any[][]} the outputs of every step
 */
function replayReceiver(scenario) {
  const r = new Receiver();
  return scenario.steps.map((/** @type {any} */ step) => {
    /** @type {any[]} */
    const out = [];
    const i = step.in;
    if (i.peer) call(out, () => r.handleMessage(fromJson(i.peer), i.final === true));
    else if (i.call === 'accept') call(out, () => (i.resume ? r.acceptResume(i.resume) : r.accept()));
    else if (i.call === 'decline') call(out, () => r.decline());
    else if (i.call === 'cancel') call(out, () => r.cancel());
    else if (i.call === 'stored') call(out, () => r.stored(i.bytes));
    else if (i.call === 'closed') call(out, () => r.handleClose());
    else if (i.call === 'lanes') r.peerUsesLanes();
    else assert.fail(`unknown receiver input ${JSON.stringify(i)}`);
    for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) out.push({ event: toJson(ev) });
    return out;
  });
}

/**
 * @param {any} scenario
 * @returns {any[][]}
 */
function replaySender(scenario) {
  /** @type {Sender | null} */
  let s = null;
  return scenario.steps.map((/** @type {any} */ step) => {
    /** @type {any[]} */
    const out = [];
    const i = step.in;
    const wasDone = s?.isDone ?? false;
    if (i.call === 'offer') {
      s = new Sender(i.manifest.files, i.manifest.id, i.max_record);
      for (const part of s.parts) out.push({ send: toJson(part) });
    } else {
      const sender = s;
      assert.ok(sender, 'a sender scenario starts with its offer');
      if (i.peer) call(out, () => sender.handleMessage(fromJson(i.peer)));
      else if (i.call === 'resume') call(out, () => sender.resume(i.files));
      else if (i.call === 'cancel') call(out, () => sender.cancel());
      else if (i.call === 'max_record') sender.setMaxRecord(i.max_record);
      else assert.fail(`unknown sender input ${JSON.stringify(i)}`);
    }
    const sender = /** @type {Sender} */ (s);
    for (let ev = sender.pollEvent(); ev; ev = sender.pollEvent()) out.push({ event: toJson(ev) });
    // Chunks in runs: consecutive chunks of one file are one entry.
    /** @type {any} */
    let run = null;
    for (let c = sender.pollChunk(); c; c = sender.pollChunk()) {
      if (run && run.index === c.index) {
        run.bytes += c.len;
        run.count += 1;
        run.final = c.final;
      } else {
        run = { index: c.index, offset: c.offset, bytes: c.len, count: 1, final: c.final };
        out.push({ chunks: run });
      }
    }
    if (!wasDone && sender.isDone) out.push({ done: true });
    return out;
  });
}

// session-* scenarios are the session engine's (`pairwise_proto::session`); its JS twin, which
// will replay them, does not exist yet (`session-driver.js` still decides for the page).
const files = (() => {
  try {
    return readdirSync(DIR).filter((f) => f.endsWith('.json') && (f.startsWith('receiver-') || f.startsWith('sender-')));
  } catch {
    return [];
  }
})();

test('there are scenarios for both engines', () => {
  assert.ok(files.some((f) => f.startsWith('receiver-')) && files.some((f) => f.startsWith('sender-')), 'no scenario files');
});

for (const f of files) {
  test(`scenario ${f}`, () => {
    const scenario = JSON.parse(readFileSync(new URL(f, DIR), 'utf8'));
    const got = scenario.engine === 'receiver' ? replayReceiver(scenario) : replaySender(scenario);
    scenario.steps.forEach((/** @type {any} */ step, /** @type {number} */ n) => {
      assert.deepEqual(got[n], step.out, `${f}: step ${n} (${JSON.stringify(step.in).slice(0, 120)}): ${scenario.why}`);
    });
  });
}
