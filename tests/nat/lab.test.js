/**
 * @file The NAT lab checks itself before anything is measured with it: nothing lands in the root
 * namespace; each NAT kind maps and filters as lab.sh says (cone keeps the port for every
 * destination, symmetric does not, only fullcone lets unsolicited UDP in); `udp block` leaves
 * only TCP; coturn allocates relays for REST credentials (`expiry:id`,
 * base64(HMAC-SHA1(secret, username))) over UDP and, with UDP blocked, over TCP, and refuses a
 * wrong password; Chromium launched inside a1 loads the app from `pub` in a secure context.
 *
 * Needs root; run through tests/nat/run.sh.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BIN, HERE, PUB_IP, SERVER_URL, TURN_LOG, isRoot, lab, labDown, labStatus, labUp, launchChromiumIn, runIn,
  spawnIn, startServer, turnCredential, turnSecret,
} from './lab.js';

const PROBE = join(HERE, 'udp-probe.js');

/**
 * Sends from `ns` (one socket, local port `port`) to each of `targets` and returns how each
 * target saw the sender ("ADDR:PORT"), or null when no answer came back. `echo` servers run in
 * `pub` on the targets' ports meanwhile.
 * @param {string} ns
 * @param {number} port
 * @param {number[]} echoPorts ports of 203.0.113.1 to ask
 * @returns {Promise<Record<string, string | null>>}
 */
async function askFrom(ns, port, echoPorts) {
  const echoes = await Promise.all(echoPorts.map((p) => echo('pub', p)));
  try {
    const r = await runIn(ns, 'node', [PROBE, 'ask', String(port), '800', ...echoPorts.map((p) => `${PUB_IP}:${p}`)], 10_000);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  } finally {
    await Promise.all(echoes.map((e) => e.stop()));
  }
}

/**
 * Starts a UDP echo on `port` in `ns` and waits until it is bound.
 * @param {string} ns
 * @param {number} port
 */
async function echo(ns, port) {
  const p = spawnIn(ns, 'node', [PROBE, 'echo', String(port), '20000'], { label: `udp echo :${port} (${ns})` });
  await p.waitFor(/ready/, 10_000, 'the echo to bind');
  return p;
}

/**
 * Sends one datagram from `pub` to `toIp:toPort` while `ns` listens on `listenPort`; true when it
 * arrived (the listener echoes it back).
 * @param {string} ns
 * @param {number} listenPort
 * @param {string} toIp
 * @param {number} toPort
 */
async function unsolicitedArrives(ns, listenPort, toIp, toPort) {
  const listener = await echo(ns, listenPort);
  try {
    const r = await runIn('pub', 'node', [PROBE, 'ask', '45000', '800', `${toIp}:${toPort}`], 10_000);
    return JSON.parse(r.stdout)[`${toIp}:${toPort}`] !== null;
  } finally {
    await listener.stop();
  }
}

/**
 * Runs coturn's own test client in `ns` against the lab's coturn with the given credentials:
 * two allocations that relay a few packets to each other (`-y`). Exit 0 means both allocated and
 * the packets came through.
 * @param {string} ns
 * @param {{ username: string, credential: string }} cred
 * @param {{ tcp?: boolean, ms?: number }} [opts]
 */
function uclient(ns, cred, { tcp = false, ms = 15_000 } = {}) {
  const args = [...(tcp ? ['-t'] : []), '-u', cred.username, '-w', cred.credential, '-n', '3', '-m', '1', '-y', '-c', PUB_IP];
  return runIn(ns, 'turnutils_uclient', args, ms);
}

