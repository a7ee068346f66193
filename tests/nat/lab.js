/**
 * @file Helpers for the NAT lab tests (`tests/nat/*.test.js`): drive `lab.sh`, run programs
 * inside lab namespaces and keep their output, bounded waits, random files and SHA-256, TURN
 * REST credentials, `pairwise serve` in `pub`, and Chromium inside a namespace (playwright-core).
 *
 * Everything here runs inside the lab's own network namespaces (`ip netns exec`); nothing talks
 * to the root namespace's network. Needs root.
 */

import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashFile, writeRandomFile } from '../e2e/harness/files.js';

/** This directory (`tests/nat`). */
export const HERE = dirname(fileURLToPath(import.meta.url));
/** Repository root. */
export const ROOT = join(HERE, '..', '..');
/** The binary under test (override with PAIRWISE_BIN). */
export const BIN = process.env.PAIRWISE_BIN ?? join(ROOT, 'target', 'debug', 'pairwise');
/** The lab script. */
export const LAB_SH = join(HERE, 'lab.sh');
/** Namespace name prefix (lab.sh reads the same variable). */
export const PREFIX = process.env.PAIRWISE_NAT_PREFIX ?? 'pw-nat-';
/** lab.sh's state directory: coturn's logs and the TURN REST secret (`turn-secret`). */
export const STATE = process.env.PAIRWISE_NAT_STATE ?? '/tmp/pairwise-nat';
/** The "public" address: coturn on :3478, the server under test on :8080. */
export const PUB_IP = '203.0.113.1';
/** Where `startServer` serves. */
export const SERVER_URL = `http://${PUB_IP}:8080`;
/** The file lab.sh writes the coturn REST secret to (for `serve --turn-secret-file`). */
export const TURN_SECRET_FILE = join(STATE, 'turn-secret');
/** coturn's log (session lines: allocations, permissions, why a session closed). */
export const TURN_LOG = join(STATE, 'turnserver.log');
/** Every host a test can use, with its address. */
export const HOSTS = /** @type {const} */ ({ a1: '198.51.100.11', a2: '198.51.100.12', b1: '198.51.100.140' });

export const MiB = 1024 * 1024;

/** @param {string} ns short (`a1`) or full (`pw-nat-a1`) namespace name */
export const nsName = (ns) => (ns.startsWith(PREFIX) ? ns : PREFIX + ns);

/** @returns {boolean} */
export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Runs `lab.sh ARGS...` and returns its stdout; throws with its output when it fails.
 * @param {...string} args
 * @returns {string}
 */
export function lab(...args) {
  const r = spawnSync(LAB_SH, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(`lab.sh ${args.join(' ')} failed (${r.error ?? `status ${r.status}, signal ${r.signal}`}):\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

/** `lab.sh status`, for failure reports; never throws. */
export function labStatus() {
  const r = spawnSync(LAB_SH, ['status'], { encoding: 'utf8', timeout: 10_000 });
  return `--- lab.sh status ---\n${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** Brings the lab up; returns how long it took (ms). */
export function labUp() {
  const t0 = performance.now();
  lab('up');
  return Math.round(performance.now() - t0);
}

/** Takes the lab down (idempotent); returns how long it took (ms); never throws. */
export function labDown() {
  const t0 = performance.now();
  const r = spawnSync(LAB_SH, ['down'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) console.error(`lab.sh down failed:\n${r.stdout}${r.stderr}`);
  return Math.round(performance.now() - t0);
}

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves with `promise`, or rejects after `ms` with "`what` did not finish within ms".
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, limit]).finally(() => clearTimeout(timer)));
}

/**
 * Polls `check` until it returns a truthy value (returned) or `ms` pass (throws).
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {number} ms
 * @param {string} what what we wait for, for the error
 * @param {number} [every]
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitUntil(check, ms, what, every = 100) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return /** @type {NonNullable<T>} */ (v);
    if (Date.now() >= until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(every);
  }
}

/**
 * The environment for programs in the lab: ours, minus the `PAIRWISE_*` variables the binary
 * reads (`PAIRWISE_SERVER`, `PAIRWISE_TURN`, `PAIRWISE_CONFIG`, ...), so a developer's shell
 * cannot change what a cell runs. The lab's own (`PAIRWISE_NAT_*`, `PAIRWISE_BIN`,
 * `PAIRWISE_CHROMIUM`) stay.
 * @returns {NodeJS.ProcessEnv}
 */
export function labEnv() {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PAIRWISE_') || /^PAIRWISE_(NAT_|BIN$|CHROMIUM$)/.test(k)),
  );
}

