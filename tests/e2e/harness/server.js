/**
 * @file Starts the real `pairwise serve` binary on an ephemeral loopback port and stops it by
 * PID. Builds it with `cargo build -p pairwise-cli` when the binary is missing (the web app is
 * embedded in the binary, so `tests/e2e/run.sh` rebuilds before every run).
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The server binary under test (override with PAIRWISE_BIN). */
export const BIN = process.env.PAIRWISE_BIN ?? join(ROOT, 'target', 'debug', 'pairwise');

/** Builds the binary if it does not exist yet. */
export function ensureBuilt() {
  if (existsSync(BIN)) return;
  const r = spawnSync('cargo', ['build', '-p', 'pairwise-cli'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(BIN)) throw new Error(`cargo build -p pairwise-cli failed (status ${r.status})`);
}

/**
 * @typedef {object} Server
 * @property {string} origin e.g. `http://127.0.0.1:43210`
 * @property {number} pid
 * @property {() => string} output everything the server printed so far
 * @property {() => Promise<void>} stop kills the process (by PID) and waits for it
 */

/**
 * Starts `pairwise serve --listen 127.0.0.1:0` and waits for its "serving on" line.
 * @param {{ timeoutMs?: number }} [opts]
 * @returns {Promise<Server>}
 */
export async function startServer({ timeoutMs = 30_000 } = {}) {
  ensureBuilt();
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_BACKTRACE: '1' },
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (out += d));
  let exited = false;
  const exitedP = new Promise((resolve) => child.once('exit', () => resolve((exited = true))));
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pairwise serve did not announce its address within ${timeoutMs} ms. Output:\n${out}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Pairwise is serving on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`pairwise serve exited early (code ${code}, signal ${sig}). Output:\n${out}`));
    });
  });
  const pid = /** @type {number} */ (child.pid);
  return {
    origin,
    pid,
    output: () => out,
    async stop() {
      if (exited) return;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }, 3000);
      await exitedP;
      clearTimeout(t);
    },
  };
}
