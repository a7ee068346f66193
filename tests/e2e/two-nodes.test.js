/**
 * @file Two `pairwise serve --redis` nodes on one real `redis-server` (issue 13's scale-out),
 * inside the e2e namespace. Chromium (a persistent profile) loads the app through a front
 * (`harness/redis.js`) that hands every connection to node 1 while it lives, else to node 2;
 * the CLI talks to node 2 directly. So every room below spans both nodes until node 1 dies:
 * - Chromium and the CLI pair by QR code and a file arrives intact;
 * - remembered: the CLI sends with `send --to` (no QR code) to the page on the other node;
 * - node 1 is killed (SIGKILL) while the page waits with a new QR code: the page reconnects by
 *   itself through the same address (now node 2), finds its room free (not held by its former
 *   self on the dead node), and a device that opens the link shown before the kill pairs with
 *   it and gets a file.
 */

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { T, acceptOffer, assertReceivedIntact, chooseFiles, showPairingCode, waitPaired, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromiumProfile } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { cliTools, runCli } from './harness/cli.js';
import * as dev from './harness/devices.js';
import { MiB, hashFile, makeFiles } from './harness/files.js';
import { startFront, startRedis } from './harness/redis.js';
import { startServer } from './harness/server.js';

/**
 * A counter or gauge from a node's `/metrics`.
 * @param {{ origin: string }} node
 * @param {string} name
 */
async function metric(node, name) {
  const text = await fetch(`${node.origin}/metrics`).then((r) => r.text());
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `${name} in /metrics of ${node.origin}:\n${text}`);
  return Number(m[1]);
}

/** @param {string} dir @param {{ name: string, size: number, sha256: string }} file */
async function assertArrived(dir, file) {
  assert.deepEqual(readdirSync(dir), [file.name]);
  const got = await hashFile(join(dir, file.name));
  assert.equal(got.size, file.size);
  assert.equal(got.sha256, file.sha256);
}

describe('two server nodes on one Redis', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  const { tempDir, cli: cliWith, exitsWith } = cliTools(cleanup);
  /** @type {import('./harness/server.js').Server} */ let node1;
  /** @type {import('./harness/server.js').Server} */ let node2;
  /** @type {Awaited<ReturnType<typeof startFront>>} */ let front;
  /** @type {any} the page (harness/peer.js Peer) */ let a;
  /** @type {string} */ let cfg;
  /** @param {string[]} args */
  const cli = (args) => cliWith(cfg, args);

  before(async () => {
    const redis = cleanup.track(await startRedis(), (r) => r.stop());
    const args = ['--redis', redis.url, '--redis-lease', '3'];
    node1 = cleanup.track(await startServer({ args }), (s) => s.stop());
    node2 = cleanup.track(await startServer({ args }), (s) => s.stop());
    const port = (/** @type {{ origin: string }} */ s) => Number(new URL(s.origin).port);
    front = cleanup.track(await startFront([port(node1), port(node2)]), (f) => f.stop());
    cfg = tempDir('pairwise-cfg-2n-');
    const browser = await launchChromiumProfile(tempDir('pairwise-profile-2n-'), front.origin);
    cleanup.track(browser, (/** @type {any} */ b) => b.close());
    a = await browser.page('A (chromium via node 1)');
  });

  after(() => cleanup.run());

  it('Chromium on node 1 and the CLI on node 2 pair by QR code; a file arrives intact', async () => {
    await a.goto(`${front.origin}/`);
    await dev.setOwnName(a, 'Browser A');
    const link = await showPairingCode(a);
    assert.ok(link.startsWith(`${front.origin}/`), link);
    const dir = tempDir('pairwise-2n-in-');
    const run = cli(['receive', '--yes', '--server', node2.origin, '--name', 'Term', '--dir', dir, link]);
    await waitPaired(a, [run]);
    const files = cleanup.track(makeFiles([{ name: 'across-nodes.bin', size: 3 * MiB + 7 }]), (f) => f.remove());
    await chooseFiles(a, [files.files[0].path]);
    await exitsWith(run, 0);
    await waitTransfer(a, 'send', 'done', [run]);
    await assertArrived(dir, files.files[0]);
    // The two sides really were on two nodes: the page only ever reached node 1, and each node
    // received the other's messages through Redis.
    assert.equal(front.routed()[1], 0, 'the front sent nothing to node 2');
    assert.ok((await metric(node1, 'pairwise_redis_received_total')) > 0);
    assert.ok((await metric(node2, 'pairwise_redis_received_total')) > 0);
    assert.equal(await metric(node1, 'pairwise_redis_up'), 1);
    await a.waitUntil('Term listed', () => [...document.querySelectorAll('#devices li.device .device-name')].some((n) => n.textContent === 'Term'), undefined, { timeout: T.pair });
  });

  it('remembered: the CLI on node 2 sends to the page on node 1 with no QR code', async () => {
    const files = cleanup.track(makeFiles([{ name: 'remembered-across.bin', size: 2 * MiB + 3 }]), (f) => f.remove());
    const send = cli(['send', '--to', 'browser a', '--name', 'Term', '--server', node2.origin, '--timeout', '90', files.files[0].path]);
    await acceptOffer(a, [files.files[0].name], [send]);
    await waitReceived(a, [files.files[0].name], [send]);
    await assertReceivedIntact(a, [files.files[0]]);
    await exitsWith(send, 0);
    assert.doesNotMatch(send.stdout() + send.stderr(), /#pair=/, 'no pairing link');
    assert.equal(front.routed()[1], 0, 'the page stayed on node 1');
  });

  it('node 1 is killed while the page waits: the page rejoins through node 2 and its link still pairs', async () => {
    await a.goto(`${front.origin}/`);
    const link = await showPairingCode(a);
    const rooms = await metric(node1, 'pairwise_rooms');
    assert.ok(rooms >= 1, `the waiting page's room is on node 1 (${rooms})`);
    process.kill(node1.pid, 'SIGKILL');
    // The page's sockets close; it connects again through the same address, which now
    // reaches node 2, and rejoins every room it was in.
    const until = Date.now() + 30_000;
    while ((await metric(node2, 'pairwise_rooms')) < rooms) {
      assert.ok(Date.now() < until, `the page did not rejoin on node 2 within 30 s:\n${await a.diagnose()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(front.routed()[1] > 0, 'the front now sends to node 2');
    assert.equal(await a.isVisible('#error'), false, `A shows no error while it waits:\n${await a.diagnose()}`);
    const dir = tempDir('pairwise-2n-after-');
    const run = cleanup.track(runCli(['receive', '--yes', '--dir', dir, link]), (r) => r.kill());
    await waitPaired(a, [run]);
    const files = cleanup.track(makeFiles([{ name: 'after-node-death.bin', size: MiB + 1 }]), (f) => f.remove());
    await chooseFiles(a, [files.files[0].path]);
    await exitsWith(run, 0);
    await waitTransfer(a, 'send', 'done', [run]);
    await assertArrived(dir, files.files[0]);
    assert.ok(a.logs.some((/** @type {string} */ l) => l.includes('connecting again')), `A said it reconnected: ${a.logs.join(' | ')}`);
  });
});
