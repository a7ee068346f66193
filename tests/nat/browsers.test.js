/**
 * @file Browsers across real Linux NATs (tests/nat/lab.sh): Chromium and Firefox run inside the
 * lab's home namespaces (`browser-lab.js`), `pairwise serve` in `pub` hands them ICE servers (its
 * embedded STUN/TURN, or the lab's coturn), and each cell pairs two devices the way a person does
 * (the initiator's QR code, decoded from a screenshot, equals its link; the other device opens
 * the link; both show the same code), sends 4 MiB of random bytes, checks the receiver's bytes
 * (SHA-256 in the page, or of the file the CLI wrote) and the path both sides show: each transfer
 * row's `data-path` (and its stats text) in a page, the `{"event":"connected","path":…}` line of
 * a CLI. Cells with a CLI run the real `pairwise send`/`receive` in the other home.
 *
 * The user steps come from the e2e harness (`tests/e2e/harness/app.js`: `showPairingCode`,
 * `waitPaired`, `sendAndVerify`, `acceptOffer`, …; `peer.js` `Peer`); only the browser launchers
 * are the lab's own (the e2e ones refuse to start outside the e2e loopback namespace).
 *
 * A cell with a known product problem (`known`) runs as a node:test TODO: it reports, but does not
 * fail the run; PAIRWISE_NAT_STRICT=1 makes it count. The `after` hook prints one line per cell:
 * the path with each side's view (page: console candidate types, row `data-path`, and the
 * candidate pair that carried the most bytes by the page's own statistics; CLI: its `connected`
 * line) and the times.
 *
 * PAIRWISE_NAT_CELLS=cone-cone,sym-sym runs only those cells. Needs root; run through
 * tests/nat/run.sh (`PAIRWISE_NAT_NO_BUILD=1 tests/nat/run.sh tests/nat/browsers.test.js`).
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  acceptOffer, assertReceivedIntact, chooseFiles, sendAndVerify, showPairingCode, waitPaired, waitReceived, waitTransfer,
} from '../e2e/harness/app.js';
import { Cleanup } from '../e2e/harness/cleanup.js';
import { carriedBy, connectedLine, launchPeersIn, receiveTimes, rowPaths, watchReceive } from './browser-lab.js';
import {
  BIN, MiB, SERVER_URL, TURN_SECRET_FILE, isRoot, lab, labDown, labStatus, labUp, makeRandomFile, sha256File, spawnIn,
  startServer, tempDir, withTimeout,
} from './lab.js';

/** @typedef {'cone' | 'symmetric'} NatKind */
/** @typedef {import('../e2e/harness/peer.js').Peer} Peer */
/** @typedef {import('./lab.js').Proc} Proc */
/**
 * One device: a browser in a lab host, or the CLI.
 * @typedef {{ kind: 'chromium' | 'firefox' | 'cli', ns: 'a1' | 'a2' | 'b1' }} Side
 */
/**
 * @typedef {object} Cell
 * @property {string} name
 * @property {Side} init shows the QR code (a CLI: `send FILE`, which prints the link) and sends
 * @property {Side} resp opens the link (a CLI: `receive LINK`) and receives
 * @property {[NatKind, NatKind]} nat homes a and b
 * @property {'embedded' | 'coturn' | 'coturn-tcp'} relay where the ICE servers come from (see
 *   matrix.test.js); `coturn-tcp`: coturn reached over TCP only, no STUN
 * @property {boolean} [forceRelay] both pages are opened with `?ice=relay`
 * @property {boolean} [udpBlocked] both homes send no UDP to the wan (`lab.sh udp a|b block`):
 *   only TCP leaves; each page's bytes must go through a relay candidate it reaches over TCP
 * @property {'direct' | 'relayed'} expect the path every side must show
 * @property {RegExp} [types] every page's `local/remote` candidate types (its console line
 *   `connected PATH (local/remote)`) must match
 * @property {string} [known] a known product problem makes this cell fail (often or always): it
 *   still runs and reports, as a node:test TODO that does not fail the run
 *   (PAIRWISE_NAT_STRICT=1 counts it)
 */

