/**
 * @file A malicious signaling server cannot get between two browsers unnoticed. Through the
 * tamper proxy (tamper-proxy.js) in front of the real server, two Chromium processes try to pair
 * while the proxy (a) substitutes a public key in a `hello` or (b) flips a digit of the DTLS
 * fingerprint in the offer or answer SDP. Each time both pages must show
 * `#error[data-code=verify-failed]`, and when A then chooses a file nothing reaches B: no
 * `#incoming` offer, no transfer row, no `#received` link. What the server may do to a verified
 * session changes nothing: a repeated `confirm`, a replayed `hello` and a forged `peer-joined`
 * or `error` after both confirms; a dropped `confirm` ends the attempt on both sides with
 * `connect-failed` (the handshake deadline), browser or CLI.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chooseFiles, sendAndVerify, showPairingCode, waitError, waitPaired } from './harness/app.js';
import { launchChromium, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { runCli } from './harness/cli.js';
import { makeFiles } from './harness/files.js';
import { startServer } from './harness/server.js';
import { startTamperProxy } from './tamper-proxy.js';

/** How long B is watched for a leaked offer after A chose a file. */
const QUIET_MS = 4000;

/** @type {Array<{ name: string, attack: import('./tamper-proxy.js').Attack }>} */
const ATTACKS = [
  { name: "substituted identity key in the responder's hello", attack: { kind: 'hello-key', role: 'responder', field: 'identity' } },
  { name: "substituted ephemeral key in the initiator's hello", attack: { kind: 'hello-key', role: 'initiator', field: 'ephemeral' } },
  { name: 'rewritten DTLS fingerprint in the offer SDP', attack: { kind: 'sdp-fingerprint', sdp: 'offer' } },
  { name: 'rewritten DTLS fingerprint in the answer SDP', attack: { kind: 'sdp-fingerprint', sdp: 'answer' } },
];

