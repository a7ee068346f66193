/**
 * @file Memory per signaling connection (issue 13): starts `pairwise serve` on 127.0.0.1, opens
 * N WebSockets that each join a room of their own (so the join deadline keeps them), and prints
 * the server's RSS before and after, per connection. Run it for two binaries to compare:
 *
 *   ulimit -n 65536; node bench/ws-memory.js [N=2000] [BIN=target/release/pairwise] [BIN2...]
 */

import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const N = Number(process.argv[2] || 2000);
const bins = process.argv.slice(3);
if (!bins.length) bins.push(join(import.meta.dirname, '..', 'target', 'release', 'pairwise'));

const rssKiB = (/** @type {number} */ pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
/** A room id: 22 base64url characters. @param {number} i */
const room = (i) => `room${String(i).padStart(18, '0')}`;

for (const [k, bin] of bins.entries()) {
  const port = 18_080 + k;
  const config = mkdtempSync(join(tmpdir(), 'pw-wsmem-'));
  const server = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--insecure-http', '--config', config, '--no-relay', '--max-per-ip', '0'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) break;
      await sleep(100);
    }
    await sleep(500);
    const before = rssKiB(/** @type {number} */ (server.pid));
    /** @type {WebSocket[]} */
    const sockets = [];
    let joined = 0;
    for (let i = 0; i < N; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'join', room: room(i) })));
      ws.on('message', (m) => { if (String(m).includes('"joined"')) joined++; });
      ws.on('error', () => {});
      sockets.push(ws);
      if (i % 200 === 199) await sleep(50);
    }
    for (let i = 0; i < 100 && joined < N; i++) await sleep(100);
    await sleep(1000);
    const after = rssKiB(/** @type {number} */ (server.pid));
    console.log(`${bin}: ${joined}/${N} joined; RSS ${(before / 1024).toFixed(1)} -> ${(after / 1024).toFixed(1)} MiB, ${(((after - before) * 1024) / N / 1000).toFixed(1)} kB per connection`);
    for (const ws of sockets) ws.terminate();
  } finally {
    server.kill();
    rmSync(config, { recursive: true, force: true });
  }
}
