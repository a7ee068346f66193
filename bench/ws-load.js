/**
 * @file Signaling load (issue 13): one `pairwise serve` on 127.0.0.1 (or, with NODES=2, two
 * nodes on one `redis-server`, each room with one peer on each node), N WebSockets in N/2
 * rooms, then RATE relayed messages per second for SECS seconds from random peers to their
 * room mates. Prints the server's RSS and CPU, relay latency (p50/p99/max, send to receive)
 * and errors; then the hostile row: while one address holds HALF half-sent HTTP requests and
 * IDLE idle sockets, a client from another address (127.0.0.2) pairs: how long its
 * join-and-relay took. The server runs with its defaults (256 connections per address), so the
 * N sockets come from 127.1.k.1, 200 per address.
 *
 *   ulimit -n 20000; node bench/ws-load.js [N=10000] [RATE=2000] [SECS=30] [BIN=target/release/pairwise] [NODES=1]
 *
 * With two nodes, RSS and CPU are the sum of both servers, and Redis's own are printed beside
 * them; the hostile row runs against node 1.
 *
 * Latency is measured in this process, which also runs every client: on a 2-core machine the
 * clients take a core of their own, so the figures bound the server's from above.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const N = Number(process.argv[2] || 10_000);
const RATE = Number(process.argv[3] || 2000);
const SECS = Number(process.argv[4] || 30);
const BIN = process.argv[5] || join(import.meta.dirname, '..', 'target', 'release', 'pairwise');
const NODES = Number(process.argv[6] || 1);
const HALF = 2000;
const IDLE = 10_000;
const PORT = 18_180;
const REDIS_PORT = 18_190;
const PORTS = Array.from({ length: NODES }, (_, i) => PORT + i);

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (/** @type {number} */ pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
/** CPU seconds (user + system) of a process. @param {number} pid */
const cpuSecs = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
/** A room id: 22 base64url characters. @param {number} i */
const room = (i) => `load${String(i).padStart(18, '0')}`;
/** Whether something listens on `port`. @param {number} port @returns {Promise<boolean>} */
const accepts = (port) =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
/** @param {number[]} xs @param {number} q */
const quantile = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/**
 * Opens a WebSocket to the node on `port` that joins `r`; resolves once `joined` came.
 * @param {string} r
 * @param {string} [localAddress]
 * @param {number} [port]
 * @returns {Promise<WebSocket>}
 */
function joinRoom(r, localAddress, port = PORT) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { localAddress });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', room: r })));
    ws.once('message', (m) => (String(m).includes('"joined"') ? resolve(ws) : reject(new Error(String(m)))));
    ws.on('error', reject);
  });
}

