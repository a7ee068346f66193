/**
 * @file Entry point: wires the protocol library (`lib/`) to the screens (`ui/`). A page opened
 * with `#pair=...` joins that pairing; otherwise "Pair a device" starts one and shows its QR code.
 * A page opened with `?share=1` (by the service worker, after "Share -> Pairwise") queues the
 * shared files like chosen ones. Registers the service worker (`sw.js`) where there is one.
 */

/** @import { SecureChannel } from './lib/secure-channel.js' */

import { Connection } from './lib/connection.js';
import { ProtocolError } from './lib/errors.js';
import { Transfers } from './lib/file-transfer.js';
import { openedByShare, takeSharedFiles } from './lib/share-inbox.js';
import { clearIncoming } from './lib/sink.js';
import { byId } from './ui/dom.js';
import { hideHome, showError, showPaired, showPairing, showStatus } from './ui/pairing-view.js';
import { hideShared, showShared } from './ui/share-view.js';
import { showText, wireTextForm } from './ui/text-view.js';
import { askToAccept, showReceived, showTransfer } from './ui/transfer-view.js';

/** @param {Connection} connection */
function follow(connection) {
  connection.addEventListener('state', (ev) => showStatus(/** @type {CustomEvent} */ (ev).detail));
  connection.addEventListener('paired', (ev) => showPaired(/** @type {CustomEvent} */ (ev).detail.sas));
  connection.addEventListener('error', (ev) => {
    showStatus('error');
    showError(/** @type {CustomEvent} */ (ev).detail.code);
  });
  connection.addEventListener('ready', (ev) => ready(/** @type {CustomEvent<SecureChannel>} */ (ev).detail));
}

/** The session's transfers, once its channel is ready; files chosen before that wait here. */
/** @type {Transfers | null} */
let transfers = null;
/** @type {File[][]} */
const waiting = [];
/** Texts typed before the channel was ready. @type {string[]} */
const waitingTexts = [];

/** @param {string} text */
function sendText(text) {
  if (!transfers) {
    waitingTexts.push(text);
    return;
  }
  // A failed send means the session failed: the connection already shows why.
  transfers.sendText(text).then(
    () => showText(text, 'sent'),
    () => {},
  );
}

/** @param {File[]} files */
function offer(files) {
  if (files.length === 0) return;
  if (transfers) transfers.send(files);
  else waiting.push(files);
}

/** @param {SecureChannel} channel */
function ready(channel) {
  transfers = new Transfers(channel);
  transfers.addEventListener('outgoing', (ev) => showTransfer(/** @type {CustomEvent} */ (ev).detail, 'send'));
  transfers.addEventListener('incoming', (ev) => {
    const incoming = /** @type {CustomEvent} */ (ev).detail;
    showTransfer(incoming, 'receive');
    incoming.addEventListener('file', (/** @type {any} */ fe) => showReceived(fe.detail));
    askToAccept(incoming);
  });
  transfers.addEventListener('text', (ev) => showText(/** @type {CustomEvent<string>} */ (ev).detail, 'received'));
  for (const files of waiting.splice(0)) transfers.send(files);
  for (const text of waitingTexts.splice(0)) sendText(text);
  hideShared();
}

/** After "Share -> Pairwise": the service worker kept the files; queue them for the pairing. */
async function pickUpShared() {
  if (!openedByShare(location.search)) return;
  history.replaceState(null, '', location.pathname);
  const files = await takeSharedFiles(globalThis.caches).catch(() => []);
  showShared(files);
  offer(files);
}

/** Offline start and the share target need the service worker; the app works without one. */
function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((e) => {
      console.warn('service worker not registered:', e);
    });
  });
}

/** Files can be chosen as soon as the devices are paired; they go once the channel is open. */
function wireFilePicker() {
  for (const id of ['file-input', 'folder-input']) {
    const input = byId(id, HTMLInputElement);
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      input.value = '';
      offer(files);
    });
  }
  const zone = byId('drop-zone');
  zone.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (ev) => {
    ev.preventDefault();
    zone.classList.remove('over');
    offer([...(ev.dataTransfer?.files ?? [])]);
  });
}

async function main() {
  registerServiceWorker();
  // Files received by an earlier page load: their download links are gone with it.
  await clearIncoming();
  wireFilePicker();
  wireTextForm(sendText);
  byId('copy-link').addEventListener('click', () => {
    navigator.clipboard?.writeText(byId('pair-link', HTMLInputElement).value).catch(() => {});
  });
  const hash = location.hash;
  if (hash.startsWith('#pair=')) {
    // The secret has done its job once read; keep it out of history and bookmarks.
    history.replaceState(null, '', location.pathname);
    hideHome();
    showStatus('connecting');
    try {
      follow(await Connection.respond(hash));
    } catch (e) {
      showStatus('error');
      showError(e instanceof ProtocolError ? e.code : 'bad-link');
    }
    return;
  }
  byId('pair-button').addEventListener('click', async () => {
    const { link, connection } = await Connection.initiate(location.origin);
    follow(connection);
    showPairing(link);
    showStatus('waiting');
  });
  await pickUpShared();
}

main();
