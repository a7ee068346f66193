/**
 * @file What a user does with the Pairwise web app, expressed against the fixed UI contract
 * (`#pair-button`, `#qr`, `#pair-link`, `#status[data-state]`, `#sas`, `#error[data-code]`,
 * `#file-input`, `#incoming`, `#incoming-title`, `#accept-button`, `#transfers li.transfer`
 * with its `.label`, `#received a.download`, `#own-name`).
 * Every wait fails fast when the page shows an unexpected error, with both peers' UI and console.
 */

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hashFile } from './files.js';
import { readQr } from './qr.js';

/** @typedef {import('./peer.js').Peer} Peer */
/** @typedef {import('./peer.js').Witness} Witness */

/** Timeouts in ms; the machine has 2 cores and browsers share them. */
export const T = {
  pair: 60_000,
  ui: 20_000,
  /** a 64 MiB transfer takes 5-10 s between two browsers here; allow a slow machine */
  transfer: 180_000,
};

/** In-page probe: the visible error code, if any. */
const errorCode = () => {
  const e = document.querySelector('#error');
  return e && e.getClientRects().length > 0 ? e.getAttribute('data-code') || '(no data-code)' : null;
};

/** @param {string | null} expected @returns {(code: any) => string | null} */
const unexpectedError = (expected) => (code) => (code && code !== expected ? `#error[data-code=${code}] appeared` : null);

/**
 * Clicks "Pair a device" and reads the pairing link from the screen. Asserts that the QR code,
 * decoded from a screenshot of `#qr`, is exactly `#pair-link`'s value.
 * @param {Peer} peer
 * @returns {Promise<string>} the link
 */
export async function showPairingCode(peer) {
  await peer.waitVisible('#pair-button', { timeout: T.ui });
  await peer.click('#pair-button');
  await peer.waitVisible('#qr', { timeout: T.ui });
  const link = await peer.waitUntil(
    '#pair-link to hold a link',
    () => /** @type {HTMLInputElement | null} */ (document.querySelector('#pair-link'))?.value || null,
    undefined,
    { timeout: T.ui, failIf: unexpectedError(null), probe: errorCode },
  );
  await peer.waitAttr('#status', 'data-state', 'waiting', { timeout: T.ui });
  const decoded = await readQr(peer);
  assert.equal(decoded, link, `${peer.name}: the QR code must encode exactly the link in #pair-link`);
  return link;
}

/**
 * Waits until `#status[data-state=paired]` and a six-digit `#sas` ("123 456"); returns the code.
 * @param {Peer} peer
 * @param {Witness[]} [also] other pages or CLI runs to include in a failure message
 */
export async function waitPaired(peer, also = []) {
  await peer.waitUntil(
    '#status[data-state=paired] with a #sas code',
    () =>
      document.querySelector('#status')?.getAttribute('data-state') === 'paired' &&
      /^\d{3} \d{3}$/.test((document.querySelector('#sas')?.textContent ?? '').trim()),
    undefined,
    { timeout: T.pair, also, failIf: unexpectedError(null), probe: errorCode },
  );
  return /** @type {string} */ (await peer.text('#sas')).trim();
}

/**
 * Waits until `#error[data-code=code]` is visible (and `#status[data-state=error]`).
 * @param {Peer} peer
 * @param {string} code
 * @param {{ timeout?: number, also?: Witness[] }} [opts]
 */
export async function waitError(peer, code, { timeout = T.pair, also = [] } = {}) {
  await peer.waitUntil(
    `#error[data-code=${code}] to be visible`,
    (c) => {
      const e = document.querySelector('#error');
      return !!e && e.getClientRects().length > 0 && e.getAttribute('data-code') === c && (e.textContent ?? '').trim().length > 0;
    },
    code,
    { timeout, also, failIf: unexpectedError(code), probe: errorCode },
  );
  await peer.waitAttr('#status', 'data-state', 'error', { timeout: T.ui, also });
}

