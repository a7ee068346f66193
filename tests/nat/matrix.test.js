/**
 * @file Pairwise CLI <-> CLI across real Linux NATs (tests/nat/lab.sh): for each cell, set both
 * homes' NAT kind (and whether UDP may leave them), start `pairwise serve` in `pub` with the
 * cell's relay options, `pairwise send FILE --json` on the offering host and
 * `pairwise receive LINK --json` on the answering one, and check that 4 MiB of random bytes
 * arrive with the same SHA-256, both exit 0, and the connection took the expected path, read from
 * both sides' `{"event":"connected","path":…,"local":…,"remote":…}` line. The `fail` cell checks
 * the opposite: both give up within a bounded time, non-zero, naming the cell's error code.
 *
 * Expected path, from the two sides' events together: `relay` when either side says
 * `"path":"relayed"` or has a `relay` local candidate (one side alone may not know: a relayed
 * peer can look `prflx` from the other end); else `host` when both sides report `host` at both
 * ends; else `direct`. (Through a NAT the local end is still `host`: ICE pairs a server-reflexive
 * candidate by its base, so cone-cone reads `local: host, remote: srflx` on both sides.)
 *
 * PAIRWISE_NAT_CELLS=same-lan,cone-cone runs only those cells; PAIRWISE_NAT_TURN_TCP=1 runs the
 * TURN-over-TCP cell (skipped by default, see `TURN_TCP_SKIP`); PAIRWISE_NAT_VERBOSE=1 adds `-v` to
 * every pairwise command. Needs root; run through tests/nat/run.sh.
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BIN, MiB, SERVER_URL, TURN_SECRET_FILE, isRoot, lab, labDown, labStatus, labUp, makeRandomFile, sha256File,
  spawnIn, startServer, tempDir, withTimeout,
} from './lab.js';

/** @typedef {'cone' | 'symmetric' | 'fullcone'} NatKind */
/** @typedef {'host' | 'direct' | 'relay' | 'fail'} Expect */
/**
 * Where the ICE servers come from:
 * - `embedded`: `serve`'s own STUN/TURN on UDP 203.0.113.1:8080 (its default);
 * - `coturn`: `--no-relay` and the lab's coturn (STUN + TURN/UDP, REST secret);
 * - `coturn-tcp`: `--no-relay` and coturn's TURN over TCP only;
 * - `none`: `--no-relay` alone: no ICE servers at all, host candidates only.
 * @typedef {'embedded' | 'coturn' | 'coturn-tcp' | 'none'} Relay
 */
/**
 * @typedef {object} Cell
 * @property {string} name
 * @property {'a1' | 'a2' | 'b1'} offer runs `send` (creates the pairing link)
 * @property {'a1' | 'a2' | 'b1'} answer runs `receive LINK`
 * @property {[NatKind, NatKind]} nat homes a and b
 * @property {boolean} [udpBlocked] both homes drop outgoing UDP (`lab.sh udp X block`)
 * @property {Relay} relay
 * @property {'all' | 'relay'} policy `--ice-policy` of both CLIs (`all` is passed as no flag: the default)
 * @property {Expect} expect
 * @property {string} [error] `fail` cells: the error code both sides must name
 * @property {string | false} [skip] a reason to skip
 */

const COTURN = 'turn:203.0.113.1:3478';

/** @type {Record<Relay, string[]>} */
const SERVE_ARGS = {
  embedded: [],
  coturn: ['--no-relay', '--turn', COTURN, '--stun', 'stun:203.0.113.1:3478', '--turn-secret-file', TURN_SECRET_FILE],
  'coturn-tcp': ['--no-relay', '--turn', `${COTURN}?transport=tcp`, '--turn-secret-file', TURN_SECRET_FILE],
  none: ['--no-relay'],
};

/**
 * Why the TURN-over-TCP cell is skipped unless PAIRWISE_NAT_TURN_TCP=1: the CLI's WebRTC stack
 * (webrtc 0.21.1, peer_connection/transport/turn_relayer.rs) skips every TURN URL whose
 * transport is not UDP ("Skipping unsupported non-UDP TURN url"), so with UDP blocked the CLI has
 * no candidate that can work. (Browsers do TURN over TCP; a browser cell can run it.)
 */
const TURN_TCP_SKIP = process.env.PAIRWISE_NAT_TURN_TCP === '1'
  ? false
  : 'the CLI cannot use TURN over TCP (webrtc 0.21.1 skips non-UDP TURN URLs); PAIRWISE_NAT_TURN_TCP=1 runs it';

