/**
 * @file Large-transfer benchmark (issue 5): in one run, for one file (1 GiB by default), prints
 *  - the ceiling: a raw RTCDataChannel between two Chromium processes (the same two as the
 *    next line), no encryption;
 *  - Pairwise Chromium to Chromium (the receiver a browser with a normal profile, so files go
 *    to OPFS), with the receiving page renderer's peak RSS and the time from opening the
 *    pairing link to the first file byte arriving;
 *  - Pairwise CLI to Chromium (same receiver kind);
 *  - Pairwise CLI to CLI, with the CLIs' peak RSS;
 * in MB/s (10^6 bytes/s) with each ratio to the ceiling. Bytes are checked with SHA-256 (the
 * browser's file through a real download). Both ends share this machine's cores.
 *
 * Run (root; WebRTC runs only inside the private network namespace):
 *   bench/run.sh large-transfers.js [--mib 1024] [--pin]
 *
 * `--pin`: the sending browser runs on CPU 0 and the receiving one on CPU 1 (every process and
 * thread, `taskset`) for the ceiling and Pairwise Chromium to Chromium, as two single-core
 * devices would; without it both share both cores and each side's work also slows the other.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { T, acceptOffer, chooseFiles, downloadAndHash, showPairingCode, waitPaired, waitReceived } from '../tests/e2e/harness/app.js';
import { launchChromium, launchChromiumProfile } from '../tests/e2e/harness/browsers.js';
import { runCli } from '../tests/e2e/harness/cli.js';
import { hashFile, makeFiles, MiB } from '../tests/e2e/harness/files.js';
import { launchMeasured, samplePeak } from '../tests/e2e/harness/memory.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { pinTree, rawCeiling, watchPeak } from './lib.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' }, pin: { type: 'boolean', default: false } } });
const SIZE = Number(values.mib) * MiB;
const mbps = (/** @type {number} */ ms) => SIZE / 1e6 / (ms / 1000);
T.transfer = 1_800_000;

/**
 * Waits (polling every 20 ms) until the page's receive row shows a first byte; resolves with
 * the node clock then.
 * @param {import('../tests/e2e/harness/peer.js').Peer} page
 */
async function firstByte(page) {
  for (;;) {
    const started = await page.evaluate(() =>
      [...document.querySelectorAll('#transfers li.transfer[data-direction=receive] progress')].some((p) => /** @type {HTMLProgressElement} */ (p).value > 0),
    );
    if (started) return performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A receiving Chromium with a normal profile; returns its page, its memory sampler and close.
 * @param {string} origin
 */
async function receiverBrowser(origin) {
  const dir = mkdtempSync(join(tmpdir(), 'pairwise-bench-profile-'));
  const { browser, pid } = await launchMeasured(() => launchChromiumProfile(dir, origin));
  const page = await browser.page('B');
  return {
    page,
    pid,
    close: async () => {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const files = makeFiles([{ name: 'bench.bin', size: SIZE }]);
const file = files.files[0];
const server = await startServer();
const { browser: chromium, pid: senderPid } = await launchMeasured(() => launchChromium());
const work = mkdtempSync(join(tmpdir(), 'pairwise-bench-'));
try {
  // Ceiling, between the same two Chromium processes as the Chromium to Chromium transfer (two
  // devices: each browser has its own network service), so the ratio compares like with like.
  const a = await chromium.newPeer('A', server.origin);
  const recv = await receiverBrowser(server.origin);
  if (values.pin) {
    pinTree(senderPid, 0);
    pinTree(recv.pid, 1);
  }
  await a.goto(`${server.origin}/healthz`);
  await recv.page.goto(`${server.origin}/healthz`);
  const ceiling = await rawCeiling(a, recv.page, SIZE);

  // Chromium to Chromium: files chosen before the link is opened, accepted at once.
  await a.goto(`${server.origin}/`);
  const link = await showPairingCode(a);
  await chooseFiles(a, [file.path]);
  const tLink = performance.now();
  await recv.page.goto(link);
  await waitPaired(recv.page, [a]);
  await acceptOffer(recv.page, [file.name], [a]);
  const tFirst = await firstByte(recv.page);
  const mem = samplePeak(recv.pid);
  await waitReceived(recv.page, [file.name], [a]);
  const c2cMs = performance.now() - tFirst;
  const peak = mem.stop();
  assert.equal((await downloadAndHash(recv.page, file.name)).sha256, file.sha256, 'Chromium to Chromium bytes');
  await a.close();
  await recv.close();

  // CLI to Chromium.
  const cli = runCli(['send', '--server', server.origin, file.path]);
  const recv2 = await receiverBrowser(server.origin);
  await recv2.page.goto(await cli.link());
  await waitPaired(recv2.page);
  await acceptOffer(recv2.page, [file.name]);
  const t2 = await firstByte(recv2.page);
  await waitReceived(recv2.page, [file.name]);
  const cliChromeMs = performance.now() - t2;
  assert.equal((await downloadAndHash(recv2.page, file.name)).sha256, file.sha256, 'CLI to Chromium bytes');
  assert.equal((await cli.exited).code, 0, cli.stderr());
  await recv2.close();

  // CLI to CLI (pairing included, about a second).
  const dir = mkdtempSync(join(work, 'cli-'));
  const t3 = performance.now();
  const sender = runCli(['send', '--server', server.origin, file.path]);
  const senderPeak = watchPeak(sender.pid);
  const receiver = runCli(['receive', '--yes', await sender.link(), '--dir', dir]);
  const receiverPeak = watchPeak(receiver.pid);
  const [rs, ss] = await Promise.all([receiver.exited, sender.exited]);
  const cliMs = performance.now() - t3;
  assert.equal(rs.code, 0, receiver.stderr());
  assert.equal(ss.code, 0, sender.stderr());
  assert.equal((await hashFile(join(dir, file.name))).sha256, file.sha256, 'CLI to CLI bytes');

  const pct = (/** @type {number} */ x) => `${((100 * x) / ceiling).toFixed(0)}% of the ceiling`;
  const how = values.pin ? 'each browser pinned to a core of its own (CLI rows unpinned)' : 'both ends share its cores';
  console.log(`\n${SIZE / MiB} MiB, one run, this machine (${how}):`);
  console.log(`  raw RTCDataChannel ceiling (two Chromium, no encryption): ${ceiling.toFixed(1)} MB/s`);
  console.log(`  Pairwise Chromium to Chromium (to OPFS):             ${mbps(c2cMs).toFixed(1)} MB/s (${pct(mbps(c2cMs))})`);
  console.log(`    receiver page renderer peak RSS ${(peak.renderer / 1e6).toFixed(0)} MB, whole browser ${(peak.total / 1e6).toFixed(0)} MB`);
  console.log(`    opening the pairing link to the first file byte: ${((tFirst - tLink) / 1000).toFixed(2)} s (pairing, offer, accept click)`);
  console.log(`  Pairwise CLI to Chromium (to OPFS):                  ${mbps(cliChromeMs).toFixed(1)} MB/s (${pct(mbps(cliChromeMs))})`);
  console.log(`  Pairwise CLI to CLI:                                 ${mbps(cliMs).toFixed(0)} MB/s, peak RSS sender ${senderPeak().toFixed(0)} MiB, receiver ${receiverPeak().toFixed(0)} MiB`);
} finally {
  await chromium.close();
  await server.stop();
  files.remove();
  rmSync(work, { recursive: true, force: true });
}