/**
 * Chooses files in `#file-input` (the app offers them at once).
 * @param {Peer} peer
 * @param {string[]} paths
 */
export async function chooseFiles(peer, paths) {
  await peer.setInputFiles('#file-input', paths);
}

/**
 * Drags `paths` (files or folders) from the desktop and drops them on `#drop-zone` (or the
 * first element matching `selector`), the way a user does: Chromium's input pipeline (CDP
 * `Input.dispatchDragEvent`) builds the drop's DataTransfer from the real files, folders
 * included. Chromium only.
 * @param {Peer} peer
 * @param {string[]} paths
 * @param {string} [selector]
 */
export async function dropFiles(peer, paths, selector = '#drop-zone') {
  if (peer.kind !== 'chromium') throw new Error(`dropFiles drives Chromium only, not ${peer.kind}`);
  const page = /** @type {import('playwright-core').Page} */ (peer.page);
  const zone = await page.locator(selector).first().boundingBox();
  if (!zone) throw await peer.failure(`${peer.name}: no visible ${selector} to drop on`);
  const cdp = await page.context().newCDPSession(page);
  const at = { x: zone.x + zone.width / 2, y: zone.y + zone.height / 2 };
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
  await cdp.detach();
}

/**
 * This page's own name, as its settings ("This device's name") show it.
 * @param {Peer} peer
 * @returns {Promise<string>}
 */
export async function ownName(peer) {
  return peer.waitUntil(
    '#own-name to show this device\'s name',
    () => /** @type {HTMLInputElement | null} */ (document.querySelector('#own-name'))?.value || null,
    undefined,
    { timeout: T.ui },
  );
}

/**
 * Waits until the offer's title names the sending device: "`from` wants to send you".
 * @param {Peer} receiver
 * @param {string} from
 * @param {Witness[]} [also]
 */
export async function waitOfferFrom(receiver, from, also = []) {
  await receiver.waitUntil(
    `#incoming-title to say "${from} wants to send you"`,
    (n) => {
      const box = document.querySelector('#incoming');
      return !!box && box.getClientRects().length > 0 && document.querySelector('#incoming-title')?.textContent === `${n} wants to send you`;
    },
    from,
    { timeout: T.ui, also, failIf: unexpectedError(null), probe: errorCode },
  );
}

/**
 * Waits until a transfer row in `direction` names the other device: its label is "Sending …
 * to `device`" or "Receiving … from `device`".
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @param {string} device
 * @param {Witness[]} [also]
 * @param {string} [file] the row must be this file's (its label names it)
 */