/** @type {Cell[]} */
const CELLS = [
  { name: 'same-lan', offer: 'a1', answer: 'a2', nat: ['cone', 'cone'], relay: 'embedded', policy: 'all', expect: 'host' },
  { name: 'cone-cone', offer: 'a1', answer: 'b1', nat: ['cone', 'cone'], relay: 'embedded', policy: 'all', expect: 'direct' },
  // A port-restricted cone (Linux MASQUERADE) and a symmetric NAT cannot punch a hole: the
  // symmetric side's port towards the peer is unknown, the cone side only lets in the exact
  // address and port it sent to.
  { name: 'cone-sym', offer: 'a1', answer: 'b1', nat: ['cone', 'symmetric'], relay: 'embedded', policy: 'all', expect: 'relay' },
  { name: 'sym-sym', offer: 'a1', answer: 'b1', nat: ['symmetric', 'symmetric'], relay: 'embedded', policy: 'all', expect: 'relay' },
  { name: 'relay-forced', offer: 'a1', answer: 'b1', nat: ['cone', 'cone'], relay: 'embedded', policy: 'relay', expect: 'relay' },
  { name: 'coturn-sym-sym', offer: 'a1', answer: 'b1', nat: ['symmetric', 'symmetric'], relay: 'coturn', policy: 'all', expect: 'relay' },
  { name: 'coturn-relay-forced', offer: 'a1', answer: 'b1', nat: ['cone', 'cone'], relay: 'coturn', policy: 'relay', expect: 'relay' },
  {
    name: 'udp-blocked', offer: 'a1', answer: 'b1', nat: ['cone', 'cone'], udpBlocked: true, relay: 'coturn-tcp', policy: 'all',
    expect: 'relay', skip: TURN_TCP_SKIP,
  },
  // docs/protocol.md §9: `no-route` when the server offered no relay (`connect-failed` is for
  // "not even through the relay").
  { name: 'no-ice', offer: 'a1', answer: 'b1', nat: ['cone', 'cone'], relay: 'none', policy: 'all', expect: 'fail', error: 'no-route' },
];

const ONLY = process.env.PAIRWISE_NAT_CELLS?.split(',').map((s) => s.trim()).filter(Boolean);
const VERBOSE = process.env.PAIRWISE_NAT_VERBOSE === '1' ? ['-v'] : [];
const FILE_SIZE = 4 * MiB;

/** Bounds of every wait, in ms (generous: 2 shared cores, debug binary). */
const T = {
  link: 30_000, // send prints the pairing link
  connect: 60_000, // receive started until both sides are connected
  transfer: 90_000, // connected until both exit (the two bound the wait for both exits)
  fail: 60_000, // both give up in the no-ICE cell
  cell: 240_000, // node:test timeout of one cell
};

