/**
 * @file A browser moves to another network mid-transfer (`lab.sh wan b IP`: home b gets another
 * public address and its NAT forgets every mapping), between two remembered Chromium pages:
 * a1 and b1 behind cone NATs, the embedded relay of `pairwise serve`. They pair by QR code (the
 * e2e harness: `pair`, `setOwnName`, `waitOneOnline`), so each remembers the other, and A sends
 * a 128 MiB random file to B from B's entry under "Your devices" (B accepts by hand). At a third
 * (B's row), b1's home moves. What the product promises (README "Using it" 6, docs/web-client.md
 * "Resume in the browser"): the connection drops, B keeps what it verified and its row says so
 * (`interrupted`, "… kept; it continues when Alice laptop is back"), A's row is `interrupted`
 * too, both pages meet again as remembered devices with no QR code (both entries `online`), A
 * offers the file again by itself ("Resuming …"), B continues without being asked
 * (`data-resumed`), and the file arrives whole. Checked: SHA-256 of the received file in B's
 * page, both rows `done`, no prompt on B, and bytes sent again (A's rows' `data-chunk-bytes`
 * over both sessions, minus the size, as `tests/e2e/resume.test.js` measures it) under 10 %.
 *
 * The test prints a timeline of what both screens showed (transfer rows and device presence,
 * on the pages' own clocks, from the move) and the pages' `connected …` console lines.
 * Needs root; run through tests/nat/run.sh.
 */

import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, pair, waitReceived } from '../e2e/harness/app.js';
import { Cleanup } from '../e2e/harness/cleanup.js';
import { entry, setOwnName, waitOneOnline } from '../e2e/harness/devices.js';
import { launchChromiumPeers } from './browser-lab.js';
import { BIN, MiB, SERVER_URL, isRoot, lab, labDown, labStatus, labUp, makeRandomFile, startServer, tempDir, withTimeout } from './lab.js';

/** @typedef {import('../e2e/harness/peer.js').Peer} Peer */

const SIZE = 128 * MiB;
/** b1's home after the move (it was 203.0.113.20). */
const MOVED_TO = '203.0.113.21';

/**
 * Bounds in ms. A run takes about 35 s (Chromium itself needs about 16 s to give up on the old
 * path); `test` caps the whole test, so the file ends within 3 minutes whatever happens.
 */
const T = {
  pair: 45_000, // QR pairing; both online
  third: 45_000, // offer, accept and a third of the file
  interrupted: 45_000, // the move until both rows say interrupted
  resumed: 45_000, // interrupted until both online again, and until A's "Resuming" row
  rest: 60_000, // the rest of the file
  test: 150_000,
  cleanup: 20_000,
};

/** @param {number} n */
const mb = (n) => `${(n / MiB).toFixed(1)} MiB`;

/**
 * Starts recording on `peer`'s page what its screen shows of transfers and devices, and what its
 * WebRTC connections do: every time the summary (each transfer row's direction, state and text;
 * each device's presence; the `connectionState` of each `RTCPeerConnection` the page made,
 * looked at every 100 ms) changes, `{ at: Date.now(), what }` is kept. Read with {@link timeline}.
 * @param {Peer} peer
 */
