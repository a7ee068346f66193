/**
 * @file Launches the two real browsers used by the end-to-end tests, both headless and only after
 * the network guard passed:
 * - Debian Chromium (`/usr/bin/chromium`) through playwright-core, with the flags from
 *   design.md §4/§6 (incl. `--allow-loopback-in-peer-connection`) and camera/microphone
 *   permission granted to the app's origin, so that it offers 127.0.0.1 ICE candidates;
 * - Debian Firefox ESR (`/usr/bin/firefox-esr`) through puppeteer-core 24 over WebDriver BiDi,
 *   with the prefs from shared/research/cross-browser.md (loopback ICE + default camera/mic
 *   permission).
 * Each `newPeer()` opens a fresh browser context (separate storage) and returns a `Peer`.
 *
 * For an HTTPS server (`startServer({ tls: true })`), Chromium is told to trust exactly its
 * certificate with `--ignore-certificate-errors-spki-list` (the SPKI hash), not to ignore
 * certificate errors in general: pages then load without an error, so service workers register
 * as they would with a trusted certificate. `launchChromiumTempProfile` gives one persistent
 * profile (a fresh temporary user-data-dir), where Chromium judges installability (an
 * incognito-like context never counts as installable).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { assertIsolated } from './guard.js';
import { Peer } from './peer.js';

export const CHROMIUM_PATH = process.env.PAIRWISE_CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX_PATH = process.env.PAIRWISE_FIREFOX ?? '/usr/bin/firefox-esr';

/** Chromium flags that work on these machines (design.md §4 and §6). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
];

/** Firefox prefs that make WebRTC gather loopback candidates in the namespace. */
export const FIREFOX_PREFS = {
  'media.peerconnection.ice.loopback': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
};

/**
 * @typedef {object} Browser
 * @property {'chromium' | 'firefox'} kind
 * @property {(name: string, origin: string) => Promise<Peer>} newPeer a page in a fresh context
 * @property {() => Promise<void>} close closes the browser (never throws)
 */

/**
 * @param {string | null | undefined} trustSpki base64 SHA-256 of a server certificate's SPKI
 * @returns {string[]}
 */
function chromiumArgs(trustSpki) {
  return trustSpki ? [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${trustSpki}`] : CHROMIUM_ARGS;
}

/**
 * @param {{ trustSpki?: string | null }} [opts] `trustSpki`: trust exactly this certificate
 * @returns {Promise<Browser>} a Chromium process driven by playwright-core
 */
export async function launchChromium({ trustSpki } = {}) {
  assertIsolated();
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: chromiumArgs(trustSpki),
    timeout: 60_000,
  });
  return {
    kind: 'chromium',
    async newPeer(name, origin) {
      const context = await browser.newContext({ acceptDownloads: true });
      await context.grantPermissions(['camera', 'microphone'], { origin });
      const page = await context.newPage();
      return new Peer(name, 'chromium', page, () => context.close());
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/**
 * A Chromium process with a **persistent profile**: IndexedDB and everything else the app
 * stores live in `userDataDir` and survive closing the browser, like a real device's browser.
 * Launch again with the same directory (after `close()`) to "reopen" that device.
 * @param {string} userDataDir a directory the caller creates and removes
 * @param {string} origin the app's origin (camera/microphone permission, see above)
 * @returns {Promise<{ kind: 'chromium', page: (name: string) => Promise<Peer>, close: () => Promise<void> }>}
 */
export async function launchChromiumProfile(userDataDir, origin) {
  assertIsolated();
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
    acceptDownloads: true,
  });
  await context.grantPermissions(['camera', 'microphone'], { origin });
  return {
    kind: 'chromium',
    async page(name) {
      const page = context.pages()[0] ?? (await context.newPage());
      return new Peer(name, 'chromium', page, () => page.close());
    },
    async close() {
      await context.close().catch(() => {});
    },
  };
}

/**
 * One "device" for tests that close and reopen a browser: a persistent profile directory (removed
 * by `cleanup`) that `open()` launches Chromium on (closing it is also left to `cleanup` if the
 * test does not) and `close()` closes, keeping the profile.
 * @param {import('./cleanup.js').Cleanup} cleanup
 * @param {string} label the page's name in messages
 * @param {string} origin the app's origin
 */
export function profileDevice(cleanup, label, origin) {
  const dir = cleanup.track(mkdtempSync(join(tmpdir(), `pairwise-profile-${label}-`)), (d) => rmSync(d, { recursive: true, force: true }));
  /** @type {Awaited<ReturnType<typeof launchChromiumProfile>> | null} */
  let browser = null;
  return {
    /** @returns {Promise<Peer>} the page of a freshly launched browser on this profile */
    async open() {
      const b = await launchChromiumProfile(dir, origin);
      browser = b;
      cleanup.track(b, (x) => x.close());
      return b.page(label);
    },
    async close() {
      await browser?.close();
      browser = null;
    },
  };
}

/**
 * One Chromium with a persistent profile (a fresh temporary user-data-dir, removed on close):
 * every `newPeer` is a page of that one profile.
 * @param {{ trustSpki?: string | null }} [opts]
 * @returns {Promise<Browser & { context: import('playwright-core').BrowserContext }>}
 */
export async function launchChromiumTempProfile({ trustSpki } = {}) {
  assertIsolated();
  const dir = mkdtempSync(join(tmpdir(), 'pairwise-e2e-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: chromiumArgs(trustSpki),
    acceptDownloads: true,
    timeout: 60_000,
  });
  return {
    kind: 'chromium',
    context,
    async newPeer(name, origin) {
      await context.grantPermissions(['camera', 'microphone'], { origin });
      const page = await context.newPage();
      return new Peer(name, 'chromium', page, () => page.close());
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** @returns {Promise<Browser>} a Firefox ESR process driven by puppeteer-core over WebDriver BiDi */
export async function launchFirefox() {
  assertIsolated();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    extraPrefsFirefox: FIREFOX_PREFS,
    protocolTimeout: 120_000,
    timeout: 60_000,
  });
  return {
    kind: 'firefox',
    async newPeer(name) {
      const context = await browser.createBrowserContext();
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      return new Peer(name, 'firefox', page, () => context.close());
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/**
 * Launches browsers side by side, each its own process like separate devices, and has `cleanup`
 * close every one that started (also when another failed to).
 * @param {import('./cleanup.js').Cleanup} cleanup
 * @param {...() => Promise<Browser>} launchers
 * @returns {Promise<Browser[]>} in the order of `launchers`
 */
export async function launchAll(cleanup, ...launchers) {
  const settled = await Promise.allSettled(launchers.map((l) => l()));
  /** @type {Browser[]} */
  const browsers = [];
  for (const s of settled) if (s.status === 'fulfilled') browsers.push(cleanup.track(s.value, (x) => x.close()));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw /** @type {PromiseRejectedResult} */ (failed).reason;
  return browsers;
}

/**
 * @param {'chromium' | 'firefox'} kind
 * @returns {Promise<Browser>}
 */
export function launch(kind) {
  return kind === 'firefox' ? launchFirefox() : launchChromium();
}
