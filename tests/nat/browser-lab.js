/**
 * @file Browsers inside NAT lab namespaces, as peers the e2e harness can drive
 * (`tests/e2e/harness/peer.js` `Peer`, `app.js` `pair`/`sendAndVerify`/…):
 * - `launchChromiumPeers(ns)`: Debian Chromium in `ns` (lab.js `launchChromiumIn`, playwright over
 *   `--remote-debugging-pipe` through `chromium-ns.sh`); every `newPeer` is a fresh context.
 * - `launchFirefoxPeers(ns)`: Firefox ESR in `ns`. Firefox speaks WebDriver BiDi only on a
 *   WebSocket on 127.0.0.1 of its own namespace, which the test process (root namespace) cannot
 *   reach; `bidi-bridge.js`, started in the same namespace, relays that socket over stdio and
 *   puppeteer-core connects through a transport over those pipes. The profile is written like
 *   puppeteer's own launcher does (`createProfile`), with the e2e prefs plus what the lab needs.
 *
 * The e2e launchers (`harness/browsers.js`) call `assertIsolated()`, which refuses anything but
 * the e2e loopback namespace; these do not: here the browser itself runs in a lab namespace
 * (`ip netns exec`), the test process only drives it over pipes. Every process is started by
 * PID and stopped by PID; `lab.sh down` stops anything left in the namespaces.
 */

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Browser as BrowserName, createProfile } from '@puppeteer/browsers';
import puppeteer from 'puppeteer-core';
import { FIREFOX_PATH, FIREFOX_PREFS } from '../e2e/harness/browsers.js';
import { Peer } from '../e2e/harness/peer.js';
import { HERE, PUB_IP, SERVER_URL, labEnv, launchChromiumIn, nsName, spawnIn, tempDir, withTimeout } from './lab.js';

/**
 * A browser process in a lab namespace; the same shape as `harness/browsers.js` `Browser`.
 * @typedef {import('../e2e/harness/browsers.js').Browser & { ns: string, diagnose?: () => string }} LabBrowser
 *   `diagnose`: the browser process's own output (Firefox)
 */

/**
 * Firefox prefs in the lab: the e2e ones (camera/microphone allowed, so WebRTC offers every host
 * address; host addresses not hidden behind mDNS names) without the loopback candidates (the lab
 * has real interfaces), and `http://203.0.113.1:8080` counted as a secure context (WebCrypto), the
 * counterpart of Chromium's `--unsafely-treat-insecure-origin-as-secure`. The last one is
 * puppeteer's own launcher's (one content process; mouse events from the main frame).
 */
export const FIREFOX_LAB_PREFS = {
  ...FIREFOX_PREFS,
  'media.peerconnection.ice.loopback': false,
  'dom.securecontext.allowlist': PUB_IP,
  'fission.webContentIsolationStrategy': 0,
};

/**
 * Runs in every page before the app (an init script): keeps each `RTCPeerConnection` the page
 * makes in `window.__pwPcs` and, every 250 ms while it is connected, a summary of its candidate pairs
 * that carried bytes (`__pwPairs`), so the test can tell what carried the bytes even after the
 * app closed the connection ({@link carriedBy}). The app gets a subclass that behaves the same.
 */