function watchScreen(peer) {
  return peer.evaluate(() => {
    const w = /** @type {any} */ (window);
    if (w.__pwScreen) return;
    /** @type {{ at: number, what: string }[]} */
    const seen = [];
    w.__pwScreen = seen;
    const summary = () => {
      const rows = [...document.querySelectorAll('#transfers li.transfer')].map((li) => {
        const label = li.querySelector('.label')?.textContent ?? '';
        const stats = (li.querySelector('.stats')?.textContent ?? '').replace(/ · [\d.]+ [kMG]?B\/s.*$/, ''); // no rates: they change every redraw
        const path = li.getAttribute('data-path');
        return `${li.getAttribute('data-direction')}:${li.getAttribute('data-state')}${path ? `/${path}` : ''} "${label}: ${li.getAttribute('data-state') === 'active' ? 'active' : stats}"`;
      });
      const devices = [...document.querySelectorAll('#devices li.device')].map((li) => `device ${li.getAttribute('data-presence')}`);
      // The page's peer connections (browser-lab.js keeps them): when WebRTC itself noticed.
      const pcs = (w.__pwPcs ?? []).map((/** @type {RTCPeerConnection} */ pc) => pc.connectionState);
      return [...rows.reverse(), ...devices, `connections ${pcs.join(',')}`].join(' | ');
    };
    let last = '';
    const check = () => {
      const now = summary();
      if (now !== last) seen.push({ at: Date.now(), what: now });
      last = now;
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    setInterval(check, 100);
    check();
  });
}

/**
 * What `peer`'s screen showed since {@link watchScreen}: from the last summary before `since`
 * (ms, `Date.now()`) on, with times relative to `since`.
 * @param {Peer} peer
 * @param {number} since
 * @returns {Promise<{ at: number, what: string }[]>}
 */
async function timeline(peer, since) {
  /** @type {{ at: number, what: string }[]} */
  const seen = await peer.evaluate(() => /** @type {any} */ (window).__pwScreen ?? []);
  const from = Math.max(0, seen.findLastIndex((s) => s.at < since));
  return seen.slice(from).map((s) => ({ at: s.at - since, what: s.what }));
}

/** @param {{ at: number, what: string }[]} seen */
const showTimeline = (seen) => seen.map((s) => `${String(s.at).padStart(7)} ms  ${s.what}`);

/**
 * @typedef {object} Row A transfer row as the page shows it.
 * @property {string} state `data-state`
 * @property {string} label "Sending …", "Resuming …", "Receiving …"
 * @property {string} stats the row's text: bytes, rate and path, or why it stopped
 * @property {number} chunkBytes `data-chunk-bytes`: file bytes that went over the link in its session
 * @property {string | null} resumed `data-resumed`
 * @property {string | null} path `data-path`
 */

/**
 * The transfer rows of one direction, newest first.
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @returns {Promise<Row[]>}
 */
function rows(peer, direction) {
  return peer.evaluate(
    (d) =>
      [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}]`)].map((li) => ({
        state: li.getAttribute('data-state') ?? '',
        label: li.querySelector('.label')?.textContent ?? '',
        stats: li.querySelector('.stats')?.textContent ?? '',
        chunkBytes: Number(li.getAttribute('data-chunk-bytes')),
        resumed: li.getAttribute('data-resumed'),
        path: li.getAttribute('data-path'),
      })),
    direction,
  );
}

/**
 * Waits until the newest row of `direction` is in `state` (fails early on error/cancel/decline).
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @param {string} state
 * @param {number} timeout
 * @param {Peer[]} also
 */
function waitNewest(peer, direction, state, timeout, also) {
  return peer.waitUntil(
    `newest ${direction} row data-state=${state}`,
    ({ d, s }) => document.querySelector(`#transfers li.transfer[data-direction=${d}]`)?.getAttribute('data-state') === s,
    { d: direction, s: state },
    {
      timeout,
      interval: 200,
      also,
      probe: ({ d }) => document.querySelector(`#transfers li.transfer[data-direction=${d}]`)?.getAttribute('data-state'),
      failIf: (/** @type {any} */ got) => (['error', 'cancelled', 'declined'].includes(got) ? `the row reached data-state=${got}` : null),
    },
  );
}

/**
 * Waits until the oldest row of `direction` (the first session's: rows are listed newest first)
 * is in `state`. Not the newest: the next session's row may already be there by the time we look.
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @param {string} state
 * @param {number} timeout
 * @param {Peer[]} also
 */
function waitOldest(peer, direction, state, timeout, also) {
  return peer.waitUntil(
    `oldest ${direction} row data-state=${state}`,
    ({ d, s }) => [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}]`)].at(-1)?.getAttribute('data-state') === s,
    { d: direction, s: state },
    {
      timeout,
      interval: 200,
      also,
      probe: ({ d }) => [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}]`)].at(-1)?.getAttribute('data-state'),
      failIf: (/** @type {any} */ got) => (['error', 'cancelled', 'declined', 'done'].includes(got) ? `the row reached data-state=${got}` : null),
    },
  );
}

/**
 * The device entry's presence (`online`/`offline`) on `peer`.
 * @param {Peer} peer
 * @param {string} id
 * @param {string} presence
 * @param {number} timeout
 * @param {Peer[]} also
 */
function waitPresence(peer, id, presence, timeout, also) {
  return peer.waitAttr(entry(id), 'data-presence', presence, { timeout, also });
}