/** @type {Record<Cell['relay'], string[]>} */
const SERVE_ARGS = {
  embedded: [],
  coturn: ['--no-relay', '--turn', 'turn:203.0.113.1:3478', '--stun', 'stun:203.0.113.1:3478', '--turn-secret-file', TURN_SECRET_FILE],
  'coturn-tcp': ['--no-relay', '--turn', 'turn:203.0.113.1:3478?transport=tcp', '--turn-secret-file', TURN_SECRET_FILE],
};

/**
 * Why chromium-cli-cone-cone mostly goes relayed (README.md, `browsers.test.js`): Chromium offers,
 * so it is the controlling ICE agent and nominates the first pair that works, which through two
 * cone NATs is the one through the relay (the direct pair needs both sides' checks to have
 * opened both NATs, ~200 ms later). The CLI is the controlled agent, and webrtc-rs (rtc-ice
 * 0.21.1, agent_selector.rs: `if self.get_selected_pair().is_none()`) keeps the first nominated
 * pair forever, so the CLI sends through the relay for the whole session, even after Chromium
 * nominated the direct pair. Both sides then report `relayed` (and Chromium's own bytes may go
 * direct: the path is mixed).
 */

/** @type {(ns: Side['ns']) => Side} */
const chromium = (ns) => ({ kind: 'chromium', ns });
/** @type {(ns: Side['ns']) => Side} */
const firefox = (ns) => ({ kind: 'firefox', ns });
/** @type {(ns: Side['ns']) => Side} */
const cli = (ns) => ({ kind: 'cli', ns });

/** @type {Cell[]} */
const CELLS = [
  // Same LAN: host candidates on both ends (the pages say "direct"; the console names the types).
  // The remote end may read `prflx`: the other's check arrived before its candidate.
  { name: 'same-lan', init: chromium('a1'), resp: chromium('a2'), nat: ['cone', 'cone'], relay: 'embedded', expect: 'direct', types: /^host\/(host|prflx)$/ },
  { name: 'cone-cone', init: chromium('a1'), resp: chromium('b1'), nat: ['cone', 'cone'], relay: 'embedded', expect: 'direct' },
  { name: 'sym-sym', init: chromium('a1'), resp: chromium('b1'), nat: ['symmetric', 'symmetric'], relay: 'embedded', expect: 'relayed' },
  // Both pages relay-only: each side's own candidate must be a relay, not just the other's.
  {
    name: 'relay-forced-coturn', init: chromium('a1'), resp: chromium('b1'), nat: ['cone', 'cone'], relay: 'coturn', forceRelay: true,
    expect: 'relayed', types: /^relay\//,
  },
  { name: 'chromium-firefox-cone-sym', init: chromium('a1'), resp: firefox('b1'), nat: ['cone', 'symmetric'], relay: 'embedded', expect: 'relayed' },
  { name: 'cli-chromium-sym-sym', init: cli('a1'), resp: chromium('b1'), nat: ['symmetric', 'symmetric'], relay: 'embedded', expect: 'relayed' },
  // Chromium offers (controlling) to the CLI (controlled): the CLI checks Chromium's relayed
  // candidates a second late (session/candidates.rs), so the direct pair is the first that works.
  { name: 'chromium-cli-cone-cone', init: chromium('a1'), resp: cli('b1'), nat: ['cone', 'cone'], relay: 'embedded', expect: 'direct' },
  // The same two NATs with the CLI offering (controlling): it nominates, the direct pair wins.
  { name: 'cli-chromium-cone-cone', init: cli('a1'), resp: chromium('b1'), nat: ['cone', 'cone'], relay: 'embedded', expect: 'direct' },
  // No UDP leaves either home: the only way is TURN over TCP to coturn, each page's own candidate
  // a relay (the CLI cannot: webrtc-rs skips TURN URLs that are not UDP, see matrix.test.js).
  {
    name: 'udp-blocked', init: chromium('a1'), resp: chromium('b1'), nat: ['cone', 'cone'], relay: 'coturn-tcp', udpBlocked: true,
    expect: 'relayed', types: /^relay\//,
  },
  {
    name: 'udp-blocked-firefox', init: chromium('a1'), resp: firefox('b1'), nat: ['cone', 'cone'], relay: 'coturn-tcp', udpBlocked: true,
    expect: 'relayed', types: /^relay\//,
  },
];

