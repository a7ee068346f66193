/**
 * @file Pairwise over an emulated access link: the NAT lab (tests/nat: two homes behind cone
 * NATs, `pairwise serve` with its embedded STUN/TURN in pub) with a link emulator on home a's
 * router (link-emu `attach`: one-way delay, loss, a bottleneck rate in front of a drop-tail
 * queue), so every packet between a1 and the rest of the lab crosses a home's access link. For
 * each link setting (row) and each cell, peer A in a1 sends one random file to peer B in b1. A
 * cell pairs as the NAT tests do (the QR link), checks the SHA-256 of what arrived and reports
 * MB/s (10^6 B/s) from the receiver's first file byte to its last (pairing excluded; the last is
 * the file complete and verified: a CLI's `saved`, a page's row `done`), the path each side
 * reports, the emulator's counters, the UDP receive-buffer drops in a1, b1 and pub (the relay),
 * a CLI receiver's peak RSS and the load average (the machine may be shared).
 *
 * Cells: tcp (iperf3 TCP a1 -> b1 through both NATs: the link's own rate), raw (a raw Chromium
 * data channel a1 -> b1, bench/lib.js rawCeiling, STUN from serve), cli-cli, cli-chromium,
 * chromium-cli, chromium-chromium, chromium-firefox, firefox-chromium (web app to web app), and
 * cli-cli-relay (both CLIs `--ice-policy relay`: through serve's embedded relay, default
 * `--relay-rate`). Direct cells are srflx <-> srflx through the two cone NATs.
 *
 *   sudo node bench/real-link.js [ROW...]   rows: off d10r100 d30r100 d10l01r100 d10l1r100 d10r1000
 *                                           (default d10r100 d30r100 d10l1r100)
 *   env: CELLS=tcp,raw,cli-cli,...  (default: all)   MIB_BROWSER=64 (raw and cells with a browser)
 *        (also FROM-TO-lN, e.g. cli-cli-l8, chromium-cli-l16, chromium-firefox-l0: the sender opens N
 *        lanes, protocol §12: PAIRWISE_LANES=N for a CLI, the page's `?lanes=N` for a browser; and
 *        FROM-TO[-lN]-unpaced: a sending page does not pace its lanes, `?pace=0`)
 *        MIB_CLI=128 (cli-cli, cli-cli-relay, cli-cli-lN, tcp)   CELL_TIMEOUT=240 (s)   OUT=/tmp/real-link.jsonl
 *        RAW_PACE=10 (MB/s: the raw cell's sender paces its messages; an experiment)
 *        SEED=1 (the emulator's loss pattern)   SERVE_ARGS='--relay-rate 0' (extra `serve` flags)
 *        TCP_CC=cubic (the tcp cell's congestion control; default the system's, e.g. bbr)
 *        PAIRWISE_BIN (default target/release/pairwise)
 *        KEEP_LOGS=DIR (each CLI's output, stdout and stderr, to DIR/ROW-CELL-send.log and -receive.log;
 *        with RUST_LOG=pairwise_cli=debug, what the CLI did)
 *
 * One JSON line per cell is appended to OUT, progress goes to stderr and a Markdown table (rows
 * by cells, MB/s) to stdout at the end. A cell that fails or times out records `error` (and the
 * bytes it reached) and the run goes on. The emulator is restarted for every cell (fresh
 * counters). Figures on a shared 2-core machine are indicative.
 *
 * Needs root, link-emu built (/tmp/link-emu-target/release/link-emu; its README), the NAT lab's
 * tools (iproute2, iptables, conntrack, coturn, curl), chromium, firefox-esr, iperf3 and the npm
 * dev dependencies. It builds its own lab (namespaces pwlk-*, state /tmp/pairwise-link, emulator
 * state /tmp/link-emu-state/pwlk) and takes it down at exit, also on errors and Ctrl-C.
 */