describe('tampered signaling', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let browserA;
  /** @type {import('./harness/browsers.js').Browser} */ let browserB;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  before(async () => {
    files = cleanup.track(makeFiles([{ name: 'secret.txt', size: 4096 }]), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    [browserA, browserB] = await launchAll(cleanup, launchChromium, launchChromium);
  });

  after(() => cleanup.run());

  /**
   * A pairs with B through a tamper proxy running `attack`: A shows its code, B opens the link.
   * Everything is cleaned up with `local`.
   * @param {Cleanup} local
   * @param {import('./tamper-proxy.js').Attack} attack
   */
  async function pairThrough(local, attack) {
    const proxy = local.track(await startTamperProxy(server.origin, attack), (p) => p.stop());
    const a = local.track(await browserA.newPeer('A', proxy.origin), (p) => p.close());
    const b = local.track(await browserB.newPeer('B', proxy.origin), (p) => p.close());
    await a.goto(`${proxy.origin}/`);
    await b.goto(await showPairingCode(a));
    return { proxy, a, b };
  }

  for (const { name, attack } of ATTACKS) {
    it(`${name}: both sides show verify-failed and no file gets through`, async () => {
      const local = new Cleanup();
      try {
        const { proxy, a, b } = await pairThrough(local, attack);
        try {
          await Promise.all([waitError(a, 'verify-failed', { also: [b] }), waitError(b, 'verify-failed', { also: [a] })]);
        } catch (e) {
          throw new Error(`${/** @type {Error} */ (e).message}\n--- proxy ---\nrewrites: ${JSON.stringify(proxy.rewrites)}\nframes: ${proxy.frames.join(', ')}`);
        }
        assert.ok(proxy.rewrites.length > 0, 'the proxy must actually have rewritten a frame');
        console.log(`${proxy.rewrites.join('; ')}`);
        for (const p of [a, b]) {
          assert.notEqual(await p.attr('#status', 'data-state'), 'paired', `${p.name} must not be paired`);
        }

        // A user on A tries to send anyway.
        await chooseFiles(a, files.files.map((f) => f.path));
        const deadline = Date.now() + QUIET_MS;
        while (Date.now() < deadline) {
          assert.equal(await b.isVisible('#incoming'), false, `B must not be offered files:\n${await b.diagnose()}`);
          await new Promise((r) => setTimeout(r, 250));
        }
        for (const p of [a, b]) {
          assert.equal(await p.count('#received a.download'), 0, `${p.name} must have received nothing:\n${await p.diagnose()}`);
        }
        assert.equal(await b.count('#transfers li.transfer[data-direction=receive]'), 0, `B must show no incoming transfer:\n${await b.diagnose()}`);
        assert.equal(await b.attr('#error', 'data-code'), 'verify-failed', 'B still shows verify-failed');
      } finally {
        await local.run();
      }
    });
  }

  for (const [name, attack] of /** @type {const} */ ([
    ['a duplicated confirm', { kind: 'dup-confirm' }],
    ['a replayed hello and a forged peer-joined after both confirms', { kind: 'inject-after' }],
  ])) {
    it(`${name} changes nothing: both stay paired and a file arrives`, async () => {
      const local = new Cleanup();
      try {
        const { proxy, a, b } = await pairThrough(local, attack);
        await Promise.all([waitPaired(a, [b]), waitPaired(b, [a])]);
        await sendAndVerify(a, b, files.files);
        assert.ok(proxy.rewrites.length > 0, `the proxy attacked: ${proxy.frames.join(', ')}`);
        for (const p of [a, b]) {
          assert.equal(await p.attr('#status', 'data-state'), 'paired', `${p.name} still says paired:\n${await p.diagnose()}`);
        }
        console.log(proxy.rewrites.join('; '));
      } finally {
        await local.run();
      }
    });
  }

  /**
   * Waits until `#error` shows one of `codes`.
   * @param {import('./harness/peer.js').Peer} p @param {string[]} codes @param {import('./harness/peer.js').Witness[]} also
   */
  const waitAnyError = (p, codes, also) =>
    p.waitUntil(
      `#error with one of ${codes.join(', ')}`,
      (cs) => {
        const e = document.querySelector('#error');
        return !!e && e.getClientRects().length > 0 && cs.includes(e.getAttribute('data-code') ?? '') && (e.textContent ?? '').trim().length > 0;
      },
      codes,
      { timeout: 60_000, also },
    );

  it('a dropped confirm: both sides give up with a sentence, neither stays paired or connecting', async () => {
    const local = new Cleanup();
    try {
      const { proxy, a, b } = await pairThrough(local, { kind: 'drop-confirm' });
      // The handshake deadline is 30 s (HANDSHAKE_TIMEOUT_MS), from the first hello: B, which
      // sent the first hello, gives up first (connect-failed); A then sees it leave the room
      // before the handshake finished (peer-left) or reaches its own deadline.
      await Promise.all([waitAnyError(a, ['connect-failed', 'peer-left'], [b]), waitAnyError(b, ['connect-failed'], [a])]);
      for (const p of [a, b]) {
        assert.equal(await p.attr('#status', 'data-state'), 'error', `${p.name} no longer says paired or connecting`);
      }
      assert.ok(proxy.rewrites.some((r) => r.startsWith('dropped')), `the proxy dropped a confirm: ${proxy.frames.join(', ')}`);
      console.log(proxy.rewrites.join('; '));
    } finally {
      await local.run();
    }
  });

  it('a dropped confirm between the CLI and a page: both give up with a sentence', async () => {
    const local = new Cleanup();
    try {
      const proxy = local.track(await startTamperProxy(server.origin, { kind: 'drop-confirm' }), (p) => p.stop());
      const run = local.track(runCli(['send', '--server', proxy.origin, files.files[0].path]), (r) => r.kill());
      const b = local.track(await browserB.newPeer('B', proxy.origin), (p) => p.close());
      await b.goto(await run.link());
      // Whichever confirm was dropped, the verified side tries to connect and fails, or
      // reaches the deadline; the other gives up at its deadline or sees it leave.
      await waitAnyError(b, ['connect-failed', 'peer-left'], [run]);
      assert.equal(await b.attr('#status', 'data-state'), 'error', 'the page no longer says paired or connecting');
      const { code } = await run.exited;
      assert.notEqual(code, 0, run.diagnose());
      assert.match(run.stderr(), /pairwise: (Could not connect|The other device left)/, run.diagnose());
      assert.ok(proxy.rewrites.some((r) => r.startsWith('dropped')), `the proxy dropped a confirm: ${proxy.frames.join(', ')}`);
      console.log(proxy.rewrites.join('; '));
    } finally {
      await local.run();
    }
  });

  it('a forged server error after both confirms (no-peer, as for a late candidate) changes nothing: both stay paired and a file arrives', async () => {
    const local = new Cleanup();
    try {
      const { proxy, a, b } = await pairThrough(local, { kind: 'late-error', code: 'no-peer' });
      await Promise.all([waitPaired(a, [b]), waitPaired(b, [a])]);
      await sendAndVerify(a, b, files.files);
      assert.ok(proxy.rewrites.some((r) => r.startsWith('forged error')), `the proxy forged an error: ${proxy.frames.join(', ')}`);
      console.log(proxy.rewrites.join('; '));
    } finally {
      await local.run();
    }
  });
});
