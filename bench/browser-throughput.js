/**
 * @file Browser throughput benchmark (issues 2 and 14): in one run on this machine, measures
 *  (a) the ceiling: a raw RTCDataChannel between two headless Chromium pages, no encryption,
 *      256 KiB messages with the same flow control as Pairwise (4 MiB high / 1 MiB low water);
 *  (a') the same channel with the sender sealing every message with WebCrypto AES-GCM (16
 *      seals in flight, as Pairwise pipelines them): the reference issue 14 sets (95 %);
 *  (b) Pairwise: the real web app through the real `pairwise serve`, one file sent from page A
 *      to page B after pairing by the QR link, end-to-end encrypted;
 *  (b') with `--before BIN`, the same through another build (e.g. the commit before a change);
 * and prints them in MB/s (10^6 bytes/s) with their ratios. Runs are interleaved (a, a', b, b',
 * a, …) so all see the same machine load. Bytes are checked (SHA-256) on the Pairwise side.
 *
 * With `--timeline`, each Pairwise round also samples the receiving row's `data-chunk-bytes`
 * every 100 ms (the row redraws at most every 200 ms) and prints its longest time without
 * progress and how much of the round went without any: a slow round that stalls shows long
 * gaps, one that is slow throughout does not.
 *
 * Run (root; it must run inside the private network namespace like every WebRTC test):
 *   tests/e2e/netns.sh node bench/browser-throughput.js [--mib 256] [--runs 2] [--before BIN] [--timeline]
 */

import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { timeAcceptToReceived, acceptOffer, chooseFiles, hashReceivedInPage, showPairingCode, waitPaired } from '../tests/e2e/harness/app.js';
import { launchChromium } from '../tests/e2e/harness/browsers.js';
import { makeFiles, MiB } from '../tests/e2e/harness/files.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { rawCeiling } from './lib.js';

const { values } = parseArgs({
  options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '2' }, before: { type: 'string' }, timeline: { type: 'boolean', default: false } },
});
const SIZE = Number(values.mib) * MiB;
const RUNS = Number(values.runs);

/** @param {number} bytes @param {number} ms */
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);

/**
 * (b) Pairwise: pair two app pages by the link, send one file, time accept -> verified file.
 * @param {Awaited<ReturnType<typeof launchChromium>>} browser
 * @param {string} origin
 * @param {{ name: string, path: string, sha256: string }} file
 * @returns {Promise<number>} MB/s
 */
async function pairwise(browser, origin, file) {
  const a = await browser.newPeer('A', origin);
  const b = await browser.newPeer('B', origin);
  try {
    await a.goto(origin);
    const link = await showPairingCode(a);
    await b.goto(link);
    await Promise.all([waitPaired(a, [b]), waitPaired(b, [a])]);
    await chooseFiles(a, [file.path]);
    // Time on B's clock: from the Accept click to the verified file's link appearing.
    const timing = timeAcceptToReceived(b);
    if (values.timeline) await startTimeline(b);
    await acceptOffer(b, [file.name], [a]);
    const ms = /** @type {number} */ (await timing);
    if (values.timeline) console.log(`  ${origin === server.origin ? 'Pairwise' : 'before'}: ${mbps(SIZE, ms).toFixed(1)} MB/s; ${await stalls(b)}`);
    const got = await hashReceivedInPage(b, file.name);
    assert.equal(got.sha256, file.sha256, 'Pairwise delivered different bytes');
    return mbps(SIZE, ms);
  } finally {
    await a.close();
    await b.close();
  }
}

/**
 * Samples B's receiving row every 100 ms from now on (in the page, so the test's own polling
 * does not set the pace).
 * @param {import('../tests/e2e/harness/peer.js').Peer} b
 */
function startTimeline(b) {
  return b.evaluate(() => {
    /** @type {[number, number][]} */
    const samples = [];
    /** @type {any} */ (window).__timeline = samples;
    setInterval(() => {
      const row = /** @type {HTMLElement | null} */ (document.querySelector('#transfers li.transfer[data-direction=receive]'));
      samples.push([performance.now(), Number(row?.dataset.chunkBytes ?? 0)]);
    }, 100);
  });
}