describe('network change mid-transfer (Chromium <-> Chromium, remembered)', {
  skip: !isRoot() ? 'needs root (run tests/nat/run.sh)' : !existsSync(BIN) ? `no binary at ${BIN}` : false,
}, () => {
  const cleanup = new Cleanup();

  before(() => {
    console.log(`# lab up: ${labUp()} ms`);
  });

  after(async () => {
    await withTimeout(cleanup.run(), T.cleanup, 'clean-up').catch((e) => console.error(e.message));
    console.log(`# lab down: ${labDown()} ms`);
  });

  it(`b1 moves to ${MOVED_TO} at a third of a 128 MiB file: both pages reconnect by themselves and it continues, < 10 % sent again`, { timeout: T.test }, async () => {
    const t0 = performance.now();
    /** @type {Peer[]} */
    const pages = [];
    /** When b1's home moved (`Date.now()`), once it did. @type {number | undefined} */
    let movedAt;
    try {
      lab('nat', 'a', 'cone');
      lab('nat', 'b', 'cone');
      lab('udp', 'a', 'allow');
      lab('udp', 'b', 'allow');
      const dir = cleanup.track(tempDir('pairwise-nat-move-'), (d) => rmSync(d, { recursive: true, force: true }));
      const file = makeRandomFile(dir, 'big-128MiB.bin', SIZE);
      const server = cleanup.track(await startServer(), (s) => s.stop());
      const launched = await Promise.allSettled([launchChromiumPeers('a1'), launchChromiumPeers('b1')]);
      for (const l of launched) if (l.status === 'fulfilled') cleanup.track(l.value, (x) => x.close());
      const [browserA, browserB] = launched.map((l) => {
        if (l.status === 'rejected') throw l.reason;
        return l.value;
      });
      const a = cleanup.track(await browserA.newPeer('A', SERVER_URL), (x) => x.close());
      const b = cleanup.track(await browserB.newPeer('B', SERVER_URL), (x) => x.close());
      pages.push(a, b);

      // Pair once by QR code, naming both devices: each remembers the other.
      await a.goto(`${SERVER_URL}/`);
      await setOwnName(a, 'Alice laptop');
      await b.goto(`${SERVER_URL}/`);
      await setOwnName(b, 'Bob desktop');
      await withTimeout(pair(a, b, SERVER_URL), T.pair, 'pairing');
      const [idB, idA] = await withTimeout(Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]), T.pair, 'both online');
      const paired = performance.now();

      // A sends from B's entry; B accepts by hand (the resumed offer must not ask again).
      await Promise.all([watchScreen(a), watchScreen(b)]);
      await a.setInputFiles(`${entry(idB)} input.device-files`, [file.path]);
      await acceptOffer(b, [file.name], [a]);
      await b.waitUntil(
        'a third of the file on B',
        (n) => Number(document.querySelector('#transfers li.transfer[data-direction=receive]')?.getAttribute('data-chunk-bytes') ?? 0) >= n,
        SIZE / 3,
        { timeout: T.third, interval: 50, also: [a] },
      );

      // b1's home moves.
      movedAt = Date.now();
      const moved = performance.now();
      lab('wan', 'b', MOVED_TO);
      await Promise.all([waitOldest(a, 'send', 'interrupted', T.interrupted, [b]), waitOldest(b, 'receive', 'interrupted', T.interrupted, [a])]);
      const interrupted = performance.now();
      const first = /** @type {Row} */ ((await rows(a, 'send')).at(-1));
      const firstIn = /** @type {Row} */ ((await rows(b, 'receive')).at(-1));
      // B says how much it kept and that it continues when A is back; nothing is handed over.
      assert.match(firstIn.stats, /^Interrupted — [\d.]+ [kMG]?B of 134\.2 MB kept; it continues when Alice laptop is back$/, `B's row: ${firstIn.stats}`);
      assert.equal(await b.count('#received a.download'), 0, 'an interrupted file has no download link');
      assert.match(first.stats, /^Interrupted — it is offered again when Bob desktop is back$/, `A's row: ${first.stats}`);

      // Both meet again with no QR code; A offers the file again by itself.
      await withTimeout(Promise.all([waitPresence(a, idB, 'online', T.resumed, [b]), waitPresence(b, idA, 'online', T.resumed, [a])]), T.resumed, 'both online again');
      const online = performance.now();
      await a.waitUntil(
        'a "Resuming" send row',
        () => /^Resuming /.test(document.querySelector('#transfers li.transfer[data-direction=send] .label')?.textContent ?? ''),
        undefined,
        { timeout: T.resumed, also: [b] },
      );
      assert.equal(await a.isVisible('#qr'), false, 'no QR code on A');
      assert.equal(await b.isVisible('#qr'), false, 'no QR code on B');
      await Promise.all([
        waitNewest(a, 'send', 'done', T.rest, [b]),
        waitNewest(b, 'receive', 'done', T.rest, [a]),
        waitReceived(b, [file.name], [a]),
      ]);
      const done = performance.now();
      assert.equal(await b.isVisible('#incoming'), false, 'B was not asked again');
      await assertReceivedIntact(b, [file]);

      const sends = await rows(a, 'send');
      const receives = await rows(b, 'receive');
      assert.equal(sends.length, 2, `A's send rows: ${JSON.stringify(sends)}`);
      assert.equal(receives.length, 2, `B's receive rows: ${JSON.stringify(receives)}`);
      const [second] = sends;
      const [secondIn] = receives;
      assert.equal(second.label, `Resuming ${file.name} to Bob desktop`, 'the row names the device (issue 15)');
      assert.equal(secondIn.resumed, 'true', "B's second row continues a kept transfer");
      // Both screens went through the drop: the device offline, then online again.
      const [seenA, seenB] = await Promise.all([timeline(a, movedAt), timeline(b, movedAt)]);
      for (const [p, seen] of /** @type {const} */ ([[a, seenA], [b, seenB]])) {
        const off = seen.findIndex((x) => x.at >= 0 && /device offline/.test(x.what));
        assert.ok(off >= 0 && seen.slice(off).some((x) => /device online/.test(x.what)), `${p.name}: the device went offline and online again:\n${showTimeline(seen).join('\n')}`);
      }
      const resent = first.chunkBytes + second.chunkBytes - SIZE;
      const kept = /([\d.]+) ([kMG]?)B of/.exec(firstIn.stats);
      const [consA, consB] = [a, b].map((p) => p.logs.filter((l) => /connected (direct|relayed)|pairing session over|reconnect/i.test(l)).join('; '));
      const lines = [
        `# network change (Chromium): paired ${Math.round(paired - t0)} ms after start; after the move: both interrupted ${Math.round(interrupted - moved)} ms, ` +
          `both online ${Math.round(online - moved)} ms, done ${Math.round(done - moved)} ms; whole test ${Math.round(performance.now() - t0)} ms`,
        `# A sent ${mb(first.chunkBytes)} + ${mb(second.chunkBytes)}: sent again ${mb(resent)} (${((100 * resent) / SIZE).toFixed(1)} %); ` +
          `B received ${mb(firstIn.chunkBytes)} + ${mb(secondIn.chunkBytes)}, its row said ${kept ? `${kept[1]} ${kept[2]}B` : '?'} kept, ` +
          `continued at ${mb(SIZE - secondIn.chunkBytes)}; paths ${first.path} -> ${second.path}`,
        `# A console: ${consA}`,
        `# B console: ${consB}`,
        '# A screen (ms from the move):',
        ...showTimeline(seenA).map((l) => `#   ${l}`),
        '# B screen (ms from the move):',
        ...showTimeline(seenB).map((l) => `#   ${l}`),
      ];
      console.log(lines.join('\n'));
      assert.ok(resent < SIZE / 10, `sent again ${resent} bytes, 10 % is ${SIZE / 10}`);
    } catch (e) {
      const err = /** @type {Error} */ (e);
      const reports = [];
      if (err.name !== 'WaitError') for (const p of pages) reports.push(await withTimeout(p.diagnose(), 10_000, 'diagnose').catch((x) => String(x)));
      for (const p of pages) {
        const seen = await timeline(p, movedAt ?? 0).catch(() => []);
        reports.push(`--- ${p.name} screen timeline (ms from the move) ---\n${showTimeline(seen).join('\n')}`);
      }
      throw new Error(`${err.message}\n${reports.join('\n')}\n${labStatus()}`, { cause: e });
    }
  });
});
