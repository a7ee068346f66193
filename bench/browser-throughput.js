/**
 * @file Browser throughput benchmark (issue 2): in one run on this machine, measures
 *  (a) the ceiling: a raw RTCDataChannel between two headless Chromium pages, no encryption,
 *      256 KiB messages with the same flow control as Pairwise (4 MiB high / 1 MiB low water);
 *  (b) Pairwise: the real web app through the real `pairwise serve`, one file sent from page A
 *      to page B after pairing by the QR link, end-to-end encrypted;
 * and prints both in MB/s (10^6 bytes/s) with their ratio. Runs are interleaved (a, b, a, b, ...)
 * so both see the same machine load. Bytes are checked (SHA-256) on the Pairwise side.
 *
 * Run (root; it must run inside the private network namespace like every WebRTC test):
 *   tests/e2e/netns.sh node bench/browser-throughput.js [--mib 256] [--runs 2]
 */

import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { timeAcceptToReceived, acceptOffer, chooseFiles, hashReceivedInPage, showPairingCode, waitPaired } from '../tests/e2e/harness/app.js';
import { launchChromium } from '../tests/e2e/harness/browsers.js';
import { makeFiles, MiB } from '../tests/e2e/harness/files.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { rawCeiling } from './lib.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '2' } } });
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
    await acceptOffer(b, [file.name], [a]);
    const ms = /** @type {number} */ (await timing);
    const got = await hashReceivedInPage(b, file.name);
    assert.equal(got.sha256, file.sha256, 'Pairwise delivered different bytes');
    return mbps(SIZE, ms);
  } finally {
    await a.close();
    await b.close();
  }
}

const server = await startServer();
const browser = await launchChromium();
const files = makeFiles([{ name: 'bench.bin', size: SIZE }]);
try {
  const raw = [];
  const pw = [];
  for (let i = 0; i < RUNS; i++) {
    const a = await browser.newPeer('raw-A', server.origin);
    const b = await browser.newPeer('raw-B', server.origin);
    await a.goto(`${server.origin}/healthz`);
    await b.goto(`${server.origin}/healthz`);
    raw.push(await rawCeiling(a, b, SIZE));
    await a.close();
    await b.close();
    pw.push(await pairwise(browser, server.origin, files.files[0]));
    console.log(`run ${i + 1}: ceiling ${raw.at(-1)?.toFixed(1)} MB/s, Pairwise ${pw.at(-1)?.toFixed(1)} MB/s`);
  }
  const median = (/** @type {number[]} */ xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const r = median(raw);
  const p = median(pw);
  console.log(`\n${SIZE / MiB} MiB, Chromium (two contexts of one browser), ${RUNS} interleaved runs, median:`);
  console.log(`  raw RTCDataChannel ceiling (no encryption): ${r.toFixed(1)} MB/s`);
  console.log(`  Pairwise (E2E encrypted, via the app):      ${p.toFixed(1)} MB/s`);
  console.log(`  ratio: ${((100 * p) / r).toFixed(0)}% of the ceiling`);
} finally {
  files.remove();
  await browser.close();
  await server.stop();
}
