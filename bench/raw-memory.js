/**
 * @file How much memory the data channel alone costs the receiving page (issue 5's 300 MB
 * limit for a 2 GiB receive): the raw ceiling of `bench/lib.js` (no encryption, no storage; the
 * receiver only counts the bytes) into a Chromium with a normal profile whose page has the app
 * loaded, sampling that page renderer's RSS from /proc as `tests/e2e/large.test.js` does. What
 * Pairwise adds is the difference to that test's peak.
 *
 *   PAIRWISE_BIN=... tests/e2e/netns.sh node bench/raw-memory.js [--mib 2048]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromiumProfile } from '../tests/e2e/harness/browsers.js';
import { MiB } from '../tests/e2e/harness/files.js';
import { chromiumMemory, launchMeasured, samplePeak } from '../tests/e2e/harness/memory.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { rawCeiling } from './lib.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '2048' } } });
const SIZE = Number(values.mib) * MiB;
const server = await startServer();
const dirs = [mkdtempSync(join(tmpdir(), 'pairwise-rawmem-a-')), mkdtempSync(join(tmpdir(), 'pairwise-rawmem-b-'))];
const ba = await launchChromiumProfile(dirs[0], server.origin);
const { browser: bb, pid: pidB } = await launchMeasured(() => launchChromiumProfile(dirs[1], server.origin));
try {
  const a = await ba.page('A');
  const b = await bb.page('B');
  await a.goto(`${server.origin}/`);
  await b.goto(`${server.origin}/`);
  await new Promise((r) => setTimeout(r, 2000));
  const idle = chromiumMemory(pidB);
  const sampler = samplePeak(pidB);
  const rate = await rawCeiling(a, b, SIZE);
  const peak = sampler.stop();
  const mb = (/** @type {number} */ n) => `${(n / 1e6).toFixed(0)} MB`;
  console.log(`raw data channel, ${SIZE / MiB} MiB at ${rate.toFixed(1)} MB/s: receiving page renderer idle ${mb(idle.renderer)}, peak ${mb(peak.renderer)} (${peak.samples} samples)`);
} finally {
  await ba.close();
  await bb.close();
  await server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
