/**
 * @file Starts the real `pairwise serve` binary on an ephemeral loopback port and stops it by
 * PID. Builds it with `cargo build -p pairwise-cli` when the binary is missing (the web app is
 * embedded in the binary, so `tests/e2e/run.sh` rebuilds before every run).
 *
 * With `{ tls: true }` it serves HTTPS (`--tls`) with a certificate generated into a fresh
 * configuration directory, and reports that certificate's file and SPKI hash, so browsers and
 * the CLI can trust exactly it.
 */

import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The server binary under test: PAIRWISE_BIN, else the debug build in CARGO_TARGET_DIR (as
 * `cargo build` puts it there), else in `target/`. */
export const BIN =
  process.env.PAIRWISE_BIN ?? join(resolve(ROOT, process.env.CARGO_TARGET_DIR ?? 'target'), 'debug', 'pairwise');

/** Builds the binary if it does not exist yet. */
export function ensureBuilt() {
  if (existsSync(BIN)) return;
  const r = spawnSync('cargo', ['build', '-p', 'pairwise-cli'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(BIN)) throw new Error(`cargo build -p pairwise-cli failed (status ${r.status})`);
}

/**
 * @typedef {object} Server
 * @property {string} origin e.g. `http://127.0.0.1:43210` (`https://` with TLS)
 * @property {string | null} certPath TLS only: the generated certificate (PEM), for `--server-cert`
 * @property {string | null} spki TLS only: base64 SHA-256 of the certificate's public key, for
 *   Chromium's `--ignore-certificate-errors-spki-list`
 * @property {number} pid
 * @property {() => string} output everything the server printed so far
 * @property {() => Promise<void>} stop kills the process (by PID) and waits for it
 */

/**
 * Starts `pairwise serve --listen 127.0.0.1:0` (with `--tls` and a temporary `--config` when
 * `tls`) and waits for its "serving on" line.
 * @param {{ timeoutMs?: number, tls?: boolean, port?: number, args?: string[], bin?: string }} [opts]
 *   `port`: a given one (a server started again where the last one was), else a free one; `args`:
 *   more `serve` options (e.g. `--redis URL`); `bin`: another build (a benchmark's "before")
 * @returns {Promise<Server>}
 */
export async function startServer({ timeoutMs = 30_000, tls = false, port = 0, args: more = [], bin = BIN } = {}) {
  if (bin === BIN) ensureBuilt();
  const config = tls ? mkdtempSync(join(tmpdir(), 'pairwise-e2e-config-')) : null;
  // Every page and CLI of a test comes from 127.0.0.1, as no two real devices do: the cap on
  // sessions started per address (a Rust test checks it, crates/pairwise-server/tests/hostile.rs)
  // would count a whole test file as one device.
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--joins-per-ip-minute', '0', ...(config ? ['--tls', '--config', config] : []), ...more];
  const child = spawn(bin, args, {
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
      const m = /Pairwise is serving on (https?:\/\/127\.0\.0\.1:\d+)\//.exec(out);
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
  const certPath = config ? join(config, 'tls-cert.pem') : null;
  return {
    origin,
    certPath,
    spki: certPath ? spkiHash(readFileSync(certPath, 'utf8')) : null,
    pid,
    output: () => out,
    async stop() {
      if (config) rmSync(config, { recursive: true, force: true });
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

/**
 * Base64 SHA-256 of a PEM certificate's SubjectPublicKeyInfo (what Chromium's
 * `--ignore-certificate-errors-spki-list` takes).
 * @param {string} pem
 * @returns {string}
 */
export function spkiHash(pem) {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