import { appendFileSync, copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as app from '../tests/e2e/harness/app.js';
import { Cleanup } from '../tests/e2e/harness/cleanup.js';
import { rawCeiling, watchPeak } from './lib.js';

// Our own lab, apart from any other on this machine: lab.js reads these when it is loaded.
process.env.PAIRWISE_NAT_PREFIX = 'pwlk-';
process.env.PAIRWISE_NAT_STATE = '/tmp/pairwise-link';
process.env.LINK_EMU_PREFIX = 'pwlk-';
// The binary under test is copied first: a build during the run (target/ is shared) must not
// swap it between cells.
const SOURCE_BIN = process.env.PAIRWISE_BIN ?? join(import.meta.dirname, '..', 'target', 'release', 'pairwise');
const BUILT = statSync(SOURCE_BIN).mtime.toISOString().slice(0, 19);
const binDir = mkdtempSync(join(tmpdir(), 'pwlk-bin-'));
process.on('exit', () => rmSync(binDir, { recursive: true, force: true }));
copyFileSync(SOURCE_BIN, join(binDir, 'pairwise'));
process.env.PAIRWISE_BIN = join(binDir, 'pairwise');
const { BIN, MiB, PUB_IP, SERVER_URL, lab, labDown, labUp, makeRandomFile, sha256File, spawnIn, startServer, tempDir, withTimeout } =
  await import('../tests/nat/lab.js');
const { ROWS, emuDetach, emuStart, emuStats, tcpReference, udpRcvbufErrors } = await import('./link-lab.js');
const { carriedBy, connectedLine, launchPeersIn, receiveTimes, watchReceive } = await import('../tests/nat/browser-lab.js');

/** @typedef {import('../tests/nat/lab.js').Proc} Proc */
/** @typedef {import('../tests/e2e/harness/peer.js').Peer} Peer */
/** @typedef {import('../tests/e2e/harness/files.js').TestFile} TestFile */
/** @typedef {import('../tests/nat/browser-lab.js').LabBrowser} LabBrowser */
/** @typedef {'cli' | 'chromium' | 'firefox'} Kind */
/**
 * @typedef {object} Ctx one cell's run
 * @property {TestFile} file
 * @property {Cleanup} cleanup
 * @property {string} name the row and cell (log file names)
 * @property {(f: () => Promise<number | null>) => void} probe how to read the bytes received so far
 */

const ALL_CELLS = ['tcp', 'raw', 'cli-cli', 'cli-chromium', 'cli-firefox', 'chromium-cli', 'chromium-chromium', 'chromium-firefox', 'firefox-chromium', 'cli-cli-relay'];
const rows = process.argv.slice(2).length ? process.argv.slice(2) : ['d10r100', 'd30r100', 'd10l1r100'];
const cells = process.env.CELLS ? process.env.CELLS.split(',').map((s) => s.trim()).filter(Boolean) : ALL_CELLS;
for (const r of rows) if (!ROWS[r]) throw new Error(`unknown row ${r}; rows: ${Object.keys(ROWS).join(' ')}`);
/**
 * `cli-cli-l4`, `chromium-cli-l4`: the sender opens 4 lanes (docs/protocol.md §12); `-l0`: none.
 * `-unpaced` (`chromium-cli-unpaced`, `chromium-cli-l16-unpaced`): a sending page does not pace
 * its lanes (`?pace=0`, the reference for `web/lib/proto/lane-pace.js`).
 */
const LANES_CELL = /^(cli|chromium|firefox)-(cli|chromium|firefox)(?:-l(\d+))?(-unpaced)?$/;
for (const c of cells) if (!ALL_CELLS.includes(c) && !LANES_CELL.test(c)) throw new Error(`unknown cell ${c}; cells: ${ALL_CELLS.join(' ')}`);
const MIB_BROWSER = Number(process.env.MIB_BROWSER || 64);
const MIB_CLI = Number(process.env.MIB_CLI || 128);
const TIMEOUT = Number(process.env.CELL_TIMEOUT || 240) * 1000;
const OUT = process.env.OUT || '/tmp/real-link.jsonl';
const SEED = Number(process.env.SEED || 1);
/** The tcp cell's congestion control (iperf3 -C), default the system's (`tcpCc` in each record). */
const TCP_CC = process.env.TCP_CC || undefined;
/** Extra `serve` flags, e.g. `--relay-rate 0` (the embedded relay's per-connection cap, 50 MB/s by default). */
const SERVE_ARGS = (process.env.SERVE_ARGS ?? '').split(/\s+/).filter(Boolean);
// The harness's own waits must not give up before the cell does.
app.T.transfer = TIMEOUT;

/** Cells that send MIB_CLI (the others MIB_BROWSER). @param {string} cell */
const cliOnly = (cell) => cell === 'tcp' || cell === 'cli-cli' || cell === 'cli-cli-relay' || /^cli-cli-l\d+$/.test(cell);
const log = (/** @type {string} */ s) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** @type {Cleanup | null} the running cell's, for Ctrl-C */
let current = null;
let shutDown = false;
const filesDir = tempDir('pwlk-files-');

/** Stops what the running cell started, the emulator and the lab; once. */
async function shutdown() {
  if (shutDown) return;
  shutDown = true;
  if (current) await withTimeout(current.run(), 30_000, 'clean-up').catch((e) => log(e.message));
  emuDetach();
  log(`lab down: ${labDown()} ms`);
  rmSync(filesDir, { recursive: true, force: true });
}
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    shutdown().finally(() => process.exit(130));
  });
}