/**
 * From the first byte to the last: the longest time without progress, and the share of the
 * transfer spent in gaps of 500 ms or more.
 * @param {import('../tests/e2e/harness/peer.js').Peer} b
 */
async function stalls(b) {
  const samples = /** @type {[number, number][]} */ (await b.evaluate(() => /** @type {any} */ (window).__timeline));
  const moving = samples.filter(([, n]) => n > 0);
  if (moving.length < 2) return 'no timeline';
  const first = samples.findIndex(([, n]) => n > 0);
  const last = samples.findIndex(([, n]) => n >= moving[moving.length - 1][1]);
  let longest = 0;
  let longestAt = 0;
  let idle = 0;
  let since = samples[first][0];
  for (let i = first + 1; i <= last; i++) {
    if (samples[i][1] > samples[i - 1][1]) {
      const gap = samples[i][0] - since;
      if (gap > longest) {
        longest = gap;
        longestAt = samples[i - 1][1];
      }
      if (gap >= 500) idle += gap;
      since = samples[i][0];
    }
  }
  const span = samples[last][0] - samples[first][0];
  return `longest gap ${(longest / 1000).toFixed(1)} s at ${(longestAt / MiB).toFixed(0)} MiB, ${((100 * idle) / span).toFixed(0)} % of ${(span / 1000).toFixed(1)} s in gaps >= 0.5 s`;
}

const server = await startServer();
const before = values.before ? await startServer({ bin: values.before }) : null;
const browser = await launchChromium();
const files = makeFiles([{ name: 'bench.bin', size: SIZE }]);
/** @param {{ encrypt?: boolean, ahead?: number }} variant */
async function raw(variant) {
  const a = await browser.newPeer('raw-A', server.origin);
  const b = await browser.newPeer('raw-B', server.origin);
  try {
    await a.goto(`${server.origin}/healthz`);
    await b.goto(`${server.origin}/healthz`);
    return await rawCeiling(a, b, SIZE, variant);
  } finally {
    await a.close();
    await b.close();
  }
}
try {
  /** @type {Record<string, number[]>} */
  const runs = { raw: [], aes: [], pw: [], before: [] };
  for (let i = 0; i < RUNS; i++) {
    runs.raw.push(await raw({}));
    runs.aes.push(await raw({ encrypt: true, ahead: 16 }));
    runs.pw.push(await pairwise(browser, server.origin, files.files[0]));
    if (before) runs.before.push(await pairwise(browser, before.origin, files.files[0]));
    const last = (/** @type {number[]} */ xs) => xs.at(-1)?.toFixed(1) ?? '-';
    console.log(`run ${i + 1}: raw ${last(runs.raw)}, raw+AES-GCM ${last(runs.aes)}, Pairwise ${last(runs.pw)}${before ? `, before ${last(runs.before)}` : ''} MB/s`);
  }
  const median = (/** @type {number[]} */ xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const r = median(runs.raw);
  const e = median(runs.aes);
  const p = median(runs.pw);
  console.log(`\n${SIZE / MiB} MiB, Chromium (two contexts of one browser), ${RUNS} interleaved runs, median:`);
  console.log(`  raw RTCDataChannel ceiling (no encryption): ${r.toFixed(1)} MB/s`);
  console.log(`  raw channel, sender seals with AES-GCM:     ${e.toFixed(1)} MB/s`);
  console.log(`  Pairwise (E2E encrypted, via the app):      ${p.toFixed(1)} MB/s: ${((100 * p) / r).toFixed(0)}% of raw, ${((100 * p) / e).toFixed(0)}% of raw+AES-GCM (target 95%)`);
  if (before) {
    const q = median(runs.before);
    console.log(`  before (${values.before}): ${q.toFixed(1)} MB/s: ${((100 * q) / e).toFixed(0)}% of raw+AES-GCM; after/before ${(p / q).toFixed(2)}`);
  }
} finally {
  files.remove();
  await browser.close();
  await server.stop();
  await before?.stop();
}