const ONLY = process.env.PAIRWISE_NAT_CELLS?.split(',').map((s) => s.trim()).filter(Boolean);
const STRICT = process.env.PAIRWISE_NAT_STRICT === '1';
/** 4 MiB; `PAIRWISE_NAT_FILE_MIB` makes it larger for `bench/nat-browsers.sh`. */
const FILE_SIZE = Number(process.env.PAIRWISE_NAT_FILE_MIB || 4) * MiB;

/**
 * Bounds in ms. Inside a cell the harness's own waits are bounded too (`app.js` `T`: pairing
 * 60 s, UI 20 s, transfer 180 s); `cell` cuts them short, clean-up gets `cleanup` on top.
 */
const T = {
  link: 30_000, // the CLI prints its link
  cliExit: 90_000, // a CLI exits once the page is done (or the CLI receiver gets the file)
  cell: 100_000, // one cell, NATs to checks
  cleanup: 30_000,
};

/**
 * @typedef {object} CellResult
 * @property {string} name
 * @property {string} outcome `direct`/`relayed` with each side's view, or `FAILED`
 * @property {number} [launchMs] both browsers started
 * @property {number} [pairMs] the link opened until both sides are paired (same code)
 * @property {number} [firstByteMs] the link opened until the receiver's first file byte
 * @property {number} [transferMs] first byte until the receiver has the whole file
 * @property {number} totalMs the whole cell, NATs to clean-up
 */

/** @type {CellResult[]} */
const results = [];

describe('browsers across NATs', { skip: !isRoot() ? 'needs root (run tests/nat/run.sh)' : !existsSync(BIN) ? `no binary at ${BIN}` : false }, () => {
  /** @type {string} */
  let files;
  /** @type {{ name: string, path: string, size: number, sha256: string }} */
  let file;

  before(() => {
    files = tempDir('pairwise-nat-files-');
    file = makeRandomFile(files, `random-${FILE_SIZE / MiB}MiB.bin`, FILE_SIZE);
    console.log(`# lab up: ${labUp()} ms`);
  });

  after(() => {
    console.log(`# lab down: ${labDown()} ms`);
    if (files) rmSync(files, { recursive: true, force: true });
    for (const r of results) {
      const times = r.launchMs === undefined ? '' :
        `launch ${r.launchMs} ms, pair ${r.pairMs} ms, first byte ${r.firstByteMs} ms, transfer ${r.transferMs} ms ` +
        `(${r.transferMs ? (FILE_SIZE / 1000 / r.transferMs).toFixed(1) : '?'} MB/s), `;
      console.log(`# ${r.name.padEnd(26)} ${r.outcome.padEnd(52)} ${times}cell ${r.totalMs} ms`);
    }
  });

  for (const cell of CELLS) {
    const skip = ONLY && !ONLY.includes(cell.name) ? 'not in PAIRWISE_NAT_CELLS' : false;
    const todo = STRICT ? false : cell.known ?? false;
    const side = (/** @type {Side} */ s) => `${s.kind} ${s.ns}`;
    const title = `${cell.name}: ${side(cell.init)} -> ${side(cell.resp)}, nat ${cell.nat.join('/')}, ${cell.relay}` +
      `${cell.forceRelay ? ', ?ice=relay' : ''}${cell.udpBlocked ? ', udp blocked' : ''} => ${cell.expect}`;
    it(title, { skip, todo, timeout: T.cell + T.cleanup + 10_000 }, async () => {
      const t0 = performance.now();
      try {
        results.push(await runCell(cell, file));
      } catch (e) {
        const views = /views \(initiator, responder\): (.*)/.exec(/** @type {Error} */ (e).message)?.[1];
        const outcome = `FAILED${cell.known ? ' (known)' : ''}${views ? `: ${views}` : ''}`;
        results.push({ name: cell.name, outcome, totalMs: Math.round(performance.now() - t0) });
        throw e;
      }
    });
  }
});

