/**
 * @file CLI throughput benchmark (issue 3): in one run, for one file (1 GiB by default), prints
 * side by side
 *  - the physical reference: a plain file-to-file copy over a 127.0.0.1 TCP socket (Node streams),
 *  - Pairwise CLI to CLI (the real release binary, through the real server),
 *  - Pairwise CLI to Chromium (the binary sends, the web app receives),
 * in MB/s (10^6 bytes/s), with the CLI's peak RSS (VmHWM). Bytes are checked with SHA-256.
 *
 * Run (root; WebRTC runs only inside the private network namespace):
 *   bench/run.sh cli-throughput.js [--mib 1024]
 * It uses $PAIRWISE_BIN (bench/run.sh builds the release binary and sets it).
 */

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { timeAcceptToReceived, acceptOffer, hashReceivedInPage, waitPaired, waitReceived } from '../tests/e2e/harness/app.js';
import { launchChromium } from '../tests/e2e/harness/browsers.js';
import { runCli } from '../tests/e2e/harness/cli.js';
import { hashFile, makeFiles, MiB } from '../tests/e2e/harness/files.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { tcpCopy, watchPeak } from './lib.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '1024' } } });
const SIZE = Number(values.mib) * MiB;
const mbps = (/** @type {number} */ ms) => SIZE / 1e6 / (ms / 1000);

const work = mkdtempSync(join(tmpdir(), 'pairwise-bench-'));
const files = makeFiles([{ name: 'bench.bin', size: SIZE }]);
const file = files.files[0];
const server = await startServer();
const browser = await launchChromium();
try {
  const tcpMs = await tcpCopy(file.path, join(work, 'tcp.bin'));
  assert.equal((await hashFile(join(work, 'tcp.bin'))).sha256, file.sha256);
  rmSync(join(work, 'tcp.bin'));

  // CLI to CLI: time from the receiver's start to both exiting (pairing included, ~1 s).
  const dir = mkdtempSync(join(work, 'cli-'));
  const t0 = performance.now();
  const sender = runCli(['send', '--server', server.origin, file.path]);
  const senderPeak = watchPeak(sender.pid);
  const receiver = runCli(['receive', '--yes', await sender.link(), '--dir', dir]);
  const receiverPeak = watchPeak(receiver.pid);
  const [rs, ss] = await Promise.all([receiver.exited, sender.exited]);
  const cliMs = performance.now() - t0;
  assert.equal(rs.code, 0, receiver.stderr());
  assert.equal(ss.code, 0, sender.stderr());
  assert.equal((await hashFile(join(dir, file.name))).sha256, file.sha256, 'CLI to CLI bytes');
  const peaks = [senderPeak(), receiverPeak()];
  rmSync(dir, { recursive: true });

  // CLI to Chromium: from the Accept click until the verified file's link appears.
  const run = runCli(['send', '--server', server.origin, file.path]);
  const browserPeak = watchPeak(run.pid);
  const b = await browser.newPeer('B', server.origin);
  await b.goto(await run.link());
  await waitPaired(b);
  const timing = timeAcceptToReceived(b);
  await acceptOffer(b, [file.name]);
  const chromeMs = /** @type {number} */ (await timing);
  await waitReceived(b, [file.name]);
  assert.equal((await hashReceivedInPage(b, file.name)).sha256, file.sha256, 'CLI to Chromium bytes');
  assert.equal((await run.exited).code, 0, run.stderr());
  const cliToBrowserPeak = browserPeak();
  await b.close();

  console.log(`\n${SIZE / MiB} MiB, one run, this machine (both ends share its cores):`);
  console.log(`  loopback TCP file copy (reference): ${mbps(tcpMs).toFixed(0)} MB/s`);
  console.log(`  Pairwise CLI to CLI:                ${mbps(cliMs).toFixed(0)} MB/s (${((100 * tcpMs) / cliMs).toFixed(0)}% of TCP), peak RSS sender ${peaks[0].toFixed(0)} MiB, receiver ${peaks[1].toFixed(0)} MiB`);
  console.log(`  Pairwise CLI to Chromium:           ${mbps(chromeMs).toFixed(1)} MB/s, peak RSS of the CLI ${cliToBrowserPeak.toFixed(0)} MiB`);
} finally {
  await browser.close();
  await server.stop();
  files.remove();
  rmSync(work, { recursive: true, force: true });
}
