/**
 * @file The NAT lab (tests/nat) with an emulated access link in front of home a, for
 * `bench/real-link.js`: the link settings (rows), the link emulator attached to home a's router
 * (`/work/shared/tools/link-emu`, `attach` mode: every packet between a1 and the outside crosses
 * it), its counters, a namespace's UDP receive-buffer drops, and the TCP reference (iperf3 from a1
 * to b1 through both NATs).
 *
 * lab.js reads PAIRWISE_NAT_PREFIX, PAIRWISE_NAT_STATE and PAIRWISE_BIN when it is loaded: set
 * them before importing this module (real-link.js does, then imports it dynamically).
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTS, nsName, sleep, spawnIn } from '../tests/nat/lab.js';

/** The link emulator's script (its binary: /tmp/link-emu-target/release/link-emu or LINK_EMU_BIN). */
export const EMU_SH = process.env.LINK_EMU_SH ?? '/work/shared/tools/link-emu/link-emu.sh';
/** The emulator's state (pid, log); link-emu.sh gets the same through LINK_EMU_STATE. */
export const EMU_STATE = process.env.LINK_EMU_STATE ?? '/tmp/link-emu-state/pwlk';
/** Home a's router: LAN side `br0` (a1's packets enter here: A->B), WAN side `wan` (B->A). */
const ROUTER = 'nat-a';

/**
 * A link setting. `emu` is link-emu's options (`--delay` is one-way: 10ms gives a 20 ms round
 * trip; loss applies to each direction), or null: no emulator at all.
 * @typedef {{ label: string, emu: string[] | null }} Row
 */

/** @type {Record<string, Row>} */
export const ROWS = {
  off: { label: 'no emulator', emu: null },
  d10r100: { label: 'RTT 20 ms, 100 Mbit/s', emu: ['--delay', '10ms', '--rate', '100mbit'] },
  d30r100: { label: 'RTT 60 ms, 100 Mbit/s', emu: ['--delay', '30ms', '--rate', '100mbit'] },
  d10l01r100: { label: 'RTT 20 ms, 0.1 % loss, 100 Mbit/s', emu: ['--delay', '10ms', '--loss', '0.1%', '--rate', '100mbit'] },
  d10l1r100: { label: 'RTT 20 ms, 1 % loss, 100 Mbit/s', emu: ['--delay', '10ms', '--loss', '1%', '--rate', '100mbit'] },
  d10r1000: { label: 'RTT 20 ms, 1 Gbit/s', emu: ['--delay', '10ms', '--rate', '1gbit'] },
};

/**
 * Runs link-emu.sh with our prefix and state; returns its output, throws when it fails.
 * @param {string[]} args
 */