/**
 * Everything a failure report shows: pages, CLI runs, the server, Firefox's own output.
 * @typedef {{ label: string, diagnose(): string | Promise<string> }} Witness
 */

/**
 * One cell: NATs, server, devices, pairing, transfer, checks; bounded by `T.cell`. Every browser
 * and process is stopped (by PID) and every temporary directory removed, pass or fail. A failure
 * carries both devices' UI and console (or CLI output), the server's output and `lab.sh status`.
 * @param {Cell} cell
 * @param {{ name: string, path: string, size: number, sha256: string }} file
 * @returns {Promise<CellResult>}
 */
async function runCell(cell, file) {
  const t0 = performance.now();
  const cleanup = new Cleanup();
  /** @type {Witness[]} */
  const witnesses = [];
  try {
    const r = await withTimeout(cellBody(cell, file, cleanup, witnesses), T.cell, `cell ${cell.name}`);
    return { ...r, name: cell.name, totalMs: Math.round(performance.now() - t0) };
  } catch (e) {
    const err = /** @type {Error} */ (e);
    // A harness wait that failed already carries both pages' UI and console.
    const already = err.name === 'WaitError';
    const reports = [];
    for (const w of witnesses) {
      if (already && w.label.startsWith('page')) continue;
      reports.push(await withTimeout(Promise.resolve(w.diagnose()), 10_000, `${w.label} diagnose`).catch((x) => `--- ${w.label}: ${x}`));
    }
    throw new Error(`cell ${cell.name}: ${err.message}\n${reports.join('\n')}\n${labStatus()}`, { cause: e });
  } finally {
    await withTimeout(cleanup.run(), T.cleanup, `clean-up of ${cell.name}`).catch((e) => console.error(e.message));
  }
}

/**
 * @param {Cell} cell
 * @param {{ name: string, path: string, size: number, sha256: string }} file
 * @param {Cleanup} cleanup
 * @param {Witness[]} witnesses
 * @returns {Promise<Omit<CellResult, 'name' | 'totalMs'>>}
 */
