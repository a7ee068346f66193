/**
 * @file Runs the real `pairwise` CLI binary (`send` / `receive`) next to the browsers: spawns it,
 * collects its output, waits for the pairing link it prints on stdout, decodes the QR code it
 * draws on stderr (half blocks, as a terminal shows it), and kills it by PID in clean-up;
 * `cliTools` gives tests with their own config dirs temp dirs, tracked runs and exit checks.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { BIN, ROOT, ensureBuilt } from './server.js';

/**
 * @typedef {object} CliRun
 * @property {number} pid
 * @property {() => string} stdout
 * @property {() => string} stderr
 * @property {(timeoutMs?: number) => Promise<string>} link resolves with the printed pairing link
 * @property {Promise<{ code: number | null, signal: string | null }>} exited
 * @property {(signal?: NodeJS.Signals) => void} kill
 * @property {() => string} diagnose the command, whether it ended, and the end of its output
 *   (for a failed wait's report, like a page's `diagnose`)
 */

/**
 * Starts `pairwise ARGS...`. Without `--config` in `args` (or PAIRWISE_CONFIG set), the run gets
 * its own temporary configuration directory (identity and paired devices), removed when it exits,
 * so tests never touch the real one.
 * @param {string[]} args
 * @param {{ cwd?: string }} [opts]
 * @returns {CliRun}
 */
export function runCli(args, { cwd = ROOT } = {}) {
  ensureBuilt();
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, RUST_BACKTRACE: '1' };
  let ownConfig = '';
  if (!args.includes('--config') && !env.PAIRWISE_CONFIG) {
    ownConfig = mkdtempSync(join(tmpdir(), 'pairwise-config-'));
    env.PAIRWISE_CONFIG = ownConfig;
  }
  const child = spawn(BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  /** @type {Promise<{ code: number | null, signal: string | null }>} */
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  exited.then(() => {
    done = true;
    if (ownConfig) rmSync(ownConfig, { recursive: true, force: true });
  });
  return {
    pid: /** @type {number} */ (child.pid),
    stdout: () => out,
    stderr: () => err,
    exited,
    kill(signal = 'SIGKILL') {
      if (!done) process.kill(/** @type {number} */ (child.pid), signal);
    },
    diagnose() {
      const ended = done ? 'ended' : 'still running';
      return `--- pairwise ${args.join(' ')} (${ended}) ---\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-3000)}`;
    },
    async link(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const m = /(https?:\/\/\S+#pair=\S+)/.exec(out);
        if (m) return m[1];
        if (done) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`pairwise ${args.join(' ')} printed no link.\nstdout:\n${out}\nstderr:\n${err}`);
    },
  };
}

/**
 * What tests that run the CLI with their own config dirs share: temporary dirs that `cleanup`
 * removes, `pairwise --config CFG ARGS...` runs that `cleanup` kills, and an exit-code check
 * that shows the end of the run's output when it fails.
 * @param {import('./cleanup.js').Cleanup} cleanup
 */
export function cliTools(cleanup) {
  return {
    /** @param {string} prefix */
    tempDir: (prefix) => cleanup.track(mkdtempSync(join(tmpdir(), prefix)), (d) => rmSync(d, { recursive: true, force: true })),
    /** @param {string} cfg @param {string[]} args */
    cli: (cfg, args) => cleanup.track(runCli(['--config', cfg, ...args]), (r) => r.kill()),
    /** @param {CliRun} run @param {number} want */
    exitsWith: async (run, want) => {
      const { code, signal } = await run.exited;
      assert.equal(code, want, `pairwise exited with ${code ?? signal}, expected ${want}.\nstdout:\n${run.stdout().slice(-3000)}\nstderr:\n${run.stderr().slice(-3000)}`);
    },
  };
}

/** The colours `term_qr.rs` draws every line of the code in: black glyphs on white. */
const QR_COLOURS = '\x1b[38;5;16;48;5;231m';

/**
 * Decodes the QR code drawn with half blocks in `text`: the lines drawn black on white (the
 * glyphs are the dark modules, the white background the light ones). Throws if the code is
 * taller than an 80×24 terminal.
 * @param {string} text terminal output containing the code
 * @returns {string}
 */
export function decodeTerminalQr(text) {
  const rows = text
    .split('\n')
    .filter((l) => l.startsWith(QR_COLOURS))
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
  if (rows.length === 0) throw new Error('no QR code in the terminal output');
  if (rows.length > 24) throw new Error(`the terminal QR code is ${rows.length} lines tall`);
  const scale = 4;
  const w = [...rows[0]].length * scale;
  const h = rows.length * 2 * scale;
  const px = new Uint8ClampedArray(w * h * 4);
  rows.forEach((row, r) => {
    [...row].forEach((ch, x) => {
      const dark = [ch === '█' || ch === '▀', ch === '█' || ch === '▄'];
      for (let half = 0; half < 2; half++) {
        const v = dark[half] ? 0 : 255;
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const i = (((r * 2 + half) * scale + dy) * w + x * scale + dx) * 4;
            px[i] = px[i + 1] = px[i + 2] = v;
            px[i + 3] = 255;
          }
        }
      }
    });
  });
  const code = jsQR(px, w, h, { inversionAttempts: 'dontInvert' });
  if (!code) throw new Error('the terminal QR code does not decode');
  return code.data;
}

/**
 * `pairwise --config DIR ARGS...` with stdin a pipe (a person's answers: `child.stdin.end('y\n')`),
 * its own config dir (`config`, removed by `cleanup`), its output collected; a witness for a
 * page's waits (`diagnose`). For the pairing-by-code tests, where the CLI asks on stdin.
 * @param {import('./cleanup.js').Cleanup} cleanup
 * @param {string[]} args
 */
export function answeringCli(cleanup, args) {
  ensureBuilt();
  const config = cleanup.track(mkdtempSync(join(tmpdir(), 'pairwise-code-')), (d) => rmSync(d, { recursive: true, force: true }));
  const child = spawn(BIN, ['--config', config, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PAIRWISE_SERVER: '' } });
  cleanup.track(child, (c) => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const diagnose = () => `--- pairwise ${args.join(' ')} ---\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-3000)}`;
  /**
   * The first capture of `re` in stdout or stderr, within 60 s.
   * @param {'out' | 'err'} stream
   * @param {RegExp} re
   */
  const waitFor = async (stream, re) => {
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const m = re.exec(stream === 'out' ? out : err);
      if (m) return m[1];
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no ${re} in ${stream}.\n${diagnose()}`);
  };
  return { child, exited, waitFor, diagnose, stderr: () => err, config };
}