function emuSh(args) {
  const r = spawnSync(EMU_SH, args, {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, LINK_EMU_PREFIX: process.env.LINK_EMU_PREFIX ?? 'pwlk-', LINK_EMU_STATE: EMU_STATE },
  });
  if (r.status !== 0) throw new Error(`link-emu.sh ${args.join(' ')} failed (${r.error ?? r.status}):\n${r.stdout}${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

const emuLog = () => join(EMU_STATE, 'emu.log');

/** The running daemon's PID, or null (none, or it died: then the link is ideal, `--queue-bypass`). */
export function emuPid() {
  try {
    const pid = Number(readFileSync(join(EMU_STATE, 'pid'), 'utf8'));
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/**
 * (Re)starts the emulator on home a's router with `row`'s settings, so its counters start at
 * zero; a row without settings detaches it. Returns the log's length before the new daemon's
 * lines (for {@link emuStats}).
 * @param {Row} row
 * @param {number} seed the loss pattern's seed
 */
export function emuStart(row, seed) {
  if (!row.emu) {
    emuDetach();
    return 0;
  }
  const from = existsSync(emuLog()) ? statSync(emuLog()).size : 0;
  emuSh(['attach', nsName(ROUTER), 'br0', 'wan', ...row.emu, '--seed', String(seed)]);
  return from;
}

/** Stops the emulator and removes its rules (idempotent; never throws). */
export function emuDetach() {
  try {
    emuSh(['detach', nsName(ROUTER)]);
  } catch (e) {
    console.error(/** @type {Error} */ (e).message);
  }
}

/**
 * @typedef {object} DirStats one direction's counters (A->B: a1 towards the outside)
 * @property {number} seen packets
 * @property {number} MB bytes seen, 10^6
 * @property {number} lost by the loss setting
 * @property {number} tailDropped at the bottleneck's full queue
 * @property {number} maxHeld most packets held at once (data in flight on the link)
 */

/**
 * The running emulator's counters since {@link emuStart} (it prints them on SIGUSR1), or
 * `{ died: true }` when the daemon is gone (packets then passed unshaped).
 * @param {number} from the log offset emuStart returned
 * @returns {Promise<{ ab?: DirStats, ba?: DirStats, died?: boolean }>}
 */
export async function emuStats(from) {
  const pid = emuPid();
  if (pid === null) return { died: true };
  process.kill(pid, 'SIGUSR1');
  /** @type {{ ab?: DirStats, ba?: DirStats }} */
  const got = {};
  const re = /link-emu: (A->B|B->A) seen (\d+) \(([\d.]+) MB.*? lost (\d+) .*?tail-dropped (\d+) released \d+ held-now \d+ max-held (\d+)/g;
  for (let i = 0; i < 20 && !(got.ab && got.ba); i++) {
    await sleep(100);
    const log = readFileSync(emuLog()).subarray(from).toString('utf8');
    for (const m of log.matchAll(re)) {
      got[m[1] === 'A->B' ? 'ab' : 'ba'] = { seen: +m[2], MB: +m[3], lost: +m[4], tailDropped: +m[5], maxHeld: +m[6] };
    }
  }
  return got;
}

/**
 * UDP datagrams dropped at a full socket receive buffer in lab namespace `ns` so far
 * (`RcvbufErrors` of `/proc/net/snmp` read inside it), or null.
 * @param {string} ns
 */
export function udpRcvbufErrors(ns) {
  const r = spawnSync('ip', ['netns', 'exec', nsName(ns), 'cat', '/proc/net/snmp'], { encoding: 'utf8', timeout: 10_000 });
  const [head, values] = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.split(/\s+/));
  const i = head?.indexOf('RcvbufErrors') ?? -1;
  return i > 0 && values ? Number(values[i]) : null;
}

/**
 * The link's own rate: iperf3 TCP a1 -> b1 of `bytes`, through both NATs (a port forward on
 * home b's router for this run only, so the packets take the same way as a direct WebRTC path).
 * The rate is iperf3's receiver side: the bytes that arrived before the sender had written its
 * last one, over that time. `cc`: the TCP congestion control (`-C`), default the system's.
 * @param {number} bytes
 * @param {string | undefined} cc
 * @param {(p: import('../tests/nat/lab.js').Proc) => void} track stops it at the cell's end
 * @returns {Promise<{ MBps: number, seconds: number, bytes: number, retransmits: number | null, cc: string | null }>}
 */
export async function tcpReference(bytes, cc, track) {
  const port = '5201';
  const forward = ['-t', 'nat', 'PREROUTING', '-i', 'wan', '-p', 'tcp', '--dport', port, '-j', 'DNAT', '--to-destination', HOSTS.b1];
  const ipt = (/** @type {string} */ op) =>
    spawnSync('ip', ['netns', 'exec', nsName('nat-b'), 'iptables', forward[0], forward[1], op, ...forward.slice(2)], { encoding: 'utf8' });
  const added = ipt('-A');
  if (added.status !== 0) throw new Error(`port forward on nat-b: ${added.stderr}`);
  try {
    const server = spawnIn('b1', 'iperf3', ['-s', '-1', '--forceflush', '-B', HOSTS.b1, '-p', port], { label: 'iperf3 -s (b1)' });
    track(server);
    await server.waitFor(/listening/i, 10_000, 'iperf3 listening');
    const client = spawnIn('a1', 'iperf3', ['-c', '203.0.113.20', '-p', port, '-n', String(bytes), '-J', '--connect-timeout', '5000', ...(cc ? ['-C', cc] : [])], {
      label: 'iperf3 -c (a1)',
    });
    track(client);
    const { code } = await client.exited;
    /** @type {any} */
    let j = {};
    try {
      j = JSON.parse(client.stdout());
    } catch {
      // reported below
    }
    const got = j.end?.sum_received;
    if (code !== 0 || !got) throw new Error(`iperf3 client exited ${code}: ${j.error ?? client.diagnose(800)}`);
    return { MBps: got.bits_per_second / 8e6, seconds: got.seconds, bytes: got.bytes, retransmits: j.end?.sum_sent?.retransmits ?? null, cc: j.end?.sender_tcp_congestion ?? null };
  } finally {
    ipt('-D');
  }
}