async function cellBody(cell, file, cleanup, witnesses) {
  lab('nat', 'a', cell.nat[0]);
  lab('nat', 'b', cell.nat[1]);
  lab('udp', 'a', cell.udpBlocked ? 'block' : 'allow');
  lab('udp', 'b', cell.udpBlocked ? 'block' : 'allow');
  const server = cleanup.track(await startServer(SERVE_ARGS[cell.relay]), (s) => s.stop());
  witnesses.push(server);
  /** @param {string} prefix */
  const dir = (prefix) => cleanup.track(tempDir(prefix), (d) => rmSync(d, { recursive: true, force: true }));

  // Both browsers at once, each its own process in its own host.
  const tLaunch = performance.now();
  const sides = [cell.init, cell.resp];
  const launched = await Promise.allSettled(sides.map((s) => (s.kind === 'cli' ? Promise.resolve(null) : launchPeersIn(s.kind, s.ns))));
  for (const l of launched) {
    if (l.status === 'fulfilled' && l.value) {
      const b = cleanup.track(l.value, (x) => x.close());
      if (b.diagnose) witnesses.push({ label: `${b.kind} process (${b.ns})`, diagnose: b.diagnose });
    }
  }
  const failedLaunch = launched.find((l) => l.status === 'rejected');
  if (failedLaunch) throw /** @type {PromiseRejectedResult} */ (failedLaunch).reason;
  const [browserA, browserB] = launched.map((l) => /** @type {PromiseFulfilledResult<import('./browser-lab.js').LabBrowser | null>} */ (l).value);
  const launchMs = Math.round(performance.now() - tLaunch);
  const query = cell.forceRelay ? '?ice=relay' : '';

  /** @param {import('./browser-lab.js').LabBrowser} b @param {string} name */
  const newPeer = async (b, name) => {
    const p = cleanup.track(await b.newPeer(name, SERVER_URL), (x) => x.close());
    witnesses.push({ label: `page ${p.name}`, diagnose: () => p.diagnose() });
    return p;
  };
  /** @param {Proc} p */
  const track = (p) => {
    cleanup.track(p, (x) => x.stop());
    witnesses.push(p);
    return p;
  };

  // The initiator: a page shows its QR code (decoded from a screenshot, equal to #pair-link),
  // or the CLI prints its link.
  /** @type {Peer | null} */ let a = null;
  /** @type {Proc | null} */ let sender = null;
  /** @type {string} */ let link;
  if (browserA) {
    a = await newPeer(browserA, 'A');
    await a.goto(`${SERVER_URL}/${query}`);
    link = await showPairingCode(a);
  } else {
    const cfg = dir('pairwise-nat-cfg-a-');
    sender = track(spawnIn(cell.init.ns, BIN, ['send', file.path, '--json', '--server', SERVER_URL, '--config', cfg], { label: `send (${cell.init.ns})` }));
    link = (await sender.waitEvent('link', T.link)).link;
  }
  assert.ok(link.startsWith(`${SERVER_URL}/#pair=`), `link ${link} should start with ${SERVER_URL}/#pair=`);

  // The responder opens the link.
  /** @type {Peer | null} */ let b = null;
  /** @type {Proc | null} */ let receiver = null;
  /** @type {Promise<number> | null} */ let receiverExitAt = null;
  const out = dir('pairwise-nat-out-');
  const tOpen = performance.now();
  const tOpenWall = Date.now();
  if (browserB) {
    b = await newPeer(browserB, 'B');
    // `?ice=relay` goes before the fragment, as a person would add it to the link.
    await b.goto(query ? link.replace('/#pair=', `/${query}#pair=`) : link);
  } else {
    const cfg = dir('pairwise-nat-cfg-b-');
    receiver = track(spawnIn(cell.resp.ns, BIN, ['receive', '--yes', link, '--dir', out, '--json', '--config', cfg], { label: `receive (${cell.resp.ns})` }));
    receiverExitAt = receiver.exited.then(() => performance.now());
  }
  const cliA = /** @type {Proc[]} */ ([sender].filter(Boolean));
  const cliB = /** @type {Proc[]} */ ([receiver].filter(Boolean));

  // Paired: both pages show the same code; a CLI says "paired" with those digits.
  /** @type {(p: Proc) => Promise<string>} */
  const cliPaired = async (p) => String((await p.waitEvent('paired', 60_000)).sas);
  const sas = await Promise.all([
    a ? waitPaired(a, b ? [b] : cliB) : cliPaired(/** @type {Proc} */ (sender)),
    b ? waitPaired(b, a ? [a] : cliA) : cliPaired(/** @type {Proc} */ (receiver)),
  ]);
  const tPaired = performance.now();
  assert.equal(sas[0].replace(/\s/g, ''), sas[1].replace(/\s/g, ''), 'both devices must show the same verification code');

  // The transfer, and when the receiver saw its first and last byte.
  if (b) await watchReceive(b);
  /** @type {number} */ let firstByte;
  /** @type {number} */ let received;
  if (a && b) {
    await sendAndVerify(a, b, [file]);
  } else if (b && sender) {
    await acceptOffer(b, [file.name], [sender]);
    await Promise.all([waitTransfer(b, 'receive', 'done', [sender]), waitReceived(b, [file.name], [sender])]);
    await assertReceivedIntact(b, [file]);
    const s = await withTimeout(sender.exited, T.cliExit, `${sender.label} exiting`);
    assert.equal(s.code, 0, `${sender.label} exit`);
  } else if (a && receiver) {
    await chooseFiles(a, [file.path]);
    const r = await withTimeout(receiver.exited, T.cliExit, `${receiver.label} exiting`);
    assert.equal(r.code, 0, `${receiver.label} exit`);
    await waitTransfer(a, 'send', 'done', [receiver]);
    assert.deepEqual(readdirSync(out), [file.name], 'exactly the sent file in --dir, no .part left');
    assert.deepEqual(await sha256File(join(out, file.name)), { sha256: file.sha256, size: file.size }, 'received bytes');
  } else {
    throw new Error(`cell ${cell.name}: no browser on either side`);
  }
  if (b) {
    const t = await receiveTimes(b);
    assert.ok(t.first !== null && t.done !== null, `${b.name}: the receive row never showed bytes or done (${JSON.stringify(t)})`);
    firstByte = t.first - tOpenWall;
    received = t.done - t.first;
  } else {
    const r = /** @type {Proc} */ (receiver);
    const first = r.eventTime('progress');
    assert.ok(first !== undefined, `${r.label} printed no progress event`);
    firstByte = first - tOpen;
    received = /** @type {number} */ (await receiverExitAt) - first;
  }

  // The path, as each side shows it (initiator first): gathered from both, then checked, so a
  // failure names both sides' views.
  /** @type {(() => void)[]} */
  const checks = [];
  /** @type {string[]} */
  const views = [];
  for (const [peer, proc, direction] of /** @type {const} */ ([[a, sender, 'send'], [b, receiver, 'receive']])) {
    if (peer) {
      const rows = await rowPaths(peer, direction);
      const line = connectedLine(peer);
      const types = line ? `${line[2]}/${line[3]}` : '?';
      const carrier = await carriedBy(peer);
      const carried = carrier
        ? `${carrier.relayed ? 'relayed' : 'direct'} ${carrier.local}${carrier.relayProtocol ? `/${carrier.relayProtocol}` : ''} <-> ${carrier.remote}`
        : 'nothing';
      const row = rows[0] ?? { path: null, stats: '' };
      views.push(`${peer.kind} ${types} ${row.path} [bytes: ${carried}]`);
      checks.push(() => {
        assert.equal(rows.length, 1, `${peer.name}: one ${direction} row, got ${JSON.stringify(rows)}`);
        // What the page says (row, its text, its console), then what its own statistics say
        // carried the bytes.
        assert.equal(row.path, cell.expect, `${peer.name}: the ${direction} row's data-path (stats "${row.stats}", console "${line?.[0]}")`);
        assert.ok(row.stats.includes(cell.expect), `${peer.name}: the ${direction} row's text "${row.stats}" should say ${cell.expect}`);
        assert.ok(line, `${peer.name}: no "connected ${cell.expect} (local/remote)" console line`);
        assert.equal(line[1], cell.expect, `${peer.name}: console says "${line[0]}"`);
        if (cell.types) assert.match(types, cell.types, `${peer.name}: candidate types local/remote (console "${line[0]}")`);
        assert.ok(carrier, `${peer.name}: no candidate pair carried any bytes`);
        assert.equal(carrier.relayed ? 'relayed' : 'direct', cell.expect, `${peer.name}: the bytes went ${carried} (${carrier.bytes} B)`);
        if (cell.udpBlocked) assert.equal(carrier.relayProtocol, 'tcp', `${peer.name}: the bytes went ${carried}, not through TURN over TCP`);
      });
    } else if (proc) {
      const ev = proc.events().find((e) => e.event === 'connected');
      views.push(ev ? `cli ${ev.local}/${ev.remote} ${ev.path}` : 'cli: no connected event');
      checks.push(() => {
        assert.ok(ev, `${proc.label} printed no {"event":"connected",...} line`);
        assert.equal(ev.path, cell.expect, `${proc.label}: ${JSON.stringify(ev)}`);
      });
    }
  }
  try {
    for (const check of checks) check();
  } catch (e) {
    /** @type {Error} */ (e).message += `\nviews (initiator, responder): ${views.join('; ')}`;
    throw e;
  }

  return {
    outcome: `${cell.expect} (${views.join(', ')})`,
    launchMs,
    pairMs: Math.round(tPaired - tOpen),
    firstByteMs: Math.round(firstByte),
    transferMs: Math.round(received),
  };
}