/**
 * Launches the browsers of `kinds` (null: none) in a1 and b1 at once; every one that started is
 * closed at the cell's end, also when the other failed.
 * @param {Ctx} ctx
 * @param {(Kind | null)[]} kinds for a1, b1
 * @returns {Promise<(LabBrowser | null)[]>}
 */
async function launch(ctx, kinds) {
  const got = await Promise.allSettled(kinds.map((k, i) => (k && k !== 'cli' ? launchPeersIn(k, i === 0 ? 'a1' : 'b1') : Promise.resolve(null))));
  for (const g of got) if (g.status === 'fulfilled' && g.value) ctx.cleanup.track(g.value, (b) => b.close());
  const failed = got.find((g) => g.status === 'rejected');
  if (failed) throw /** @type {PromiseRejectedResult} */ (failed).reason;
  return got.map((g) => /** @type {PromiseFulfilledResult<LabBrowser | null>} */ (g).value);
}

/** @param {Ctx} ctx @param {LabBrowser} browser @param {string} name */
const newPeer = async (ctx, browser, name) => ctx.cleanup.track(await browser.newPeer(name, SERVER_URL), (p) => p.close());
/** @param {Ctx} ctx @param {string} prefix */
const dir = (ctx, prefix) => ctx.cleanup.track(tempDir(prefix), (d) => rmSync(d, { recursive: true, force: true }));

/** What a page says about its path, and what carried its bytes (its own getStats). @param {Peer} p */
async function pagePath(p) {
  const line = connectedLine(p);
  const c = await carriedBy(p).catch(() => null);
  const carried = c ? `${c.relayed ? 'relayed' : 'direct'} ${c.local} <-> ${c.remote}` : 'nothing';
  return { text: `${line ? `${line[1]} ${line[2]}/${line[3]}` : 'no connected line'} [bytes: ${carried}]`, relayed: !!c?.relayed || line?.[1] === 'relayed' };
}

/** A CLI's own `connected` line. @param {Proc} p */
function cliPath(p) {
  const ev = p.events().find((e) => e.event === 'connected');
  return { text: ev ? `${ev.path} ${ev.local}/${ev.remote}` : 'no connected event', relayed: ev?.path === 'relayed' || ev?.local === 'relay' };
}

/** The bytes a page's receive row shows. @param {Peer} p */
const rowBytes = (p) =>
  p.evaluate(() => {
    const bar = /** @type {HTMLProgressElement | null} */ (document.querySelector('#transfers li.transfer[data-direction=receive] progress'));
    return bar ? bar.value : null;
  });

/**
 * Starts sampling, in a receiving page, the longest time its receive row showed no new bytes
 * between the first and the last (the row redraws at most every 200 ms).
 * @param {Peer} p
 */
