/**
 * @file CPU-seconds of the processes this benchmark started (descendants of this node process),
 * by Chromium process type and, inside renderers, by thread name (`CrRendererMain` is the
 * page's main thread, `DedicatedWorker thread` a worker, `ThreadPool*` Chromium's pool where
 * WebCrypto and Blob reads run, `V8 DefaultWorke` V8's GC and compiler helpers), read from
 * /proc. Linux only.
 */

import { readFileSync, readdirSync } from 'node:fs';

const TICK = 100; // clock ticks per second (USER_HZ) on Linux

/** @param {string} path @returns {{ comm: string, ppid: number, cpu: number } | null} */
function stat(path) {
  try {
    const s = readFileSync(path, 'utf8');
    const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { comm, ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICK };
  } catch {
    return null;
  }
}

/** @param {number} pid */
function kind(pid) {
  try {
    const c = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!/chrom/.test(c)) return c.split('\0')[0].split('/').pop() ?? '?';
    const t = /--type=([a-z-]+)/.exec(c)?.[1] ?? 'browser';
    const sub = /--utility-sub-type=([\w.]+)/.exec(c)?.[1];
    return sub ? `${t}:${sub.split('.').pop()}` : t;
  } catch {
    return '?';
  }
}

/** A thread name without its number (`ThreadPoolForegr` and `ThreadPoolForegr2` together). */
function threadGroup(/** @type {string} */ comm) {
  return comm.replace(/[\d/]+$/, '').trim() || comm;
}

/**
 * CPU of every descendant process, and of each renderer's threads.
 * @returns {Map<string, number>} keys `kind#pid` and `kind#pid/thread group`
 */
export function cpuSnapshot() {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map(procs.map((p) => [p, stat(`/proc/${p}/stat`)?.ppid ?? -1]));
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [p, pp] of parent) if (!mine.has(p) && mine.has(pp)) (mine.add(p), (grew = true));
  }
  mine.delete(process.pid);
  /** @type {Map<string, number>} */
  const out = new Map();
  for (const p of mine) {
    const s = stat(`/proc/${p}/stat`);
    if (!s) continue;
    const k = `${kind(p)}#${p}`;
    out.set(k, s.cpu);
    if (!k.startsWith('renderer')) continue;
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      const ts = stat(`/proc/${p}/task/${t}/stat`);
      if (!ts) continue;
      const tk = `${k}/${threadGroup(ts.comm)}`;
      out.set(tk, (out.get(tk) ?? 0) + ts.cpu);
    }
  }
  return out;
}

/**
 * Work done between two snapshots (threads that ended in between are counted in their
 * process's total only).
 * @param {Map<string, number>} before
 * @param {Map<string, number>} after
 * @returns {Map<string, number>}
 */
export function cpuDiff(before, after) {
  /** @type {Map<string, number>} */
  const d = new Map();
  for (const [k, v] of after) {
    const x = v - (before.get(k) ?? 0);
    if (x >= 0.01) d.set(k, x);
  }
  return d;
}

/**
 * Prints processes (largest first) with their busiest threads under each renderer.
 * @param {string} title
 * @param {Map<string, number>} cpu from `cpuDiff`
 */
export function printCpu(title, cpu) {
  const procs = [...cpu].filter(([k]) => !k.includes('/')).sort((a, b) => b[1] - a[1]);
  const total = procs.reduce((a, [, v]) => a + v, 0);
  console.log(`\n${title}; CPU ${total.toFixed(2)} s`);
  for (const [k, v] of procs) {
    console.log(`  ${v.toFixed(2).padStart(7)} s  ${k}`);
    const threads = [...cpu].filter(([t]) => t.startsWith(`${k}/`)).sort((a, b) => b[1] - a[1]);
    for (const [t, tv] of threads) if (tv >= 0.05) console.log(`  ${tv.toFixed(2).padStart(11)} s    ${t.slice(k.length + 1)}`);
  }
}

/** @param {number} pid @returns {number} the Chromium browser process `pid` belongs to (itself for one), -1 if none */
function browserOf(pid) {
  for (let p = pid; p > 1; ) {
    if (kind(p) === 'browser') return p;
    p = stat(`/proc/${p}/stat`)?.ppid ?? -1;
  }
  return -1;
}

/**
 * Sums a `cpuDiff` per Chromium instance into what a page costs: `main` (renderers' main
 * threads), `worker` (dedicated workers), `transport` (renderers' WebRTC and IPC threads and the
 * network service: moving the bytes), `browser` (the browser process: file reads, storage) and
 * `other`. Call it while the processes still run.
 * @param {Map<string, number>} cpu
 * @param {number} browserPid
 * @returns {{ main: number, worker: number, transport: number, browser: number, other: number, total: number }}
 */
export function roles(cpu, browserPid) {
  const r = { main: 0, worker: 0, transport: 0, browser: 0, other: 0, total: 0 };
  for (const [k, v] of cpu) {
    const [proc, thread] = k.split('/');
    const pid = Number(proc.split('#')[1]);
    if (browserOf(pid) !== browserPid) continue;
    const type = proc.split('#')[0];
    if (thread === undefined) {
      r.total += v;
      if (type === 'browser') r.browser += v;
      else if (type.includes('NetworkService')) r.transport += v;
      else if (!type.startsWith('renderer')) r.other += v;
      continue;
    }
    if (thread === 'chromium') r.main += v;
    else if (thread.startsWith('DedicatedWorker')) r.worker += v;
    else if (thread.startsWith('WebRTC') || thread.startsWith('Chrome_ChildIOT')) r.transport += v;
    else r.other += v;
  }
  return r;
}

/** One line of `roles`. @param {ReturnType<typeof roles>} r */
export function rolesLine(r) {
  const f = (/** @type {number} */ x) => x.toFixed(2);
  return `total ${f(r.total)} = main ${f(r.main)} + worker ${f(r.worker)} + transport ${f(r.transport)} + browser ${f(r.browser)} + other ${f(r.other)}`;
}