export async function waitRowNames(peer, direction, device, also = [], file = '') {
  await peer.waitUntil(
    `a #transfers li.transfer[data-direction=${direction}] .label naming "${device}"${file ? ` for ${file}` : ''}`,
    ({ d, n, f }) =>
      [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}] .label`)].some((l) => {
        const text = l.textContent ?? '';
        return text.includes(f) && text.endsWith(d === 'send' ? ` to ${n}` : ` from ${n}`);
      }),
    { d: direction, n: device, f: file },
    { timeout: T.ui, also },
  );
}

/**
 * Waits for the offer of `names` in `#incoming` and clicks Accept.
 * @param {Peer} receiver
 * @param {string[]} names
 * @param {Witness[]} [also]
 * @param {{ from?: string }} [opts] `from`: the offer must name this sending device
 */
export async function acceptOffer(receiver, names, also = [], { from } = {}) {
  await receiver.waitVisible('#incoming', { timeout: T.ui, also });
  if (from !== undefined) await waitOfferFrom(receiver, from, also);
  const offered = await receiver.evaluate(() => [...document.querySelectorAll('#incoming-files li')].map((li) => li.textContent ?? ''));
  assert.equal(offered.length, names.length, `${receiver.name}: #incoming-files lists ${JSON.stringify(offered)}`);
  for (const n of names) {
    assert.ok(offered.some((t) => t.includes(n)), `${receiver.name}: ${n} is not in #incoming-files ${JSON.stringify(offered)}`);
  }
  await receiver.click('#accept-button');
}

/**
 * Waits until a transfer row in `direction` reaches `state` (fails early on error/declined/cancelled,
 * other than `state`).
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @param {string} state
 * @param {Witness[]} [also]
 */
export async function waitTransfer(peer, direction, state, also = []) {
  await peer.waitUntil(
    `#transfers li.transfer[data-direction=${direction}][data-state=${state}]`,
    ({ d, s }) => [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}]`)].some((li) => li.getAttribute('data-state') === s),
    { d: direction, s: state },
    {
      timeout: T.transfer,
      interval: 500,
      also,
      probe: ({ d, s }) => {
        const bad = [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}]`)].find((li) =>
          ['error', 'declined', 'cancelled'].filter((x) => x !== s).includes(li.getAttribute('data-state') ?? ''),
        );
        const e = document.querySelector('#error');
        const err = e && e.getClientRects().length > 0 ? e.getAttribute('data-code') : null;
        return bad ? `transfer row reached data-state=${bad.getAttribute('data-state')}` : err ? `#error[data-code=${err}] appeared` : null;
      },
      failIf: (reason) => reason,
    },
  );
}

/**
 * Waits until `#received a.download` holds links for all `names`.
 * @param {Peer} peer
 * @param {string[]} names
 * @param {Witness[]} [also]
 */
export async function waitReceived(peer, names, also = []) {
  await peer.waitUntil(
    `#received a.download for ${names.join(', ')}`,
    (ns) => {
      const have = new Set([...document.querySelectorAll('#received a.download')].map((a) => a.getAttribute('download')));
      return ns.every((n) => have.has(n));
    },
    names,
    { timeout: T.transfer, interval: 500, also, failIf: unexpectedError(null), probe: errorCode },
  );
}

/**
 * Hashes a received file inside the page: fetches its blob: href and runs SHA-256.
 * @param {Peer} peer
 * @param {string} name the link's `download` attribute
 * @returns {Promise<{ sha256: string, size: number, dataSize: string | null, href: string }>}
 */
export function hashReceivedInPage(peer, name) {
  return peer.evaluate(async (n) => {
    const a = /** @type {HTMLAnchorElement | undefined} */ (
      [...document.querySelectorAll('#received a.download')].find((x) => x.getAttribute('download') === n)
    );
    if (!a) throw new Error(`no #received a.download[download=${n}]`);
    const buf = await (await fetch(a.href)).arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
    const sha256 = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    return { sha256, size: buf.byteLength, dataSize: a.getAttribute('data-size'), href: a.href };
  }, name);
}

/**
 * Chromium only: clicks the received file's link like a user, waits for the real download and
 * hashes the saved file in node.
 * @param {Peer} peer
 * @param {string} name
 * @returns {Promise<{ sha256: string, size: number, suggested: string }>}
 */