const watchStall = (p) =>
  p.evaluate(() => {
    const w = /** @type {any} */ (window);
    let [last, at] = [0, 0];
    w.__pwlkStall = 0;
    const timer = setInterval(() => {
      const li = document.querySelector('#transfers li.transfer[data-direction=receive]');
      const v = /** @type {HTMLProgressElement | null} */ (li?.querySelector('progress') ?? null)?.value ?? 0;
      const now = performance.now();
      if (v > last) [w.__pwlkStall, last, at] = [last > 0 ? Math.max(w.__pwlkStall, now - at) : 0, v, now];
      if (li?.getAttribute('data-state') === 'done') clearInterval(timer);
    }, 50);
  });

/** The same for a CLI receiver, from its progress events' own times (bytes / average rate). @param {Proc} r */
function cliStallMs(r) {
  const t = r.events().filter((e) => e.event === 'progress' && e.rate > 0).map((e) => (1000 * e.bytes) / e.rate);
  return Math.max(0, ...t.slice(1).map((x, i) => x - t[i]));
}

/**
 * A Pairwise transfer: A (`from`, in a1) shows the pairing link and sends, B (`to`, in b1) opens
 * it and receives, as tests/nat/browsers.test.js does.
 * @param {Ctx} ctx
 * @param {Kind} from
 * @param {Kind} to
 * @param {string[]} policy extra CLI flags (`--ice-policy relay`)
 * @param {string | null} [lanes] how many lanes the sender opens (null: as it decides)
 * @param {boolean} [unpaced] a sending page does not pace its lanes (`?pace=0`)
 */
