/**
 * @file Direct against relayed, in one run, in the NAT lab (tests/nat): CLI -> CLI MB/s over a
 * direct path (cone <-> cone), through the embedded relay and through coturn (both sides forced
 * onto relayed candidates, and one side behind a symmetric NAT), and, per cell, the time from
 * the receiver opening the link to the first file byte. The reference is the direct path of the
 * same run; the target: relayed >= 80 % of direct, link -> first byte < 2 s.
 *
 *   sudo node bench/nat-relay.js [--mib 64] [--rounds 3]
 *
 * Uses PAIRWISE_BIN (default target/release/pairwise: build it first). The lab comes up and goes
 * down around the run; nothing leaves its namespaces. Rounds are interleaved (each round runs
 * every cell once) and the median is printed next to min and max.
 */

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '64' }, rounds: { type: 'string', default: '3' } } });
process.env.PAIRWISE_BIN ??= join(import.meta.dirname, '..', 'target', 'release', 'pairwise');
const lab = await import('../tests/nat/lab.js');
const { BIN, MiB, SERVER_URL, TURN_SECRET_FILE, lab: labSh, labDown, labUp, makeRandomFile, sha256File, spawnIn, startServer, tempDir } = lab;

const size = Number(values.mib) * MiB;
const rounds = Number(values.rounds);

/**
 * @typedef {object} Cell
 * @property {string} name
 * @property {[string, string]} nat kinds of home a and b
 * @property {'embedded' | 'coturn'} relay
 * @property {boolean} forceRelay both sides `--ice-policy relay`
 * @property {string} expect `direct` or `relayed`
 */
/** @type {Cell[]} */
const CELLS = [
  { name: 'direct (cone-cone)', nat: ['cone', 'cone'], relay: 'embedded', forceRelay: false, expect: 'direct' },
  { name: 'embedded relay (cone-sym)', nat: ['cone', 'symmetric'], relay: 'embedded', forceRelay: false, expect: 'relayed' },
  { name: 'embedded relay, both relayed', nat: ['cone', 'cone'], relay: 'embedded', forceRelay: true, expect: 'relayed' },
  { name: 'coturn (cone-sym)', nat: ['cone', 'symmetric'], relay: 'coturn', forceRelay: false, expect: 'relayed' },
  { name: 'coturn, both relayed', nat: ['cone', 'cone'], relay: 'coturn', forceRelay: true, expect: 'relayed' },
];

/**
 * One CLI -> CLI transfer a1 -> b1; returns MB/s (first to last byte) and link -> first byte.
 * @param {Cell} cell
 * @param {string} file
 * @param {string} sha
 */
async function runCell(cell, file, sha) {
  labSh('nat', 'a', cell.nat[0]);
  labSh('nat', 'b', cell.nat[1]);
  const extra = cell.relay === 'coturn'
    ? ['--no-relay', '--stun', 'stun:203.0.113.1:3478', '--turn', 'turn:203.0.113.1:3478?transport=udp', '--turn-secret-file', TURN_SECRET_FILE]
    // The relay's own capacity, not its per-connection cap (--relay-rate, 50 MB/s by default).
    : ['--relay-rate', '0'];
  const server = await startServer(extra);
  const out = tempDir('pairwise-bench-out-');
  const cfgA = tempDir('pairwise-bench-a-');
  const cfgB = tempDir('pairwise-bench-b-');
  const policy = cell.forceRelay ? ['--ice-policy', 'relay'] : [];
  const send = spawnIn('a1', BIN, ['send', file, '--json', '--server', SERVER_URL, '--config', cfgA, ...policy]);
  try {
    const { link } = await send.waitEvent('link', 20_000);
    const opened = performance.now();
    const recv = spawnIn('b1', BIN, ['receive', '--yes', link, '--dir', out, '--json', '--config', cfgB, ...policy]);
    const { code } = await Promise.race([
      recv.exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out\n${recv.diagnose()}\n${send.diagnose()}`)), 300_000)),
    ]);
    await send.exited;
    if (code !== 0) throw new Error(`receive exited ${code}\n${recv.diagnose()}\n${send.diagnose()}`);
    const got = await sha256File(join(out, file.split('/').pop() ?? ''));
    if (got.sha256 !== sha) throw new Error('SHA-256 differs');
    const path = recv.events().find((e) => e.event === 'connected')?.path;
    const progress = recv.events().filter((e) => e.event === 'progress');
    const firstAt = /** @type {any} */ (recv).eventTime('progress') ?? NaN;
    const done = recv.events().find((e) => e.event === 'saved');
    // Receiver's own first-to-last-byte rate from its progress events (the last one's rate is
    // the average over the file).
    const rate = progress.at(-1)?.rate ?? NaN;
    return { mbps: rate / 1e6, firstByteMs: firstAt - opened, path, ok: !!done };
  } finally {
    send.kill();
    await server.stop();
    for (const d of [out, cfgA, cfgB]) rmSync(d, { recursive: true, force: true });
  }
}

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

labUp();
const dir = tempDir('pairwise-bench-file-');
try {
  const { path: file, sha256 } = makeRandomFile(dir, 'bench.bin', size);
  /** @type {Map<string, { mbps: number[], first: number[], paths: Set<string> }>} */
  const results = new Map(CELLS.map((c) => [c.name, { mbps: [], first: [], paths: new Set() }]));
  for (let r = 0; r < rounds; r++) {
    for (const cell of CELLS) {
      const res = await runCell(cell, file, sha256);
      const slot = results.get(cell.name);
      slot?.mbps.push(res.mbps);
      slot?.first.push(res.firstByteMs);
      slot?.paths.add(String(res.path));
      console.log(`round ${r + 1} ${cell.name.padEnd(30)} ${res.mbps.toFixed(1).padStart(6)} MB/s  link->first byte ${Math.round(res.firstByteMs)} ms  path ${res.path}`);
    }
  }
  const direct = median(results.get(CELLS[0].name)?.mbps ?? [NaN]);
  console.log(`\nCLI -> CLI, ${values.mib} MiB, ${rounds} rounds, binary ${BIN}`);
  console.log('| cell | path | MB/s median (min-max) | of direct | link -> first byte, median (max) |');
  console.log('|---|---|---|---|---|');
  for (const cell of CELLS) {
    const s = results.get(cell.name);
    if (!s) continue;
    const m = median(s.mbps);
    console.log(`| ${cell.name} | ${[...s.paths].join('/')} | ${m.toFixed(1)} (${Math.min(...s.mbps).toFixed(1)}-${Math.max(...s.mbps).toFixed(1)}) | ${Math.round((100 * m) / direct)} % | ${Math.round(median(s.first))} ms (${Math.round(Math.max(...s.first))}) |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  labDown();
}
