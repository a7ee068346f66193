/**
 * @file Where the CPU goes in a browser-to-browser transfer (issue 5's 95 % target): runs the
 * raw data-channel ceiling and one Pairwise Chromium to Chromium transfer (receiver with a
 * normal profile, so into OPFS) between the same two Chromium processes, and prints for each
 * the CPU seconds of every Chromium process and renderer thread (read from /proc, only
 * processes this run started; `proc-cpu.js`), a per-device line by role (main thread, worker,
 * transport, browser process), and the busiest functions of both pages' main threads (CDP CPU
 * profiles). CPU-seconds are work, not time: they compare even when the machine is shared,
 * though the transport's own cost per byte grows when the cores are contended.
 *
 * The CDP sampling profiler (every 0.5 ms) costs the pages CPU of its own, about 6 CPU-s per
 * 256 MiB here, which the raw ceiling does not pay: compare totals with `--cdp 0`.
 * `PAIRWISE_WEB_DIR=dir` serves the app's scripts from `dir` instead of the binary's embedded
 * copy (to compare web/ changes without a rebuild).
 *
 *   bench/run.sh profile-browsers.js [--mib 256] [--top 12] [--cdp 0]
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { T, acceptOffer, chooseFiles, showPairingCode, waitPaired, waitReceived } from '../tests/e2e/harness/app.js';
import { launchChromiumProfile } from '../tests/e2e/harness/browsers.js';
import { makeFiles, MiB } from '../tests/e2e/harness/files.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { rawCeiling } from './lib.js';
import { launchMeasured } from '../tests/e2e/harness/memory.js';
import { cpuDiff, cpuSnapshot, printCpu as printCpuTree, roles, rolesLine } from './proc-cpu.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, top: { type: 'string', default: '12' }, cdp: { type: 'string', default: '1' } } });
// `--cdp 0`: no CDP sampling profiler on the pages (it costs the main threads CPU of its own).
const CDP = values.cdp !== '0';
const SIZE = Number(values.mib) * MiB;
const TOP = Number(values.top);
T.transfer = 1_800_000;
/**
 * Serves the app's files from `dir` instead of the binary's embedded copy (to try web changes
 * without a rebuild; `PAIRWISE_WEB_DIR`).
 * @param {any} context
 * @param {string} dir
 */
async function serveWebDir(context, dir) {
  await context.route(`${server.origin}/**`, async (/** @type {any} */ route) => {
    const path = new URL(route.request().url()).pathname;
    const file = join(dir, path);
    // Only scripts: the page itself keeps the server's response (and its address space).
    if (!path.endsWith('.js') || !existsSync(file)) return route.fallback();
    const response = await route.fetch();
    await route.fulfill({ response, body: readFileSync(file) });
  });
}

/** Starts a CDP CPU profile on a playwright page; returns stop() giving the top self times. */
async function profile(/** @type {any} */ page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile: p } = await cdp.send('Profiler.stop');
    /** @type {Map<number, any>} */
    const nodes = new Map(p.nodes.map((/** @type {any} */ n) => [n.id, n]));
    /** @type {Map<string, number>} */
    const self = new Map();
    const dts = p.timeDeltas;
    p.samples.forEach((/** @type {number} */ id, /** @type {number} */ i) => {
      const f = nodes.get(id).callFrame;
      const key = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + (dts[i + 1] ?? 0) / 1e6);
    });
    return [...self].sort((x, y) => y[1] - x[1]).slice(0, TOP);
  };
}

/** @param {string} title @param {Map<string, number>} cpu @param {number} ms */
function printCpu(title, cpu, ms) {
  const total = [...cpu].filter(([k]) => !k.includes('/')).reduce((a, [, v]) => a + v, 0);
  printCpuTree(`${title}: ${(SIZE / 1e6 / (ms / 1000)).toFixed(1)} MB/s, ${(ms / 1000).toFixed(1)} s (${((total * 1000) / ms).toFixed(2)} cores)`, cpu);
  console.log(`  sender   ${rolesLine(roles(cpu, pidA))}`);
  console.log(`  receiver ${rolesLine(roles(cpu, pidB))}`);
}

const files = makeFiles([{ name: 'bench.bin', size: SIZE }]);
const file = files.files[0];
const server = await startServer();
const dirs = [mkdtempSync(join(tmpdir(), 'pairwise-prof-a-')), mkdtempSync(join(tmpdir(), 'pairwise-prof-b-'))];
const { browser: ba, pid: pidA } = await launchMeasured(() => launchChromiumProfile(dirs[0], server.origin));
const { browser: bb, pid: pidB } = await launchMeasured(() => launchChromiumProfile(dirs[1], server.origin));
try {
  const a = await ba.page('A');
  const b = await bb.page('B');
  if (process.env.PAIRWISE_WEB_DIR) for (const p of [a, b]) await serveWebDir(p.page.context(), process.env.PAIRWISE_WEB_DIR);

  await a.goto(`${server.origin}/healthz`);
  await b.goto(`${server.origin}/healthz`);
  let before = cpuSnapshot();
  let t0 = performance.now();
  const ceiling = await rawCeiling(a, b, SIZE);
  printCpu('raw ceiling (two Chromium processes)', cpuDiff(before, cpuSnapshot()), SIZE / 1e6 / ceiling * 1000);

  await a.goto(`${server.origin}/`);
  const link = await showPairingCode(a);
  await chooseFiles(a, [file.path]);
  await b.goto(link);
  await waitPaired(b, [a]);
  const stopA = CDP ? await profile(a.page) : async () => [];
  const stopB = CDP ? await profile(b.page) : async () => [];
  before = cpuSnapshot();
  t0 = performance.now();
  await acceptOffer(b, [file.name], [a]);
  await waitReceived(b, [file.name], [a]);
  const ms = performance.now() - t0;
  const storage = await b.evaluate((n) => document.querySelector(`#received a.download[download="${n}"]`)?.getAttribute('data-storage') ?? null, file.name);
  console.log(`received into: ${storage}`);
  const cpu = cpuDiff(before, cpuSnapshot());
  const [topA, topB] = [await stopA(), await stopB()];
  // Counters an instrumented web/ copy may leave (PAIRWISE_WEB_DIR experiments).
  for (const p of [a, b]) {
    const stats = await p.evaluate(() => /** @type {any} */ (globalThis).__pwStats ?? null);
    if (stats) console.log(`${p.name} stats: ${JSON.stringify(stats)}`);
  }
  printCpu(`Pairwise Chromium to Chromium (${(ms / 1000).toFixed(1)} s; ${((100 * SIZE) / 1e6 / (ms / 1000) / ceiling).toFixed(0)} % of the ceiling)`, cpu, ms);
  for (const [title, top] of [['sender page main thread', topA], ['receiver page main thread', topB]]) {
    console.log(`  ${title}, self time:`);
    for (const [k, v] of /** @type {[string, number][]} */ (top)) console.log(`    ${v.toFixed(2).padStart(6)} s  ${k}`);
  }
  assert.ok(ms > 0);
} finally {
  await ba.close();
  await bb.close();
  await server.stop();
  files.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
