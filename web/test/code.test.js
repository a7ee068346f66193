/**
 * @file Pairing by code (`lib/proto/code.js`, protocol §2.1) in memory: two exchanges agree on
 * the number and the secret, a key substituted in the middle changes the numbers, a `code-open`
 * that is not what was committed is `verify-failed`, and bodies out of order, malformed or
 * changed are `peer-misbehaved` (a byte-for-byte repeat is ignored); then the shared vectors
 * (`testdata/vectors/code.json`, written by `pairwise_proto::code`'s tests) pin the same
 * against the Rust twin: codes, rooms, every body's exact JSON text, the number, the secret.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { fromHex, hex } from '../lib/proto/b64.js';
import { CodeExchange, codeFromRandom, codeRoom, commitment, parseCode, showCode, showNumber } from '../lib/proto/code.js';
import { generateKeyPair, importPrivateForTest, randomBytes } from '../lib/proto/keys.js';

/** @param {'initiator' | 'responder'} role */
async function side(role) {
  return new CodeExchange({ role, identity: role === 'initiator' ? await generateKeyPair() : undefined, ephemeral: await generateKeyPair(), nonce: randomBytes(32) });
}

/**
 * Runs the exchange between `i` and `r`; `tamper` may rewrite each body on its way.
 * @param {CodeExchange} i @param {CodeExchange} r
 * @param {(b: any) => any} [tamper]
 */
async function run(i, r, tamper = (b) => b) {
  const [commit] = (await i.start()).send;
  const [key] = (await r.handle(tamper(commit))).send;
  const toResponder = await i.handle(tamper(key));
  const [open] = toResponder.send;
  const atResponder = await r.handle(tamper(open));
  return { i: toResponder.outcome, r: atResponder.outcome, bodies: /** @type {Record<string, any>} */ ({ commit, key, open }) };
}

test('both sides get the same number and secret, and the initiator identity travels', async () => {
  const i = await side('initiator');
  const r = await side('responder');
  const out = await run(i, r);
  assert.ok(out.i && out.r);
  assert.match(out.i.number, /^[0-9]{6}$/);
  assert.equal(out.i.number, out.r.number);
  assert.deepEqual(out.i.secret, out.r.secret);
  assert.deepEqual(out.i.identityPub, out.r.identityPub);
  assert.equal(r.ready, false);
  assert.deepEqual(r.matched(), { send: [], ready: false }, 'its own yes alone is not enough');
  const match = i.matched();
  assert.deepEqual(match.send, [{ kind: 'code-match' }]);
  assert.equal((await r.handle(match.send[0])).ready, true);
});

test('a server in the middle that uses its own keys gets different numbers on the two screens', async () => {
  const i = await side('initiator');
  const r = await side('responder');
  const mallory = await generateKeyPair();
  const { b64uEncode } = await import('../lib/proto/b64.js');
  // It swaps the responder's key for its own on the way to the initiator.
  const out = await run(i, r, (b) => (b.kind === 'code-key' ? { ...b, ephemeral: b64uEncode(mallory.publicRaw) } : b));
  assert.ok(out.i && out.r);
  assert.notEqual(out.i.number, out.r.number);
});

test('a code-open that is not what was committed is verify-failed; nothing after it is taken', async () => {
  const i = await side('initiator');
  const r = await side('responder');
  const other = await generateKeyPair();
  const { b64uEncode } = await import('../lib/proto/b64.js');
  await assert.rejects(
    run(i, r, (b) => (b.kind === 'code-open' ? { ...b, ephemeral: b64uEncode(other.publicRaw) } : b)),
    (e) => /** @type {any} */ (e).code === 'verify-failed',
  );
  await assert.rejects(r.handle({ kind: 'code-match' }), (e) => /** @type {any} */ (e).code === 'verify-failed');
});

test('bodies out of order, malformed or changed are peer-misbehaved; an identical repeat is ignored', async () => {
  const i = await side('initiator');
  const r = await side('responder');
  const { bodies } = await run(i, r);
  const again = await side('responder');
  await assert.rejects(again.handle(bodies.open), (e) => /** @type {any} */ (e).code === 'peer-misbehaved', 'open before commit');
  assert.deepEqual(await r.handle(bodies.commit), { send: [] }, 'a repeat is ignored');
  await assert.rejects(r.handle({ kind: 'code-commit', commit: bodies.key.nonce }), (e) => /** @type {any} */ (e).code === 'peer-misbehaved', 'a second, different commit');
  for (const bad of [{ kind: 'code-key' }, { kind: 'code-commit', commit: 'AAAA' }, { kind: 'code-nope' }, { kind: 'code-commit', commit: bodies.commit.commit, x: 1 }]) {
    const fresh = await side('responder');
    await assert.rejects(fresh.handle(bad), (e) => /** @type {any} */ (e).code === 'peer-misbehaved', JSON.stringify(bad));
  }
  const early = await side('responder');
  await assert.rejects(early.handle({ kind: 'code-match' }), (e) => /** @type {any} */ (e).code === 'peer-misbehaved', 'match before the numbers');
});