async function transfer(ctx, from, to, policy, lanes = null, unpaced = false) {
  const env = lanes === null ? {} : { PAIRWISE_LANES: lanes };
  const { file } = ctx;
  const [browserA, browserB] = await launch(ctx, [from, to]);
  /** @param {Proc} p */
  const track = (p) => ctx.cleanup.track(p, (x) => x.stop());
  /** @type {Peer | null} */ let a = null;
  /** @type {Peer | null} */ let b = null;
  /** @type {Proc | null} */ let sender = null;
  /** @type {Proc | null} */ let receiver = null;
  /** @type {string} */ let link;
  if (browserA) {
    a = await newPeer(ctx, browserA, 'A');
    const query = new URLSearchParams();
    if (lanes !== null) query.set('lanes', lanes);
    if (unpaced) query.set('pace', '0');
    await a.goto(`${SERVER_URL}/${query.size > 0 ? `?${query}` : ''}`);
    link = await app.showPairingCode(a);
  } else {
    sender = track(spawnIn('a1', BIN, ['send', file.path, '--json', '--server', SERVER_URL, '--config', dir(ctx, 'pwlk-cfg-'), ...policy], { label: 'send (a1)', env }));
    link = (await sender.waitEvent('link', 30_000)).link;
  }
  const out = dir(ctx, 'pwlk-out-');
  const tOpen = performance.now();
  const tOpenWall = Date.now();
  /** @type {(() => number) | null} */ let peak = null;
  if (browserB) {
    b = await newPeer(ctx, browserB, 'B');
    await b.goto(link);
  } else {
    receiver = track(spawnIn('b1', BIN, ['receive', '--yes', link, '--dir', out, '--json', '--config', dir(ctx, 'pwlk-cfg-'), ...policy], { label: 'receive (b1)', env }));
    peak = watchPeak(receiver.pid);
  }
  /** @type {import('../tests/e2e/harness/peer.js').Witness[]} */
  const all = /** @type {any[]} */ ([a, b, sender, receiver].filter(Boolean));
  const others = (/** @type {unknown} */ me) => all.filter((w) => w !== me);
  await Promise.all([
    a ? app.waitPaired(a, others(a)) : /** @type {Proc} */ (sender).waitEvent('paired', 60_000),
    b ? app.waitPaired(b, others(b)) : /** @type {Proc} */ (receiver).waitEvent('paired', 60_000),
  ]);

  /** @type {Record<string, any>} */
  const res = {};
  /** @type {number | undefined} */ let first;
  /** @type {number | undefined} */ let last;
  if (b) {
    const page = b;
    await watchReceive(page);
    await watchStall(page);
    ctx.probe(() => rowBytes(page));
  } else {
    const r = /** @type {Proc} */ (receiver);
    ctx.probe(async () => r.events().filter((e) => e.event === 'progress').at(-1)?.bytes ?? 0);
  }
  if (a) await app.chooseFiles(a, [file.path]);
  if (b) {
    await app.acceptOffer(b, [file.name], others(b));
    await Promise.all([app.waitTransfer(b, 'receive', 'done', others(b)), app.waitReceived(b, [file.name], others(b))]);
    await app.assertReceivedIntact(b, [file]);
    const t = await receiveTimes(b);
    res.stallMs = Math.round(await b.evaluate(() => /** @type {any} */ (window).__pwlkStall));
    if (t.first !== null && t.done !== null) [first, last] = [t.first - tOpenWall + tOpen, t.done - tOpenWall + tOpen];
  } else {
    const r = /** @type {Proc} */ (receiver);
    const { code } = await r.exited;
    if (code !== 0 && process.env.KEEP_LOGS) writeFileSync(join(process.env.KEEP_LOGS, `${ctx.name}-receive-failed.log`), `${r.stdout()}\n--- stderr ---\n${r.stderr()}`);
    if (code !== 0) throw new Error(`${r.label} exited ${code}\n${r.diagnose(2000)}\n${sender?.diagnose(1000) ?? ''}${a ? await a.diagnose() : ''}`);
    const got = await sha256File(join(out, file.name));
    if (got.sha256 !== file.sha256 || got.size !== file.size) throw new Error(`received ${got.size} B, SHA-256 ${got.sha256}: not the file sent`);
    [first, last] = [r.eventTime('progress'), r.eventTime('saved')];
    res.stallMs = Math.round(cliStallMs(r));
  }
  // The sender must finish too; a sender that fails after the receiver verified is a warning.
  if (a) await app.waitTransfer(a, 'send', 'done', others(a)).catch((e) => (res.warning = `sender: ${e.message.split('\n')[0]}`));
  else {
    const s = /** @type {Proc} */ (sender);
    const { code } = await withTimeout(s.exited, 30_000, `${s.label} exiting`).catch(() => ({ code: 'still running' }));
    if (code !== 0) res.warning = `${s.label} exit ${code}`;
  }
  if (process.env.KEEP_LOGS) {
    for (const p of [a, b]) if (p) writeFileSync(join(process.env.KEEP_LOGS, `${ctx.name}-${p === a ? 'send' : 'receive'}-page.log`), p.logs.join('\n'));
    for (const p of [sender, receiver]) {
      if (p) writeFileSync(join(process.env.KEEP_LOGS, `${ctx.name}-${p.label.split(' ')[0]}.log`), `${p.stdout()}\n--- stderr ---\n${p.stderr()}`);
    }
  }
  if (first === undefined || last === undefined) throw new Error('no first or last byte time');
  const seconds = (last - first) / 1000;
  const paths = [a ? await pagePath(a) : cliPath(/** @type {Proc} */ (sender)), b ? await pagePath(b) : cliPath(/** @type {Proc} */ (receiver))];
  return {
    ...res,
    MBps: file.size / 1e6 / seconds,
    seconds,
    bytes: file.size,
    firstByteMs: Math.round(first - tOpen),
    path: { a: paths[0].text, b: paths[1].text },
    relayed: paths.some((p) => p.relayed),
    ...(peak ? { peakRssMiB: Math.round(peak()) } : {}),
  };
}