describe('NAT lab self-check', { skip: isRoot() ? false : 'needs root (run tests/nat/run.sh)' }, () => {
  before(() => {
    const ms = labUp();
    console.log(`# lab up: ${ms} ms`);
  });
  after(() => {
    const ms = labDown();
    console.log(`# lab down: ${ms} ms`);
  });

  it('puts nothing into the root namespace', () => {
    const addrs = spawnSync('ip', ['-o', '-4', 'addr'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(addrs, /203\.0\.113\.|198\.51\.100\./, 'no lab address in the root namespace');
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout;
    assert.doesNotMatch(links, /: (wan-[ab]|internet|internet-end|a1|a2|b1)[@:]/, 'no lab interface in the root namespace');
  });

  it('NAT kinds map and filter as documented; udp block leaves only TCP', { timeout: 120_000 }, async () => {
    try {
      // cone: same public port for both destinations (and the source port is kept)
      lab('nat', 'a', 'cone');
      let seen = Object.values(await askFrom('a1', 40000, [9998, 9999]));
      assert.deepEqual(seen, ['203.0.113.10:40000', '203.0.113.10:40000'], 'cone keeps one mapping');
      assert.equal(await unsolicitedArrives('a1', 40000, '203.0.113.10', 40000), false, 'cone drops unsolicited UDP');

      // home b, through its own NAT
      seen = Object.values(await askFrom('b1', 40001, [9999]));
      assert.deepEqual(seen, ['203.0.113.20:40001'], 'b1 is seen as nat-b');

      // symmetric: a new port per destination
      lab('nat', 'a', 'symmetric');
      seen = Object.values(await askFrom('a1', 40000, [9998, 9999]));
      assert.ok(seen.every((s) => s?.startsWith('203.0.113.10:')), `both answered: ${seen}`);
      assert.notEqual(seen[0], seen[1], 'symmetric maps each destination to its own port');

      // fullcone: unsolicited UDP to the mapped port reaches a1
      lab('nat', 'a', 'fullcone');
      seen = Object.values(await askFrom('a1', 40000, [9998]));
      assert.deepEqual(seen, ['203.0.113.10:40000']);
      assert.equal(await unsolicitedArrives('a1', 40000, '203.0.113.10', 40000), true, 'fullcone lets unsolicited UDP in');

      // udp block: no UDP leaves home a, TCP still does (coturn's TCP listener)
      lab('nat', 'a', 'cone');
      lab('udp', 'a', 'block');
      seen = Object.values(await askFrom('a1', 40000, [9999]));
      assert.deepEqual(seen, [null], 'UDP blocked');
      const tcp = await runIn('a1', 'bash', ['-c', `exec 3<>/dev/tcp/${PUB_IP}/3478 && echo open`], 5000);
      assert.equal(tcp.stdout.trim(), 'open', `TCP passes: ${tcp.stderr}`);
    } catch (e) {
      throw new Error(`${/** @type {Error} */ (e).message}\n${labStatus()}`);
    } finally {
      lab('udp', 'a', 'allow');
      lab('nat', 'a', 'cone');
    }
  });

  it('coturn allocates relays for REST credentials, over UDP and TCP', { timeout: 120_000 }, async () => {
    const secret = turnSecret();
    const good = turnCredential(secret, 'lab-self-check');
    const ok = await uclient('a1', good);
    assert.equal(ok.code, 0, `turnutils_uclient with the REST credential failed:\n${ok.stdout.slice(-1500)}${ok.stderr.slice(-1500)}`);
    assert.match(ok.stdout + ok.stderr, /Total lost packets 0 /, 'every packet came back through the two relays');
    const log = readFileSync(TURN_LOG, 'utf8');
    assert.match(log, new RegExp(`user <${good.username}>: incoming packet ALLOCATE processed, success`), 'coturn logged the allocation');

    const bad = await uclient('a1', { username: good.username, credential: 'wrong' });
    assert.notEqual(bad.code, 0, 'a wrong password must not allocate');

    const stale = turnCredential(secret, 'expired', -60);
    const old = await uclient('a1', stale);
    assert.notEqual(old.code, 0, 'an expired username must not allocate');

    lab('udp', 'b', 'block');
    try {
      const viaTcp = await uclient('b1', turnCredential(secret, 'tcp-only'), { tcp: true });
      assert.equal(viaTcp.code, 0, `TURN over TCP with UDP blocked failed:\n${viaTcp.stdout.slice(-1500)}${viaTcp.stderr.slice(-1500)}`);
      assert.match(viaTcp.stdout + viaTcp.stderr, /Total lost packets 0 /);
      const viaUdp = await uclient('b1', turnCredential(secret, 'udp-blocked'), { ms: 3000 });
      assert.notEqual(viaUdp.code, 0, 'TURN over UDP must not work with UDP blocked');
    } finally {
      lab('udp', 'b', 'allow');
    }
  });

  it('Chromium in a1 loads the app from pub in a secure context', {
    timeout: 120_000,
    skip: existsSync(BIN) ? false : `no binary at ${BIN} (build it, or set PAIRWISE_BIN)`,
  }, async () => {
    const server = await startServer();
    /** @type {import('playwright-core').Browser | undefined} */
    let browser;
    try {
      const t0 = performance.now();
      browser = await launchChromiumIn('a1');
      const launched = Math.round(performance.now() - t0);
      const page = await browser.newPage();
      const res = await page.goto(`${SERVER_URL}/`, { timeout: 30_000 });
      assert.equal(res?.status(), 200);
      const got = await page.evaluate(() => ({
        secure: window.isSecureContext,
        subtle: typeof crypto.subtle?.generateKey === 'function',
        origin: location.origin,
      }));
      assert.deepEqual(got, { secure: true, subtle: true, origin: SERVER_URL });
      console.log(`# chromium in a1: launched in ${launched} ms, app loaded in ${Math.round(performance.now() - t0) - launched} ms`);
    } catch (e) {
      throw new Error(`${/** @type {Error} */ (e).message}\n${server.diagnose()}\n${labStatus()}`);
    } finally {
      await browser?.close().catch(() => {});
      await server.stop();
    }
  });
});
