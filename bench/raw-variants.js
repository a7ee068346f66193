/**
 * @file What the data channel alone costs in CPU, and what changes it (issue 5): between the
 * same two Chromium processes, the raw ceiling as `bench/lib.js` measures it, then with the
 * sender sealing each message (AES-GCM, awaited) and with the receiver sending a small message
 * back per MiB (like `progress`); CPU-seconds per process and renderer thread from /proc.
 *
 *   PAIRWISE_BIN=... tests/e2e/netns.sh node bench/raw-variants.js [--mib 256] [--runs 2]
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromiumProfile } from '../tests/e2e/harness/browsers.js';
import { MiB } from '../tests/e2e/harness/files.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { rawCeiling } from './lib.js';
import { cpuDiff, cpuSnapshot, printCpu } from './proc-cpu.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '1' } } });
const SIZE = Number(values.mib) * MiB;
/** @type {[string, { encrypt?: boolean, ahead?: number, acks?: number }][]} */
const VARIANTS = [
  ['raw', {}],
  ['raw, sender encrypts', { encrypt: true }],
  ['raw, sender encrypts 16 ahead', { encrypt: true, ahead: 16 }],
  ['raw, receiver acks every MiB', { acks: MiB }],
];
const server = await startServer();
const dirs = [mkdtempSync(join(tmpdir(), 'pairwise-raw-a-')), mkdtempSync(join(tmpdir(), 'pairwise-raw-b-'))];
const [ba, bb] = [await launchChromiumProfile(dirs[0], server.origin), await launchChromiumProfile(dirs[1], server.origin)];
try {
  const a = await ba.page('A');
  const b = await bb.page('B');
  await a.goto(`${server.origin}/healthz`);
  await b.goto(`${server.origin}/healthz`);
  for (let run = 0; run < Number(values.runs); run++) {
    for (const [name, variant] of VARIANTS) {
      const before = cpuSnapshot();
      const rate = await rawCeiling(a, b, SIZE, variant);
      printCpu(`${name}: ${rate.toFixed(1)} MB/s`, cpuDiff(before, cpuSnapshot()));
    }
  }
} finally {
  await ba.close();
  await bb.close();
  await server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