/** The raw Chromium data channel a1 -> b1 (no Pairwise), STUN from serve. @param {Ctx} ctx */
async function raw(ctx) {
  const [ba, bb] = /** @type {LabBrowser[]} */ (await launch(ctx, ['chromium', 'chromium']));
  const a = await newPeer(ctx, ba, 'A');
  const b = await newPeer(ctx, bb, 'B');
  // Any page of the lab's origin, so the init script records the connections (carriedBy).
  await Promise.all([a.goto(`${SERVER_URL}/healthz`), b.goto(`${SERVER_URL}/healthz`)]);
  const pace = Number(process.env.RAW_PACE || 0) * 1e6;
  const MBps = await rawCeiling(a, b, ctx.file.size, { iceServers: [{ urls: `stun:${PUB_IP}:8080` }], pace });
  const c = await carriedBy(a).catch(() => null);
  const path = c ? `${c.relayed ? 'relayed' : 'direct'} ${c.local} <-> ${c.remote}` : 'unknown';
  return { MBps, seconds: ctx.file.size / 1e6 / MBps, bytes: ctx.file.size, path: { a: path }, relayed: !!c?.relayed };
}

/** @param {string} cell @param {Ctx} ctx */
async function body(cell, ctx) {
  if (cell === 'tcp') {
    const r = await tcpReference(ctx.file.size, TCP_CC, (p) => ctx.cleanup.track(p, (x) => x.stop()));
    return { MBps: r.MBps, seconds: r.seconds, bytes: r.bytes, tcpRetransmits: r.retransmits, tcpCc: r.cc, path: 'iperf3 TCP a1 -> 203.0.113.20 (forwarded to b1)' };
  }
  ctx.cleanup.track(await startServer(SERVE_ARGS), (s) => s.stop());
  if (cell === 'raw') return raw(ctx);
  const lanes = LANES_CELL.exec(cell);
  if (lanes && (lanes[3] !== undefined || lanes[4])) {
    return transfer(ctx, /** @type {Kind} */ (lanes[1]), /** @type {Kind} */ (lanes[2]), [], lanes[3] ?? null, !!lanes[4]);
  }
  const [from, to] = /** @type {Kind[]} */ (cell.replace(/-relay$/, '').split('-'));
  return transfer(ctx, from, to, cell.endsWith('-relay') ? ['--ice-policy', 'relay'] : []);
}

/**
 * One cell of one row: emulator restarted, the cell bounded by TIMEOUT, counters, clean-up.
 * @param {string} row
 * @param {string} cell
 * @param {{ browser: TestFile | null, cli: TestFile | null }} files
 */
async function runCell(row, cell, files) {
  const file = /** @type {TestFile} */ (cliOnly(cell) ? files.cli : files.browser);
  /** @type {Record<string, any>} */
  const rec = { row, link: ROWS[row].label, cell, mib: file.size / MiB, at: new Date().toISOString(), built: BUILT };
  const cleanup = (current = new Cleanup());
  /** @type {() => Promise<number | null>} */
  let reached = async () => null;
  const from = emuStart(ROWS[row], SEED);
  const udp0 = { a1: udpRcvbufErrors('a1'), b1: udpRcvbufErrors('b1'), pub: udpRcvbufErrors('pub') };
  rec.load1 = Math.round(loadavg()[0] * 100) / 100; // the machine is shared: how busy it was
  const t0 = performance.now();
  try {
    Object.assign(rec, await withTimeout(body(cell, { file, cleanup, name: `${row}-${cell}`, probe: (f) => (reached = f) }), TIMEOUT, `cell ${row} ${cell}`));
  } catch (e) {
    const msg = /** @type {Error} */ (e).message;
    rec.error = msg.split('\n')[0].slice(0, 300);
    rec.bytes = await withTimeout(reached(), 5000, 'bytes reached').catch(() => null);
    log(`${row} ${cell} FAILED: ${msg.slice(0, 6000)}`);
  }
  rec.cellSeconds = Math.round(performance.now() - t0) / 1000;
  rec.emu = ROWS[row].emu ? await emuStats(from) : null;
  const delta = (/** @type {'a1' | 'b1' | 'pub'} */ ns) => {
    const [before, after] = [udp0[ns], udpRcvbufErrors(ns)];
    return before === null || after === null ? null : after - before;
  };
  rec.udpRcvbufErrors = { a1: delta('a1'), b1: delta('b1'), pub: delta('pub') };
  await withTimeout(cleanup.run(), 30_000, `clean-up of ${cell}`).catch((e) => log(e.message));
  current = null;
  appendFileSync(OUT, `${JSON.stringify(rec)}\n`);
  const e = rec.emu;
  log(`${row} ${cell.padEnd(17)} ${rec.error ? `error (${rec.bytes ?? '?'} B)` : `${rec.MBps.toFixed(2)} MB/s in ${rec.seconds.toFixed(1)} s${rec.stallMs ? `, longest stall ${rec.stallMs} ms` : ''}`}` +
    `${rec.relayed ? ' relayed' : ''}${e ? `; emu lost ${e.ab?.lost}/${e.ba?.lost} tail-dropped ${e.ab?.tailDropped}/${e.ba?.tailDropped} (A->B/B->A)${e.died ? ' DIED' : ''}` : ''}` +
    `; UDP rcvbuf errors a1/b1/pub ${Object.values(rec.udpRcvbufErrors).join('/')}; load ${rec.load1}${rec.peakRssMiB ? `; rss ${rec.peakRssMiB} MiB` : ''}`);
  return rec;
}