export async function downloadAndHash(peer, name) {
  assert.equal(peer.kind, 'chromium', 'real downloads are checked with playwright (Chromium)');
  const selector = `#received a.download[download=${JSON.stringify(name)}]`;
  const dir = mkdtempSync(join(tmpdir(), 'pairwise-dl-'));
  try {
    const [download] = await Promise.all([peer.page.waitForEvent('download', { timeout: T.transfer }), peer.page.click(selector)]);
    const failure = await download.failure();
    if (failure) throw new Error(`${peer.name}: download of ${name} failed: ${failure}`);
    const saved = join(dir, 'file');
    await download.saveAs(saved);
    return { ...(await hashFile(saved)), suggested: download.suggestedFilename() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Asserts every file arrived intact: a link per file with the right name, size and SHA-256.
 * @param {Peer} receiver
 * @param {import('./files.js').TestFile[]} files
 */
export async function assertReceivedIntact(receiver, files) {
  for (const f of files) {
    const got = await hashReceivedInPage(receiver, f.name);
    assert.ok(got.href.startsWith('blob:'), `${receiver.name}: ${f.name} href is ${got.href}, not a blob: URL`);
    assert.equal(got.size, f.size, `${receiver.name}: ${f.name} has ${got.size} bytes, sent ${f.size}`);
    assert.equal(got.dataSize, String(f.size), `${receiver.name}: ${f.name} data-size`);
    assert.equal(got.sha256, f.sha256, `${receiver.name}: SHA-256 of ${f.name}`);
  }
}

/**
 * Pairs two peers like two users: `initiator` opens the app and shows its QR code, the test
 * decodes the code from a screenshot, `responder` opens the decoded link, both reach
 * `paired` and show the same verification code.
 * @param {Peer} initiator
 * @param {Peer} responder
 * @param {string} origin the app's origin
 * @returns {Promise<{ link: string, sas: string }>}
 */
export async function pair(initiator, responder, origin) {
  await initiator.goto(`${origin}/`);
  const link = await showPairingCode(initiator);
  assert.ok(link.startsWith(`${origin}/#pair=`), `link ${link} should start with ${origin}/#pair=`);
  await responder.goto(link);
  const [sasA, sasB] = await Promise.all([waitPaired(initiator, [responder]), waitPaired(responder, [initiator])]);
  assert.equal(sasA, sasB, 'both devices must show the same verification code');
  return { link, sas: sasA };
}

/**
 * Sends `files` from `sender` to `receiver` through the UI and checks the result end to end:
 * the receiver sees the offer and accepts, both transfer rows reach `done`, and every received
 * file has the original size and SHA-256 (hashed inside the receiving page). With `named`, the
 * offer must name the sender by its own name (as its settings show it) and each side's row the
 * other device.
 * @param {Peer} sender
 * @param {Peer} receiver
 * @param {import('./files.js').TestFile[]} files
 * @param {{ named?: boolean }} [opts]
 * @returns {Promise<number>} milliseconds from choosing the files to the sender's `done`
 */
export async function sendAndVerify(sender, receiver, files, { named = false } = {}) {
  const names = named ? { sender: await ownName(sender), receiver: await ownName(receiver) } : null;
  const t0 = Date.now();
  await chooseFiles(sender, files.map((f) => f.path));
  await acceptOffer(receiver, files.map((f) => f.name), [sender], names ? { from: names.sender } : {});
  if (names) {
    await Promise.all([waitRowNames(sender, 'send', names.receiver, [receiver]), waitRowNames(receiver, 'receive', names.sender, [sender])]);
  }
  await Promise.all([
    waitTransfer(sender, 'send', 'done', [receiver]),
    waitTransfer(receiver, 'receive', 'done', [sender]),
    waitReceived(receiver, files.map((f) => f.name), [sender]),
  ]);
  const ms = Date.now() - t0;
  await assertReceivedIntact(receiver, files);
  return ms;
}

/**
 * Times, on `receiver`'s own clock, from the Accept click to the first verified file's link
 * appearing. Call before clicking Accept; resolves with milliseconds.
 * @param {Peer} receiver
 * @returns {Promise<number>}
 */
export function timeAcceptToReceived(receiver) {
  return receiver.evaluate(
    () =>
      new Promise((resolve) => {
        const list = /** @type {Element} */ (document.querySelector('#received'));
        const accept = /** @type {HTMLButtonElement} */ (document.querySelector('#accept-button'));
        let t0 = 0;
        accept.addEventListener('click', () => (t0 = performance.now()), { capture: true, once: true });
        new MutationObserver(() => {
          if (list.querySelector('a.download')) resolve(performance.now() - t0);
        }).observe(list, { childList: true, subtree: true });
      }),
  );
}