test('codes: drawn uniformly from random bytes, typed with spaces or dashes, shown in groups', () => {
  assert.equal(codeFromRandom(new Uint8Array([0, 0, 0, 7])), '00000007');
  // 0xFA56EA00 = 4 200 000 000, the first value drawn again; the next 4 bytes count.
  assert.equal(codeFromRandom(new Uint8Array([0xfa, 0x56, 0xea, 0x00, 0, 0, 1, 0])), '00000256');
  assert.equal(codeFromRandom(new Uint8Array([0xff, 0xff, 0xff, 0xff])), undefined);
  assert.equal(parseCode(' 4821-9377 '), '48219377');
  for (const bad of ['4821937', '482193770', '4821 937a', '', '４８２１９３７７', '4821_9377']) {
    assert.throws(() => parseCode(bad), (e) => /** @type {any} */ (e).code === 'bad-code', bad);
  }
  assert.equal(showCode('48219377'), '4821 9377');
  assert.equal(showNumber('004217'), '004 217');
});

// ---- testdata/vectors/code.json, written by the Rust twin ----

const V = JSON.parse(readFileSync(new URL('../../testdata/vectors/code.json', import.meta.url), 'utf8'));

/**
 * An exchange from a vector's PARTY keys.
 * @param {'initiator' | 'responder'} role
 * @param {any} party
 */
async function fromVector(role, party) {
  return new CodeExchange({
    role,
    identity: role === 'initiator' ? await importPrivateForTest(party.identity_priv) : undefined,
    ephemeral: await importPrivateForTest(party.ephemeral_priv),
    nonce: fromHex(party.nonce),
  });
}

/**
 * A side of the vectors' first exchange that has taken `before` (the initiator has sent its
 * commitment first).
 * @param {'initiator' | 'responder'} side
 * @param {any[]} before
 */
async function after(side, before) {
  const e = V.exchange[0];
  const x = await fromVector(side, e[side]);
  if (side === 'initiator') await x.start();
  for (const b of before) await x.handle(b);
  return x;
}

test('code.json: codes from random bytes, typed codes, rooms', async () => {
  for (const v of V.codes.random) {
    const code = codeFromRandom(fromHex(v.random));
    assert.equal(code === undefined ? null : showCode(code), v.code, v.why);
  }
  for (const v of V.codes.typed) {
    if (v.error) assert.throws(() => parseCode(v.typed), (e) => /** @type {any} */ (e).code === v.error, v.why);
    else assert.equal(parseCode(v.typed), v.code, v.why);
  }
  for (const v of V.codes.rooms) {
    assert.equal(await codeRoom(v.code), v.room);
    assert.equal(showCode(v.code), v.shown);
  }
});

test('code.json: each exchange gives exactly the bodies, number and secret of the vectors', async () => {
  for (const e of V.exchange) {
    const i = await fromVector('initiator', e.initiator);
    const r = await fromVector('responder', e.responder);
    assert.equal(await codeRoom(e.code), e.room, e.name);
    const [commit] = (await i.start()).send;
    assert.equal(JSON.stringify(commit), e.bodies.code_commit, `${e.name}: code-commit`);
    assert.equal(hex(await commitment(fromHex(e.initiator.ephemeral_pub), fromHex(e.initiator.nonce), fromHex(e.identity_pub))), e.commit);
    const [key] = (await r.handle(JSON.parse(e.bodies.code_commit))).send;
    assert.equal(JSON.stringify(key), e.bodies.code_key, `${e.name}: code-key`);
    const atI = await i.handle(JSON.parse(e.bodies.code_key));
    assert.equal(JSON.stringify(atI.send[0]), e.bodies.code_open, `${e.name}: code-open`);
    const atR = await r.handle(JSON.parse(e.bodies.code_open));
    for (const out of [atI.outcome, atR.outcome]) {
      assert.ok(out);
      assert.equal(out.number, e.number, `${e.name}: number`);
      assert.equal(showNumber(out.number), e.number_shown);
      assert.equal(hex(out.secret), e.secret, `${e.name}: secret`);
      assert.equal(hex(out.th), e.th_c, `${e.name}: th_c`);
      assert.equal(hex(out.identityPub), e.identity_pub);
    }
    assert.equal(JSON.stringify(i.matched().send[0]), e.bodies.code_match);
  }
});

test('code.json: repeats are ignored and refused bodies fail with their code', async () => {
  for (const v of V.ignored) {
    const x = await after(v.side, v.before);
    assert.deepEqual((await x.handle(v.body)).send, [], v.why);
  }
  for (const v of V.refused) {
    const x = await after(v.side, v.before);
    await assert.rejects(x.handle(v.body), (e) => /** @type {any} */ (e).code === v.code, `${v.side}: ${v.why}`);
  }
});
