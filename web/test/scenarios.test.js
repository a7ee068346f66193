/**
 * @file Replays the shared scenario vectors (`testdata/vectors/scenarios/*.json`, written by
 * `crates/pairwise-proto/tests/scenario_vectors.rs` and `session_scenarios.rs` from the Rust
 * engines) against the JS twins in `lib/proto/transfer/` and `lib/proto/session.js`: every
 * step's input gives exactly the step's outputs (messages to send, events, chunk runs, errors;
 * the session's actions, outcome and next wake), in order. If the two languages disagree,
 * `docs/protocol.md` decides and the fix lands with the vector.
 */

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

import { fromHex, hex } from '../lib/proto/b64.js';
import { ProtocolError } from '../lib/proto/errors.js';
import { Handshake } from '../lib/proto/handshake.js';
import { importPrivateForTest } from '../lib/proto/keys.js';
import { reconnectRole } from '../lib/proto/remembered.js';
import { Session } from '../lib/proto/session.js';
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

/**
 * A PARTY of the vectors (`handshake.json`'s keys) as the handshake takes it.
 * @param {any} p
 */
async function party(p) {
  const identity = await importPrivateForTest(p.identity_priv);
  assert.equal(hex(identity.publicRaw), p.identity_pub, 'the identity key is the one the vector names');
  return { identity, ephemeral: await importPrivateForTest(p.ephemeral_priv), nonce: fromHex(p.nonce) };
}

/**
 * The session engine of a scenario's START, at time 0.
 * @param {any} start
 * @returns {Promise<Session>}
 */
async function sessionFrom(start) {
  const config = { relayedDelayMs: start.config.relayed_delay_ms, hasTurn: start.config.has_turn };
  if (start.role === 'reconnect') {
    const own = await party(start.self);
    const peer = { identity: fromHex(start.peer_identity_pub), pairingKey: fromHex(start.pairing_key) };
    const handshake = new Handshake({
      mode: 'reconnect',
      role: reconnectRole(own.identity.publicRaw, peer.identity),
      secret: peer.pairingKey,
      ...own,
      expectedPeerIdentity: peer.identity,
    });
    return new Session({ kind: 'reconnect', handshake, peer }, config, 0);
  }
  const secret = fromHex(start.secret);
  if (start.role === 'initiator') {
    const handshake = new Handshake({ role: 'initiator', secret, ...(await party(start.initiator)) });
    return new Session({ kind: 'initiator', handshake }, config, 0);
  }
  const expectedPeerIdentity = fromHex(start.initiator.identity_pub);
  const handshake = new Handshake({ role: 'responder', secret, ...(await party(start.responder)), expectedPeerIdentity });
  return new Session({ kind: 'responder', handshake }, config, 0);
}

/**
 * Feeds every step's input to the session engine; its actions, outcome and next wake per step,
 * as the vectors write them.
 * @param {any} scenario
 * @returns {Promise<any[][]>}
 */
async function replaySession(scenario) {
  const s = await sessionFrom(scenario.start);
  const steps = [];
  for (const { at_ms: now, in: i } of scenario.steps) {
    if (i.server) await s.handleServer(now, { type: 'frame', frame: i.server });
    else if ('server_closed' in i) await s.handleServer(now, { type: 'closed', why: i.server_closed });
    else if (i.offer_created) await s.offerCreated(i.offer_created.sdp, i.offer_created.sent);
    else if (i.answer_created) await s.answerCreated(i.answer_created.sdp, i.answer_created.sent);
    else if (i.timeout) await s.handleTimeout(now);
    else if (i.peer === 'channel_open') await s.handlePeer({ type: 'channel-open' });
    else if (i.peer === 'closed') await s.handlePeer({ type: 'closed' });
    else if (i.peer === 'data') await s.handlePeer({ type: 'data' });
    else if (i.peer?.failed !== undefined) await s.handlePeer({ type: 'failed', why: i.peer.failed });
    else if (i.peer && 'local_candidate' in i.peer) await s.handlePeer({ type: 'local-candidate', candidate: i.peer.local_candidate });
    else assert.fail(`unknown session input ${JSON.stringify(i)}`);
    /** @type {any[]} */
    const out = [];
    for (let a = s.pollAction(); a; a = s.pollAction()) {
      if (a.type === 'relay') out.push({ relay: a.body });
      else if (a.type === 'create-offer') out.push({ create_offer: true });
      else if (a.type === 'answer-offer') out.push({ answer_offer: a.sdp });
      else if (a.type === 'accept-answer') out.push({ accept_answer: a.sdp });
      else out.push({ add_candidate: a.candidate });
    }
    const o = s.pollOutcome();
    if (o?.type === 'established') {
      out.push({ outcome: { established: { sas: o.session.sas, peer_identity: hex(o.peerIdentity) } } });
    } else if (o?.type === 'failed') out.push({ outcome: { failed: o.code } });
    else if (o?.type === 'stranger') out.push({ outcome: 'stranger' });
    out.push({ wake: s.pollTimeout() });
    steps.push(out);
  }
  return steps;
}

const ENGINES = ['receiver-', 'sender-', 'session-'];
const files = (() => {
  try {
    return readdirSync(DIR).filter((f) => f.endsWith('.json') && ENGINES.some((e) => f.startsWith(e)));
  } catch {
    return [];
  }
})();

test('there are scenarios for every engine', () => {
  for (const e of ENGINES) assert.ok(files.some((f) => f.startsWith(e)), `no ${e}* scenario files`);
});

for (const f of files) {
  test(`scenario ${f}`, async () => {
    const scenario = JSON.parse(readFileSync(new URL(f, DIR), 'utf8'));
    const replay = { receiver: replayReceiver, sender: replaySender, session: replaySession }[/** @type {string} */ (scenario.engine)];
    assert.ok(replay, `${f}: unknown engine ${scenario.engine}`);
    const got = await replay(scenario);
    scenario.steps.forEach((/** @type {any} */ step, /** @type {number} */ n) => {
      assert.deepEqual(got[n], step.out, `${f}: step ${n} (${JSON.stringify(step.in).slice(0, 120)}): ${scenario.why}`);
    });
  });
}
