/**
 * @file Memory of a real browser, read from /proc (Linux): a Chromium instance is identified
 * by its browser process, its renderers are the descendants started with `--type=renderer`.
 * Used to show that a receiving browser's memory stays flat during a large transfer.
 */

import { readFileSync, readdirSync } from 'node:fs';

/** @returns {number[]} every process id on the machine (in this namespace's view) */
function pids() {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** @param {number} pid @returns {string} the command line, '' if the process is gone */
function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** @param {number} pid @returns {number} parent pid, -1 if gone */
function ppid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/** @param {number} pid @returns {number} resident set size in bytes, 0 if gone */
function rss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * @returns {Set<number>} the browser (main) processes of the Chromium instances this test
 *   process started (other Chromium instances on the machine are not ours to measure)
 */
export function chromiumBrowserPids() {
  const isBrowser = (/** @type {number} */ p) => {
    const c = cmdline(p);
    return /chrom/.test(c) && !/--type=|crashpad/.test(c);
  };
  return new Set(descendants(process.pid).filter(isBrowser));
}

/**
 * Runs `launch` (which starts one Chromium) and finds the browser process it started, to
 * measure that browser alone. Launch one at a time: two at once could not be told apart.
 * @template {{ close(): Promise<unknown> }} T
 * @param {() => Promise<T>} launch
 * @returns {Promise<{ browser: T, pid: number }>}
 * @throws {Error} unless exactly one new Chromium browser process appeared (the browser is
 *   closed then)
 */
export async function launchMeasured(launch) {
  const before = chromiumBrowserPids();
  const browser = await launch();
  const started = [...chromiumBrowserPids()].filter((p) => !before.has(p));
  if (started.length !== 1) {
    await browser.close();
    throw new Error(`expected one new Chromium browser process, found ${started.length}`);
  }
  return { browser, pid: /** @type {number} */ (started[0]) };
}

/**
 * All descendants of `root`.
 * @param {number} root
 * @returns {number[]}
 */
export function descendants(root) {
  const all = pids().map((p) => [p, ppid(p)]);
  const out = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop();
    for (const [p, pp] of all) {
      if (pp === parent) {
        out.push(p);
        frontier.push(p);
      }
    }
  }
  return out;
}

/**
 * Resident memory of one Chromium instance: its largest renderer (the page's; other renderers
 * are spare or utility pages), all renderers, and everything.
 * @param {number} browserPid
 * @returns {{ renderer: number, renderers: number, total: number }} bytes
 */
export function chromiumMemory(browserPid) {
  const procs = descendants(browserPid);
  const rendererRss = procs.filter((p) => cmdline(p).includes('--type=renderer')).map(rss);
  const renderers = rendererRss.reduce((n, r) => n + r, 0);
  const total = procs.reduce((n, p) => n + rss(p), rss(browserPid));
  return { renderer: Math.max(0, ...rendererRss), renderers, total };
}

/**
 * Samples `chromiumMemory(browserPid)` every `ms` until stopped; keeps the peaks and the page
 * renderer's samples, so that a failed run can tell a steady level from a short spike
 * (`renderer50`, `renderer90`: its median and 90th percentile; `peakAt`: seconds from the start
 * to the renderer's peak).
 * @param {number} browserPid
 * @param {number} [ms]
 * @returns {{ stop: () => { renderer: number, renderers: number, total: number, samples: number, renderer50: number, renderer90: number, peakAt: number } }}
 */
export function samplePeak(browserPid, ms = 250) {
  let peak = { renderer: 0, renderers: 0, total: 0 };
  /** @type {number[]} */
  const series = [];
  let peakAt = 0;
  const t0 = Date.now();
  const timer = setInterval(() => {
    const m = chromiumMemory(browserPid);
    series.push(m.renderer);
    if (m.renderer > peak.renderer) peakAt = (Date.now() - t0) / 1000;
    peak = {
      renderer: Math.max(peak.renderer, m.renderer),
      renderers: Math.max(peak.renderers, m.renderers),
      total: Math.max(peak.total, m.total),
    };
  }, ms);
  return {
    stop: () => {
      clearInterval(timer);
      const sorted = [...series].sort((x, y) => x - y);
      const at = (/** @type {number} */ q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      return { ...peak, samples: series.length, renderer50: at(0.5), renderer90: at(0.9), peakAt, series };
    },
  };
}
