/**
 * @file Several `pairwise serve --redis` nodes behind one address, for the scale-out test: a real
 * `redis-server` (Debian's package; missing is a failure, not a skip) on a free loopback port,
 * stopped by PID, and a TCP front that hands each new connection to the first node that accepts
 * it, as a proxy with health checks would. Pages keep one origin (the front's), so when a node
 * dies their reconnection reaches another node.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's `redis-server` package installs the server (`.ci/run` installs it). */
export const REDIS_SERVER = '/usr/bin/redis-server';

/** @returns {Promise<number>} a port nothing listens on now */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** @param {number} port @returns {Promise<boolean>} */
function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Starts `redis-server` on a free loopback port, without persistence, in a temp dir.
 * @returns {Promise<{ url: string, pid: number, stop: () => Promise<void> }>}
 */
export async function startRedis() {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: this test needs a real Redis. Install it with \`apt-get install redis-server\` (.ci/run does).`);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pairwise-e2e-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const until = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (Date.now() > until || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not listen on ${port}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const pid = /** @type {number} */ (child.pid);
  return {
    url: `redis://127.0.0.1:${port}`,
    pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP front on a free loopback port: each connection goes to the first of `ports` that
 * accepts it (a dead node refuses at once), bytes untouched, so `Host` and `Origin` name the
 * front and both ends see a plain connection.
 * @param {number[]} ports the nodes, in order of preference
 * @returns {Promise<{ origin: string, stop: () => Promise<void>, routed: () => number[] }>}
 *   `routed()`: how many connections went to each node
 */
export async function startFront(ports) {
  const routed = ports.map(() => 0);
  /** @type {Set<net.Socket>} */ const open = new Set();
  const server = net.createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    /** @param {number} i */
    const attempt = (i) => {
      if (i >= ports.length) return client.destroy();
      const upstream = net.connect(ports[i], '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        routed[i] += 1;
        open.add(upstream);
        upstream.once('close', () => open.delete(upstream));
        client.pipe(upstream);
        upstream.pipe(client);
      });
      upstream.on('error', () => {
        if (connected) client.destroy();
        else attempt(i + 1);
      });
      upstream.once('close', () => connected && client.destroy());
      client.once('close', () => upstream.destroy());
    };
    attempt(0);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  return {
    origin: `http://127.0.0.1:${port}`,
    routed: () => [...routed],
    async stop() {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