const config = mkdtempSync(join(tmpdir(), 'pw-wsload-'));
/** @type {import('node:child_process').ChildProcess[]} */
const children = [];
if (NODES > 1) {
  const redis = spawn('/usr/bin/redis-server', ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', config], { stdio: 'ignore' });
  children.push(redis);
  for (let i = 0; i < 100 && !(await accepts(REDIS_PORT)); i++) await sleep(50);
}
const redisArgs = NODES > 1 ? ['--redis', `redis://127.0.0.1:${REDIS_PORT}`] : [];
const servers = PORTS.map((port) =>
  // 200 clients share each source address here: the per-address session rate is off.
  spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--insecure-http', '--config', config, '--no-relay', '--joins-per-ip-minute', '0', ...redisArgs], { stdio: 'ignore' }),
);
children.push(...servers);
const pids = servers.map((s) => /** @type {number} */ (s.pid));
const redisPid = NODES > 1 ? /** @type {number} */ (children[0].pid) : null;
/** Summed over the nodes. */
const rss = () => pids.reduce((sum, p) => sum + rssMiB(p), 0);
const cpu = () => pids.reduce((sum, p) => sum + cpuSecs(p), 0);
try {
  for (const port of PORTS) {
    for (let i = 0; i < 100; i++) {
      if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) break;
      await sleep(100);
    }
  }
  const rss0 = rss();
  const redisRss0 = redisPid ? rssMiB(redisPid) : 0;

  // 1. N sockets in N/2 rooms, opened in batches.
  const t0 = performance.now();
  /** @type {WebSocket[]} */
  const sockets = [];
  for (let i = 0; i < N; i += 500) {
    const batch = [];
    // 200 sockets per source address (127.1.k.1): under the server's default cap of 256.
    // The two peers of room k are sockets 2k and 2k+1: on two nodes, one on each.
    for (let j = i; j < Math.min(N, i + 500); j++) batch.push(joinRoom(room(j >> 1), `127.1.${Math.floor(j / 200)}.1`, PORTS[j % NODES]));
    sockets.push(...(await Promise.all(batch)));
  }
  const openSecs = (performance.now() - t0) / 1000;
  await sleep(1000);
  const rssOpen = rss();

  // 2. RATE relays per second, each from a random socket to its room mate.
  /** @type {number[]} */
  const latencies = [];
  let errors = 0;
  for (const ws of sockets) {
    ws.on('message', (m) => {
      const f = JSON.parse(String(m));
      if (f.type === 'relay') latencies.push(performance.now() - f.body.t);
      else if (f.type === 'error') errors++;
    });
    ws.on('close', () => errors++);
  }
  const cpu0 = cpu();
  const redisCpu0 = redisPid ? cpuSecs(redisPid) : 0;
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < SECS * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE);
    for (; sent < due; sent++) {
      const ws = sockets[Math.floor(Math.random() * sockets.length)];
      ws.send(JSON.stringify({ type: 'relay', body: { kind: 'load', t: performance.now() } }));
    }
    await sleep(5);
  }
  await sleep(2000);
  const elapsed = (performance.now() - start) / 1000;
  const serverCpu = (cpu() - cpu0) / elapsed;
  const rssEnd = rss();
  latencies.sort((a, b) => a - b);
  console.log(`server ${BIN}, ${NODES === 1 ? 'one node' : `${NODES} nodes on Redis (RSS and CPU summed)`}`);
  if (redisPid) {
    console.log(
      `redis-server: RSS ${redisRss0.toFixed(1)} -> ${rssMiB(redisPid).toFixed(1)} MiB, CPU ${(((cpuSecs(redisPid) - redisCpu0) / elapsed) * 100).toFixed(0)} % during the relays`,
    );
  }
  console.log(`open ${N} sockets (${N / 2} rooms): ${openSecs.toFixed(1)} s; RSS ${rss0.toFixed(1)} -> ${rssOpen.toFixed(1)} MiB`);
  console.log(
    `relay ${RATE}/s for ${SECS} s: ${sent} sent, ${latencies.length} received, ${errors} errors; ` +
      `latency p50 ${quantile(latencies, 0.5).toFixed(2)} ms, p99 ${quantile(latencies, 0.99).toFixed(2)} ms, max ${latencies[latencies.length - 1].toFixed(2)} ms; ` +
      `server CPU ${(serverCpu * 100).toFixed(0)} %, RSS ${rssEnd.toFixed(1)} MiB`,
  );
  for (const ws of sockets) ws.terminate();
  await sleep(2000);
  console.log(`after closing: RSS ${rss().toFixed(1)} MiB`);

  // 3. Hostile: one address holds half-sent requests and idle sockets; another pairs.
  /** @type {import('node:net').Socket[]} */
  const held = [];
  for (let i = 0; i < HALF + IDLE; i++) {
    const s = connect({ host: '127.0.0.1', port: PORT });
    s.on('error', () => {});
    if (i < HALF) s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    held.push(s);
    if (i % 500 === 499) await sleep(20);
  }
  await sleep(1000);
  const tPair = performance.now();
  const [a, b] = [await joinRoom('honestpairroom00000000', '127.0.0.2'), await joinRoom('honestpairroom00000000', '127.0.0.2')];
  const got = new Promise((resolve) => b.on('message', (m) => String(m).includes('"relay"') && resolve(undefined)));
  a.send(JSON.stringify({ type: 'relay', body: { kind: 'hello' } }));
  await got;
  const open = held.filter((s) => !s.destroyed && s.readyState === 'open').length;
  console.log(
    `hostile: ${HALF} half-sent + ${IDLE} idle from 127.0.0.1 (${open} still open after 1 s: the cap per address); ` +
      `a client from 127.0.0.2 joined and relayed in ${(performance.now() - tPair).toFixed(0)} ms`,
  );
  for (const s of [a, b]) s.terminate();
  for (const s of held) s.destroy();
} finally {
  for (const child of children) child.kill();
  rmSync(config, { recursive: true, force: true });
}