/**
 * @typedef {object} Proc A program running in a lab namespace.
 * @property {string} label short name for reports (`serve`, `send a1`, ...)
 * @property {number} pid the program itself (`ip netns exec` execs it)
 * @property {() => string} stdout
 * @property {() => string} stderr
 * @property {() => boolean} running
 * @property {Promise<{ code: number | null, signal: string | null, ms: number }>} exited
 *   `ms`: run time from spawn to exit
 * @property {() => Record<string, any>[]} events the JSON objects printed one per line on stdout
 *   (`--json`), in order
 * @property {(name: string) => number | undefined} eventTime when (`performance.now()`) the first
 *   `{"event": name}` line arrived
 * @property {(pred: RegExp | ((p: Proc) => unknown), ms: number, what: string) => Promise<any>} waitFor
 *   waits until stdout matches `pred` (returns the match) or `pred(proc)` is truthy (returned);
 *   fails early, with the output, if the program exits first
 * @property {(name: string, ms: number) => Promise<Record<string, any>>} waitEvent waits for the
 *   first `--json` event `{"event": name, ...}`
 * @property {(signal?: NodeJS.Signals) => void} kill by PID, if still running
 * @property {(ms?: number) => Promise<void>} stop SIGTERM, SIGKILL after `ms`, waits for the exit
 * @property {(chars?: number) => string} diagnose command, state and the tail of both outputs
 */

/**
 * Starts `CMD ARGS...` in lab namespace `ns` (`ip netns exec`), collecting its output.
 * @param {string} ns
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ label?: string, env?: NodeJS.ProcessEnv, cwd?: string }} [opts]
 * @returns {Proc}
 */
export function spawnIn(ns, cmd, args, { label, env, cwd = ROOT } = {}) {
  const t0 = performance.now();
  const child = spawn('ip', ['netns', 'exec', nsName(ns), cmd, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...labEnv(), RUST_BACKTRACE: '1', NO_COLOR: '1', ...env },
  });
  let out = '';
  let err = '';
  /** @type {{ at: number, event: Record<string, any> }[]} */
  const events = [];
  let parsed = 0; // how much of `out` was split into lines
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    const at = performance.now();
    for (let nl = out.indexOf('\n', parsed); nl >= 0; nl = out.indexOf('\n', parsed)) {
      const line = out.slice(parsed, nl);
      parsed = nl + 1;
      if (!line.startsWith('{')) continue;
      try {
        events.push({ at, event: JSON.parse(line) });
      } catch {
        // not an event
      }
    }
  });
  child.stderr.on('data', (d) => (err += d));
  let done = false;
  /** @type {Proc['exited']} */
  const exited = new Promise((resolve) => {
    child.once('error', (e) => {
      err += `\n[spawn failed: ${e.message}]`;
      done = true;
      resolve({ code: null, signal: null, ms: Math.round(performance.now() - t0) });
    });
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal, ms: Math.round(performance.now() - t0) });
    });
  });
  const name = label ?? `${cmd.split('/').pop()} ${args[0] ?? ''} (${ns})`;
  /** @type {Proc} */
  const proc = {
    label: name,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    running: () => !done,
    exited,
    events: () => events.map((e) => e.event),
    eventTime(name) {
      return events.find((e) => e.event.event === name)?.at;
    },
    async waitFor(pred, ms, what) {
      const until = Date.now() + ms;
      for (;;) {
        const v = pred instanceof RegExp ? pred.exec(out) : pred(proc);
        if (v) return v;
        if (done) {
          // one last look: output may have arrived with the exit
          const last = pred instanceof RegExp ? pred.exec(out) : pred(proc);
          if (last) return last;
          const { code, signal } = await exited;
          throw new Error(`${name} exited (${code ?? signal}) before ${what}`);
        }
        if (Date.now() >= until) throw new Error(`timed out after ${ms} ms waiting for ${what} from ${name}`);
        await sleep(50);
      }
    },
    waitEvent(event, ms) {
      return proc.waitFor((p) => p.events().find((e) => e.event === event), ms, `its "${event}" event`);
    },
    kill(signal = 'SIGKILL') {
      if (done || !child.pid) return;
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    },
    async stop(ms = 3000) {
      if (done) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(t);
    },
    diagnose(chars = 3000) {
      return `--- ${name}: ${[cmd, ...args].join(' ')} [pid ${child.pid}, ${done ? 'ended' : 'still running'}] ---\n` +
        `stdout (tail):\n${out.slice(-chars)}\nstderr (tail):\n${err.slice(-chars)}`;
    },
  };
  return proc;
}

/**
 * Runs `CMD ARGS...` in `ns` to completion, bounded by `ms` (killed after that).
 * @param {string} ns
 * @param {string} cmd
 * @param {string[]} args
 * @param {number} [ms]
 * @returns {Promise<{ code: number | null, signal: string | null, ms: number, stdout: string, stderr: string }>}
 */