function recordPeerConnections() {
  const w = /** @type {any} */ (window);
  if (w.__pwPcs || typeof w.RTCPeerConnection !== 'function') return;
  /** @type {RTCPeerConnection[]} */
  const pcs = [];
  w.__pwPcs = pcs;
  /**
   * The candidate pairs of `pc` that carried bytes, with which one is selected now.
   * @param {RTCPeerConnection} pc
   */
  w.__pwPairsOf = async (/** @type {RTCPeerConnection} */ pc) => {
    /** @type {Map<string, any>} */
    const stats = new Map();
    (await pc.getStats()).forEach((s) => stats.set(s.id, s));
    const all = [...stats.values()];
    // As web/lib/net/peer.js path(): Chromium names the pair in the transport, Firefox marks it.
    const transport = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const selected = transport
      ? stats.get(transport.selectedCandidatePairId)
      : all.find((s) => s.type === 'candidate-pair' && (s.selected || (s.nominated && s.state === 'succeeded')));
    // `relayProtocol`: how a local relay candidate reaches its TURN server (udp, tcp, tls).
    const end = (/** @type {any} */ c) => ({
      type: c?.candidateType ?? '?', address: c?.address ?? c?.ip ?? '?', port: c?.port ?? 0, relayProtocol: c?.relayProtocol ?? null,
    });
    return all
      .filter((p) => p.type === 'candidate-pair' && (p.bytesSent ?? 0) + (p.bytesReceived ?? 0) > 0)
      .map((p) => ({
        local: end(stats.get(p.localCandidateId)),
        remote: end(stats.get(p.remoteCandidateId)),
        bytes: (p.bytesSent ?? 0) + (p.bytesReceived ?? 0),
        selected: p === selected,
      }));
  };
  const Native = w.RTCPeerConnection;
  w.RTCPeerConnection = class extends Native {
    /** @param {any[]} args */
    constructor(...args) {
      super(...args);
      const pc = /** @type {any} */ (this);
      pcs.push(pc);
      pc.__pwPairs = [];
      // Only while connected: Chromium answers getStats() from a report up to 50 ms old, and
      // one taken before a pair was selected would make the app's own path() read no pair.
      const timer = setInterval(() => {
        if (pc.connectionState === 'closed') clearInterval(timer);
        else if (pc.connectionState === 'connected') w.__pwPairsOf(pc).then((/** @type {any[]} */ p) => (pc.__pwPairs = p), () => {});
      }, 250);
    }
  };
}

/**
 * For developing `web/` without rebuilding the binary (it embeds `web/` at build time):
 * PAIRWISE_NAT_WEB_DIR=web makes every lab page (Chromium and Firefox) load the app's scripts
 * (`*.js`) from that directory instead of the server's copy; the service worker is off, so
 * nothing comes from its cache. The page and everything else still come from `serve`.
 */
export const WEB_DIR = process.env.PAIRWISE_NAT_WEB_DIR || null;

/**
 * The local copy of a request's script (see {@link WEB_DIR}), or null to let the server answer.
 * Read in the test process: nothing is fetched for it (a driver-side fetch such as playwright's
 * `route.fetch()` would run in the root namespace, outside the lab).
 * @param {string} method
 * @param {string} url
 * @returns {{ status: number, contentType: string, headers: Record<string, string>, body: Buffer } | null}
 */
function webDirScript(method, url) {
  if (!WEB_DIR || method !== 'GET' || !url.startsWith(`${SERVER_URL}/`)) return null;
  const path = new URL(url).pathname;
  const file = join(WEB_DIR, path); // a URL's path has no `..` left
  if (extname(path) !== '.js' || !existsSync(file)) return null;
  return { status: 200, contentType: 'text/javascript; charset=utf-8', headers: { 'cache-control': 'no-store' }, body: readFileSync(file) };
}

/**
 * Chromium in lab namespace `ns`, as a source of harness peers.
 * @param {string} ns
 * @returns {Promise<LabBrowser>}
 */
export async function launchChromiumPeers(ns) {
  const browser = await launchChromiumIn(ns);
  return {
    kind: 'chromium',
    ns,
    async newPeer(name, origin) {
      const context = await browser.newContext({ acceptDownloads: true, serviceWorkers: WEB_DIR ? 'block' : 'allow' });
      if (WEB_DIR) {
        await context.route(`${SERVER_URL}/**`, (route) => {
          const local = webDirScript(route.request().method(), route.request().url());
          return local ? route.fulfill(local) : route.fallback();
        });
      }
      await context.grantPermissions(['camera', 'microphone'], { origin });
      const page = await context.newPage();
      await page.addInitScript(recordPeerConnections);
      return new Peer(`${name} in ${ns}`, 'chromium', page, () => context.close());
    },
    async close() {
      await withTimeout(browser.close(), 15_000, 'closing Chromium').catch(() => {});
    },
  };
}

/**
 * Firefox ESR in lab namespace `ns`, driven by puppeteer-core over WebDriver BiDi through
 * `bidi-bridge.js` (see the file's header).
 * @param {string} ns
 * @param {{ timeoutMs?: number }} [opts]
 * @returns {Promise<LabBrowser>}
 */