const LINK_RE = /(https?:\/\/\S+#pair=[^\s"]+)/;

/**
 * The path both sides saw, as one word (see the file's header).
 * @param {Record<string, any>} a one side's `connected` event
 * @param {Record<string, any>} b the other's
 * @returns {Expect}
 */
function verdict(a, b) {
  if ([a, b].some((e) => e.path === 'relayed' || e.local === 'relay' || e.remote === 'relay')) return 'relay';
  if ([a, b].every((e) => e.local === 'host' && e.remote === 'host')) return 'host';
  return 'direct';
}

/**
 * Whether a run that failed names error `code`: its `--json` error event's code, or on stderr.
 * @param {import('./lab.js').Proc} p
 * @param {string} code
 */
function namesError(p, code) {
  return p.events().some((e) => e.event === 'error' && e.code === code) || p.stderr().includes(code);
}

/**
 * @typedef {object} CellResult
 * @property {string} name
 * @property {string} outcome e.g. `relay (host-srflx direct, relay-prflx relayed)` (each side's
 *   local-remote candidate types and path), `fail (exit 1/1)` or `FAILED`
 * @property {number} [serveMs] serve started until /healthz answered
 * @property {number} [connectMs] receive started until both printed "connected" (or gave up)
 * @property {number} [transferMs] connected until both exited
 * @property {number} totalMs the whole cell, NAT set-up to clean-up
 */

/** @type {CellResult[]} */
const results = [];

describe('CLI <-> CLI across NATs', { skip: !isRoot() ? 'needs root (run tests/nat/run.sh)' : !existsSync(BIN) ? `no binary at ${BIN}` : false }, () => {
  /** @type {string} */
  let files;
  /** @type {{ name: string, path: string, size: number, sha256: string }} */
  let file;

  before(() => {
    files = tempDir('pairwise-nat-files-');
    file = makeRandomFile(files, 'random-4MiB.bin', FILE_SIZE);
    console.log(`# lab up: ${labUp()} ms`);
  });

  after(() => {
    console.log(`# lab down: ${labDown()} ms`);
    if (files) rmSync(files, { recursive: true, force: true });
    for (const r of results) {
      const times = r.serveMs === undefined ? '' : `serve ${r.serveMs} ms, connect ${r.connectMs} ms, transfer ${r.transferMs} ms, `;
      console.log(`# ${r.name.padEnd(20)} ${r.outcome.padEnd(48)} ${times}cell ${r.totalMs} ms`);
    }
  });

  for (const cell of CELLS) {
    const skip = ONLY && !ONLY.includes(cell.name) ? 'not in PAIRWISE_NAT_CELLS' : cell.skip ?? false;
    const title = `${cell.name}: ${cell.offer} -> ${cell.answer}, nat ${cell.nat.join('/')}${cell.udpBlocked ? ', UDP blocked' : ''}, ` +
      `${cell.relay}, policy ${cell.policy} => ${cell.expect}`;
    it(title, { skip, timeout: T.cell }, async () => {
      const t0 = performance.now();
      try {
        results.push(await runCell(cell, file));
      } catch (e) {
        results.push({ name: cell.name, outcome: 'FAILED', totalMs: Math.round(performance.now() - t0) });
        throw e;
      }
    });
  }
});

/**
 * One cell: NATs, server, sender, receiver, checks; every process is stopped (by PID) and every
 * temporary directory removed, pass or fail. A failure carries both CLIs' and the server's
 * output tails and `lab.sh status`.
 * @param {Cell} cell
 * @param {{ name: string, path: string, size: number, sha256: string }} file
 * @returns {Promise<CellResult>}
 */
async function runCell(cell, file) {
  const t0 = performance.now();
  lab('nat', 'a', cell.nat[0]);
  lab('nat', 'b', cell.nat[1]);
  lab('udp', 'a', cell.udpBlocked ? 'block' : 'allow');
  lab('udp', 'b', cell.udpBlocked ? 'block' : 'allow');
  const dirs = ['pairwise-nat-cfg-a-', 'pairwise-nat-cfg-b-', 'pairwise-nat-out-'].map(tempDir);
  const [cfgA, cfgB, out] = dirs;
  const policy = cell.policy === 'relay' ? ['--ice-policy', 'relay'] : [];
  /** @type {import('./lab.js').Proc[]} */
  const procs = [];
  try {
    const server = await startServer([...VERBOSE, ...SERVE_ARGS[cell.relay]]);
    procs.push(server);
    const sender = spawnIn(cell.offer, BIN, [
      ...VERBOSE, 'send', file.path, '--json', '--server', SERVER_URL, '--config', cfgA, ...policy,
    ], { label: `send (${cell.offer})` });
    procs.push(sender);
    const link = (await sender.waitFor(LINK_RE, T.link, 'the pairing link'))[1];
    const tReceive = performance.now();
    const receiver = spawnIn(cell.answer, BIN, [
      ...VERBOSE, 'receive', '--yes', link, '--dir', out, '--json', '--config', cfgB, ...policy,
    ], { label: `receive (${cell.answer})` });
    procs.push(receiver);

    if (cell.expect === 'fail') {
      const [s, r] = await withTimeout(Promise.all([sender.exited, receiver.exited]), T.fail, 'both CLIs giving up');
      const gaveUp = Math.round(performance.now() - tReceive);
      for (const [p, x] of /** @type {const} */ ([[sender, s], [receiver, r]])) {
        assert.notEqual(x.code, 0, `${p.label} must fail (exit ${x.code ?? x.signal})`);
        assert.ok(!p.events().some((e) => e.event === 'connected'), `${p.label} must not connect`);
        const code = cell.error ?? 'connect-failed';
        assert.ok(namesError(p, code), `${p.label} must name ${code}; its errors: ${JSON.stringify(p.events().filter((e) => e.event === 'error'))}`);
      }
      assert.deepEqual(readdirSync(out), [], 'nothing received');
      return {
        name: cell.name, outcome: `fail (exit ${s.code}/${r.code}, ${cell.error})`, serveMs: server.ms, connectMs: gaveUp, transferMs: 0,
        totalMs: Math.round(performance.now() - t0),
      };
    }

    // Both exit (bounded), then: the bytes, then the path. So a failure says which part broke.
    const [s, r] = await withTimeout(Promise.all([sender.exited, receiver.exited]), T.connect + T.transfer, 'the transfer');
    const tDone = performance.now();
    assert.equal(s.code, 0, `${sender.label} exit`);
    assert.equal(r.code, 0, `${receiver.label} exit`);
    assert.deepEqual(readdirSync(out), [file.name], 'exactly the sent file, no .part left');
    const got = await sha256File(join(out, file.name));
    assert.deepEqual(got, { sha256: file.sha256, size: file.size }, 'received bytes');
    const ca = sender.events().find((e) => e.event === 'connected');
    const cb = receiver.events().find((e) => e.event === 'connected');
    assert.ok(ca && cb, 'the file arrived intact, but a side printed no {"event":"connected",...} line');
    const path = verdict(ca, cb);
    assert.equal(path, cell.expect, `path: sender saw ${JSON.stringify(ca)}, receiver saw ${JSON.stringify(cb)}`);
    const tConnected = Math.max(/** @type {number} */ (sender.eventTime('connected')), /** @type {number} */ (receiver.eventTime('connected')));
    return {
      name: cell.name, outcome: `${path} (${ca.local}-${ca.remote} ${ca.path}, ${cb.local}-${cb.remote} ${cb.path})`, serveMs: server.ms,
      connectMs: Math.round(tConnected - tReceive), transferMs: Math.round(tDone - tConnected), totalMs: Math.round(performance.now() - t0),
    };
  } catch (e) {
    const why = /** @type {Error} */ (e).message;
    throw new Error(`cell ${cell.name}: ${why}\n${procs.map((p) => p.diagnose()).join('\n')}\n${labStatus()}`, { cause: e });
  } finally {
    await Promise.all(procs.reverse().map((p) => p.stop()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
