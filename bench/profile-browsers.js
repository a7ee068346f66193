/**
 * @file Where the CPU goes in a browser-to-browser transfer (issue 5's 95 % target): runs the
 * raw data-channel ceiling and one Pairwise Chromium to Chromium transfer (receiver with a
 * normal profile, so into OPFS) between the same two Chromium processes, and prints for each
 * the CPU seconds of every Chromium process by type (read from /proc, only processes this run
 * started) and the busiest functions of both pages' main threads (CDP CPU profiles).
 * CPU-seconds are work, not time: they compare even when the machine is shared.
 *
 *   bench/run.sh profile-browsers.js [--mib 256] [--top 12]
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { T, acceptOffer, chooseFiles, showPairingCode, waitPaired, waitReceived } from '../tests/e2e/harness/app.js';
import { launchChromiumProfile } from '../tests/e2e/harness/browsers.js';
import { makeFiles, MiB } from '../tests/e2e/harness/files.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { rawCeiling } from './lib.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, top: { type: 'string', default: '12' } } });
const SIZE = Number(values.mib) * MiB;
const TOP = Number(values.top);
T.transfer = 1_800_000;
const TICK = 100; // clock ticks per second (USER_HZ) on Linux

/** @param {number} pid */
function stat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK };
  } catch {
    return null;
  }
}

/** @param {number} pid */
function kind(pid) {
  try {
    const c = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const t = /--type=([a-z-]+)/.exec(c)?.[1] ?? 'browser';
    const sub = /--utility-sub-type=([\w.]+)/.exec(c)?.[1];
    return sub ? `${t}:${sub.split('.').pop()}` : t;
  } catch {
    return '?';
  }
}

/** CPU seconds of every process descending from this one, by pid. */
function cpuByPid() {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map(procs.map((p) => [p, stat(p)?.ppid ?? -1]));
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of parent) if (!mine.has(p) && mine.has(pp)) (mine.add(p), (grew = true));
  }
  mine.delete(process.pid);
  /** @type {Map<number, { cpu: number, kind: string }>} */
  const out = new Map();
  for (const p of mine) {
    const s = stat(p);
    if (s) out.set(p, { cpu: s.cpu, kind: kind(p) });
  }
  return out;
}

/** @param {Map<number, {cpu: number, kind: string}>} before @param {Map<number, {cpu: number, kind: string}>} after */
function cpuDelta(before, after) {
  /** @type {Record<string, number>} */
  const byKind = {};
  for (const [p, a] of after) {
    const d = a.cpu - (before.get(p)?.cpu ?? 0);
    if (d > 0.05) byKind[`${a.kind}#${p}`] = d;
  }
  return byKind;
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

/** @param {string} title @param {Record<string, number>} cpu @param {number} ms */
function printCpu(title, cpu, ms) {
  const total = Object.values(cpu).reduce((a, b) => a + b, 0);
  console.log(`\n${title}: ${(SIZE / 1e6 / (ms / 1000)).toFixed(1)} MB/s, ${(ms / 1000).toFixed(1)} s, CPU ${total.toFixed(1)} s (${((total * 1000) / ms).toFixed(2)} cores)`);
  for (const [k, v] of Object.entries(cpu).sort((a, b) => b[1] - a[1])) console.log(`  ${v.toFixed(2).padStart(7)} s  ${k}`);
}

const files = makeFiles([{ name: 'bench.bin', size: SIZE }]);
const file = files.files[0];
const server = await startServer();
const dirs = [mkdtempSync(join(tmpdir(), 'pairwise-prof-a-')), mkdtempSync(join(tmpdir(), 'pairwise-prof-b-'))];
const [ba, bb] = [await launchChromiumProfile(dirs[0], server.origin), await launchChromiumProfile(dirs[1], server.origin)];
try {
  const a = await ba.page('A');
  const b = await bb.page('B');

  await a.goto(`${server.origin}/healthz`);
  await b.goto(`${server.origin}/healthz`);
  let before = cpuByPid();
  let t0 = performance.now();
  const ceiling = await rawCeiling(a, b, SIZE);
  printCpu('raw ceiling (two Chromium processes)', cpuDelta(before, cpuByPid()), SIZE / 1e6 / ceiling * 1000);

  await a.goto(`${server.origin}/`);
  const link = await showPairingCode(a);
  await chooseFiles(a, [file.path]);
  await b.goto(link);
  await waitPaired(b, [a]);
  const stopA = await profile(a.page);
  const stopB = await profile(b.page);
  before = cpuByPid();
  t0 = performance.now();
  await acceptOffer(b, [file.name], [a]);
  await waitReceived(b, [file.name], [a]);
  const ms = performance.now() - t0;
  const storage = await b.evaluate((n) => document.querySelector(`#received a.download[download="${n}"]`)?.getAttribute('data-storage') ?? null, file.name);
  console.log(`received into: ${storage}`);
  const cpu = cpuDelta(before, cpuByPid());
  const [topA, topB] = [await stopA(), await stopB()];
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