export async function launchFirefoxPeers(ns, { timeoutMs = 60_000 } = {}) {
  const profile = tempDir('pairwise-nat-firefox-');
  const prefs = WEB_DIR ? { ...FIREFOX_LAB_PREFS, 'dom.serviceWorkers.enabled': false } : FIREFOX_LAB_PREFS;
  await createProfile(BrowserName.FIREFOX, { path: profile, preferences: prefs });
  const firefox = spawnIn(ns, FIREFOX_PATH, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0', 'about:blank'], {
    label: `firefox (${ns})`,
  });
  /** @type {import('node:child_process').ChildProcessWithoutNullStreams | null} */
  let bridge = null;
  let bridgeErr = '';
  const stopAll = async () => {
    if (bridge && bridge.exitCode === null && bridge.signalCode === null) bridge.kill('SIGKILL');
    await firefox.stop(5000);
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const m = await firefox.waitFor((p) => /WebDriver BiDi listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(p.stderr()), timeoutMs, 'its BiDi endpoint');
    const b = spawn('ip', ['netns', 'exec', nsName(ns), process.execPath, join(HERE, 'bidi-bridge.js'), `${m[1]}/session`], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: labEnv(),
    });
    bridge = b;
    b.stderr.setEncoding('utf8');
    b.stderr.on('data', (d) => (bridgeErr += d));
    /** @type {import('puppeteer-core').ConnectionTransport} */
    const transport = {
      send: (message) => {
        if (b.stdin.writable) b.stdin.write(`${message}\0`);
      },
      close: () => b.stdin.end(),
    };
    let pending = '';
    b.stdout.setEncoding('utf8');
    b.stdout.on('data', (/** @type {string} */ chunk) => {
      pending += chunk;
      for (let end = pending.indexOf('\0'); end >= 0; end = pending.indexOf('\0')) {
        const message = pending.slice(0, end);
        pending = pending.slice(end + 1);
        transport.onmessage?.(message);
      }
    });
    b.once('close', () => transport.onclose?.());
    const browser = await withTimeout(
      puppeteer.connect({ transport, protocol: 'webDriverBiDi', protocolTimeout: 120_000 }),
      timeoutMs,
      `puppeteer connecting to Firefox in ${ns}`,
    );
    return {
      kind: 'firefox',
      ns,
      async newPeer(name) {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        page.setDefaultTimeout(60_000);
        await page.evaluateOnNewDocument(recordPeerConnections);
        if (WEB_DIR) {
          await page.setRequestInterception(true);
          page.on('request', (req) => {
            const local = webDirScript(req.method(), req.url());
            (local ? req.respond(local) : req.continue()).catch(() => {});
          });
        }
        return new Peer(`${name} in ${ns}`, 'firefox', page, () => context.close());
      },
      async close() {
        await withTimeout(browser.close(), 15_000, 'closing Firefox').catch(() => {});
        await stopAll();
      },
      diagnose: () => `${firefox.diagnose(1500)}\nbidi-bridge stderr: ${bridgeErr.slice(-1500) || '(none)'}`,
    };
  } catch (e) {
    const why = `${/** @type {Error} */ (e).message}\n${firefox.diagnose(1500)}\nbidi-bridge stderr: ${bridgeErr || '(none)'}`;
    await stopAll();
    throw new Error(`Firefox in ${ns} did not start: ${why}`, { cause: e });
  }
}

/**
 * @param {'chromium' | 'firefox'} kind
 * @param {string} ns
 * @returns {Promise<LabBrowser>}
 */
export function launchPeersIn(kind, ns) {
  return kind === 'firefox' ? launchFirefoxPeers(ns) : launchChromiumPeers(ns);
}

/**
 * Starts recording, on `peer`'s page, when its first received byte shows (the first
 * `#transfers li.transfer[data-direction=receive]` whose progress is above 0) and when a receive
 * row is done. Read them with {@link receiveTimes}. Times are the page's `Date.now()`, the test's
 * clock (same machine). Call it before the transfer is accepted.
 * @param {Peer} peer
 */