export async function runIn(ns, cmd, args, ms = 30_000) {
  const p = spawnIn(ns, cmd, args);
  const t = setTimeout(() => p.kill('SIGKILL'), ms);
  const r = await p.exited;
  clearTimeout(t);
  return { ...r, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * Waits until `url` answers 2xx to curl run inside `ns`.
 * @param {string} ns
 * @param {string} url
 * @param {number} ms
 * @param {Proc} [server] if given, its early exit ends the wait with its output
 */
export async function waitHttp(ns, url, ms, server) {
  const until = Date.now() + ms;
  for (;;) {
    const r = await runIn(ns, 'curl', ['-fsS', '-o', '/dev/null', '--max-time', '1', url], 5000);
    if (r.code === 0) return;
    if (server && !server.running()) throw new Error(`${server.label} exited before ${url} answered\n${server.diagnose()}`);
    if (Date.now() >= until) throw new Error(`${url} did not answer from ${ns} within ${ms} ms (last: ${r.stderr.trim()})`);
    await sleep(200);
  }
}

/**
 * Starts `pairwise serve --listen 203.0.113.1:8080 --insecure-http EXTRA...` in `pub` with a
 * temporary `--config` and waits (from `a1`) for `/healthz`.
 * @param {string[]} [extra] e.g. `['--no-relay']`
 * @param {{ timeoutMs?: number }} [opts]
 * @returns {Promise<Proc & { ms: number }>} `ms`: start to healthy
 */
export async function startServer(extra = [], { timeoutMs = 20_000 } = {}) {
  const t0 = performance.now();
  const config = tempDir('pairwise-nat-serve-');
  const server = spawnIn('pub', BIN, ['serve', '--listen', `${PUB_IP}:8080`, '--insecure-http', '--config', config, ...extra], { label: 'serve (pub)' });
  server.exited.then(() => rmSync(config, { recursive: true, force: true }));
  try {
    await waitHttp('a1', `${SERVER_URL}/healthz`, timeoutMs, server);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return Object.assign(server, { ms: Math.round(performance.now() - t0) });
}

/**
 * A fresh temporary directory (the caller removes it).
 * @param {string} prefix
 */
export const tempDir = (prefix) => mkdtempSync(join(tmpdir(), prefix));

/** Writes `size` random bytes to `dir/name`: `{ name, path, size, sha256 }` (the e2e harness's). */
export const makeRandomFile = writeRandomFile;

/** SHA-256 and size of a file: `Promise<{ sha256, size }>` (the e2e harness's). */
export const sha256File = hashFile;

/** The coturn REST secret of the running lab. */
export const turnSecret = () => readFileSync(TURN_SECRET_FILE, 'utf8').trim();

/**
 * TURN REST API credentials (what coturn's `use-auth-secret` checks): username
 * `<unix expiry>:<id>`, password base64(HMAC-SHA1(secret, username)).
 * @param {string} secret
 * @param {string} id
 * @param {number} [ttlSeconds]
 * @returns {{ username: string, credential: string }}
 */
export function turnCredential(secret, id, ttlSeconds = 3600) {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${id}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}

/** Flags of every lab Chromium (see README.md, "Chromium in a namespace"). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Raw host addresses in ICE candidates instead of "<uuid>.local" mDNS names.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // WebCrypto (the app's pairing) needs a secure context; plain http on 203.0.113.1 is not one.
  `--unsafely-treat-insecure-origin-as-secure=${SERVER_URL}`,
];

/**
 * Launches headless Debian Chromium inside lab namespace `ns` through playwright-core:
 * `executablePath` is `chromium-ns.sh`, which runs `ip netns exec NS /usr/bin/chromium "$@"`
 * (file descriptors survive, so Playwright's `--remote-debugging-pipe` works). Playwright gives
 * every launch a fresh temporary `--user-data-dir` and removes it on close.
 * @param {string} ns
 * @param {{ args?: string[], timeoutMs?: number, chromium?: string }} [opts] `args` are added to
 *   {@link CHROMIUM_ARGS}; `chromium` overrides `/usr/bin/chromium` (or PAIRWISE_CHROMIUM)
 * @returns {Promise<import('playwright-core').Browser>}
 */
export async function launchChromiumIn(ns, { args = [], timeoutMs = 60_000, chromium: exe } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: join(HERE, 'chromium-ns.sh'),
    env: {
      ...process.env,
      PAIRWISE_NAT_NS: nsName(ns),
      PAIRWISE_CHROMIUM: exe ?? process.env.PAIRWISE_CHROMIUM ?? '/usr/bin/chromium',
    },
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    timeout: timeoutMs,
  });
}