/**
 * The Markdown table: rows = link settings, columns = cells, MB/s. `FAIL (N MB)`: the cell failed
 * or timed out after N MB; `(relayed)`/`(direct)`: the path was not the one the cell means.
 * @param {Record<string, any>[]} results
 */
function table(results) {
  const cc = [...new Set(results.map((r) => r.tcpCc).filter(Boolean))].join('/');
  const head = cells.map((c) => (c === 'tcp' && cc ? `tcp (${cc})` : c));
  const lines = [`| link | ${head.join(' | ')} |`, `|---|${cells.map(() => '---:').join('|')}|`];
  for (const row of rows) {
    const vals = cells.map((cell) => {
      const r = results.find((x) => x.row === row && x.cell === cell);
      if (!r) return '–';
      if (r.error) return `FAIL${r.bytes ? ` (${Math.round(r.bytes / 1e6)} MB)` : ''}`;
      const odd = cell === 'cli-cli-relay' ? (r.relayed ? '' : ' (direct)') : r.relayed ? ' (relayed)' : '';
      return `${r.MBps.toFixed(1)}${odd}`;
    });
    lines.push(`| \`${row}\` ${ROWS[row].label} | ${vals.join(' | ')} |`);
  }
  const failed = results.filter((r) => r.error).map((r) => `- \`${r.row}\` ${r.cell}: ${r.error}`);
  return [...lines, ...(failed.length ? ['', 'Failures:', ...failed] : [])].join('\n');
}

/** @type {Record<string, any>[]} */
const results = [];
try {
  // One file per size the cells need.
  /** @type {Map<number, TestFile>} */
  const made = new Map();
  const fileOf = (/** @type {number} */ mib) => {
    if (!made.has(mib)) made.set(mib, makeRandomFile(filesDir, `link-${mib}MiB.bin`, mib * MiB));
    return /** @type {TestFile} */ (made.get(mib));
  };
  const need = (/** @type {boolean} */ cli) => (cells.some((c) => cliOnly(c) === cli) ? fileOf(cli ? MIB_CLI : MIB_BROWSER) : null);
  const files = { cli: need(true), browser: need(false) };
  log(`lab up: ${labUp()} ms; binary ${SOURCE_BIN} (built ${BUILT}; run from a copy); rows ${rows.join(' ')}; cells ${cells.join(' ')}; results to ${OUT}`);
  lab('nat', 'a', 'cone');
  lab('nat', 'b', 'cone');
  for (const row of rows) {
    log(`== ${row}: ${ROWS[row].label}${ROWS[row].emu ? ` (link-emu ${ROWS[row].emu?.join(' ')})` : ''}`);
    for (const cell of cells) results.push(await runCell(row, cell, files));
  }
} finally {
  await shutdown();
}
console.log(`\nPairwise over an emulated access link (bench/real-link.js), ${new Date().toISOString().slice(0, 10)}: MB/s, A in a1 -> B in b1;` +
  ` ${MIB_BROWSER} MiB with a browser, ${MIB_CLI} MiB CLI only and tcp; ${SOURCE_BIN} (built ${BUILT})\n`);
console.log(table(results));