export function watchReceive(peer) {
  return peer.evaluate(() => {
    const w = /** @type {any} */ (window);
    if (w.__pwReceive) return;
    /** @type {{ first: number | null, done: number | null }} */
    const times = { first: null, done: null };
    w.__pwReceive = times;
    const list = /** @type {Element} */ (document.querySelector('#transfers'));
    const check = () => {
      for (const li of list.querySelectorAll('li.transfer[data-direction=receive]')) {
        const bar = li.querySelector('progress');
        const done = li.getAttribute('data-state') === 'done';
        if (times.first === null && ((bar && bar.value > 0) || done)) times.first = Date.now();
        if (times.done === null && done) times.done = Date.now();
      }
      if (times.done !== null) observer.disconnect();
    };
    const observer = new MutationObserver(check);
    observer.observe(list, { subtree: true, childList: true, attributes: true });
    check();
  });
}

/**
 * When (`Date.now()`, ms) `peer` showed its first received byte and its receive row done, where
 * it did (see {@link watchReceive}).
 * @param {Peer} peer
 * @returns {Promise<{ first: number | null, done: number | null }>}
 */
export function receiveTimes(peer) {
  return peer.evaluate(() => /** @type {any} */ (window).__pwReceive ?? { first: null, done: null });
}

/**
 * The connection path each transfer row shows: `data-path` of every `li.transfer` in
 * `direction`, plus its stats text (it says `direct`/`relayed` too).
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @returns {Promise<{ path: string | null, stats: string }[]>}
 */
export function rowPaths(peer, direction) {
  return peer.evaluate(
    (d) =>
      [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}]`)].map((li) => ({
        path: li.getAttribute('data-path'),
        stats: li.querySelector('.stats')?.textContent ?? '',
      })),
    direction,
  );
}

/**
 * The page's own console line about its connection (`connected direct (host/srflx)`, web/app.js
 * `attach`), if it printed one: the last one, since a page prints another when its path changes
 * (another candidate pair, or a later session).
 * @param {Peer} peer
 */
export function connectedLine(peer) {
  return peer.logs.map((l) => /connected (direct|relayed) \((\w+)\/(\w+)\)/.exec(l)).findLast(Boolean) ?? null;
}

/**
 * @typedef {object} Carrier What carried the bytes, from one page's statistics.
 * @property {string} local `TYPE ADDRESS:PORT` of the local candidate
 * @property {string} remote the same for the remote candidate
 * @property {number} bytes bytes sent plus received on that candidate pair
 * @property {string | null} relayProtocol how the local candidate, if a relay one, reaches its TURN
 *   server (`udp`, `tcp`, `tls`), as the page's statistics say
 * @property {boolean} relayed either end is a relay candidate or the relay's address (`via`):
 *   the ground truth in the lab, whatever the types say (a relay can look `prflx` from the
 *   other end)
 * @property {boolean} selected it is the pair the transport had selected (at the last look)
 * @property {number} pairs how many candidate pairs carried any bytes
 * @property {boolean} live read now (else: the last 250 ms sample before the connection closed)
 */

/**
 * The candidate pair that carried the most bytes on `peer`'s page, over every connection it
 * made (see `recordPeerConnections`), or null when none carried any.
 * @param {Peer} peer
 * @param {string} [via] the relay's address (the embedded relay and coturn are both on it)
 * @returns {Promise<Carrier | null>}
 */
export function carriedBy(peer, via = PUB_IP) {
  return peer.evaluate(async (relayIp) => {
    const w = /** @type {any} */ (window);
    /** @type {any[]} */
    const pairs = [];
    let live = true;
    for (const pc of w.__pwPcs ?? []) {
      let got = pc.connectionState === 'closed' ? null : await w.__pwPairsOf(pc).catch(() => null);
      if (!got || got.length === 0) {
        got = pc.__pwPairs ?? [];
        live = false;
      }
      pairs.push(...got);
    }
    if (pairs.length === 0) return null;
    pairs.sort((x, y) => y.bytes - x.bytes);
    const top = pairs[0];
    const show = (/** @type {any} */ e) => `${e.type} ${e.address}:${e.port}`;
    const relayEnd = (/** @type {any} */ e) => e.type === 'relay' || e.address === relayIp;
    return {
      local: show(top.local),
      remote: show(top.remote),
      bytes: top.bytes,
      relayProtocol: top.local.relayProtocol,
      relayed: relayEnd(top.local) || relayEnd(top.remote),
      selected: top.selected,
      pairs: pairs.length,
      live,
    };
  }, via);
}
