/**
 * @file Entry point: wires the app's controller (`lib/app/controller.js`, which holds the state
 * and decides) to the screens (`ui/`) and the browser's events. A page opened
 * with `#pair=...` joins that pairing; otherwise "Pair a device" starts one and shows its QR code.
 * Paired devices are remembered (`lib/net/devices.js`) and listed under "Your devices", where the
 * ones online can be sent files with no QR code. A page opened with `?share=1` (by the service
 * worker, after "Share -> Pairwise") queues the shared files like chosen ones. Transfers between
 * known devices resume (`docs/protocol.md` §11.3): files whose sending was interrupted are
 * offered again by themselves when their device is back (while this page stays open), and
 * partly received files are kept across reloads (`lib/storage/resume-store.js`). Registers the service
 * worker (`sw.js`) where there is one.
 */

import { Connection } from './lib/net/connection.js';
import { Controller } from './lib/app/controller.js';
import { Devices } from './lib/net/devices.js';
import { droppedFiles } from './lib/files/dropped.js';
import { ProtocolError } from './lib/proto/errors.js';
import { Transfers } from './lib/transfers/file-transfer.js';
import { openIdb } from './lib/storage/idb.js';
import { openedByShare, takeSharedFiles } from './lib/files/share-inbox.js';
import { ResumeStore } from './lib/storage/resume-store.js';
import { ReceivedStore } from './lib/storage/received-store.js';
import { cleanPartials, removePartial } from './lib/files/sink.js';
import { Store, memoryBackend } from './lib/storage/store.js';
import { showDeviceNotice, showDevices, showOwnName } from './ui/devices-view.js';
import { dropKept, showKept } from './ui/kept-view.js';
import { byId } from './ui/dom.js';
import { askNumbers, hideHome, showDeviceCount, showError, showHome, showPaired, showPairing, showPairingCode, showPairingEnded, showProblem, showStatus } from './ui/pairing-view.js';
import { hideShared, showShared } from './ui/share-view.js';
import { showText, wireTextForm } from './ui/text-view.js';
import { showReceivedFiles } from './ui/received-folders.js';
import { KeptReceived } from './ui/received-kept.js';
import { askToAccept, markContinued, showTransfer } from './ui/transfer-view.js';

/** The browser's database; private windows may refuse IndexedDB: then nothing is remembered. */
const backendReady = openIdb().catch(() => memoryBackend());

/** Offer ids and kept partial transfers (§11.3). */
const resumeReady = backendReady.then((b) => new ResumeStore(b));

/** Received files kept until the person removes them (listed again after a reload). */
const receivedReady = backendReady.then((b) => new KeptReceived(new ReceivedStore(b)));

/**
 * The remembered devices, once the store is open. Before any session can receive, the received
 * files kept from earlier page loads are listed again (what no kept file names is removed), and
 * partial files that no kept transfer or kept file needs any more are removed.
 */
const devicesReady = Promise.all([receivedReady.then((k) => k.restore()).catch(() => {}), keepPartials()]).then(openDevices);

/** The app's state and decisions (`lib/app/controller.js`), over the screens of `ui/`. */
const appReady = Promise.all([devicesReady, resumeReady]).then(
  ([devices, resume]) =>
    new Controller({
      devices,
      resume,
      kept: receivedReady,
      transfers: (channel, opts) => new Transfers(channel, opts),
      removePartial,
      view: {
        status: showStatus,
        paired: showPaired,
        numbers: askNumbers,
        pairingEnded: showPairingEnded,
        error: showError,
        deviceNotice: showDeviceNotice,
        hideShared,
        text: showText,
        transfer: showTransfer,
        markContinued,
        askToAccept,
        receivedFiles: showReceivedFiles,
        kept: showKept,
        dropKept,
      },
    }),
);

/** Removes expired kept transfers and the partial files nobody resumes or keeps. */
async function keepPartials() {
  const resume = await resumeReady;
  const keep = await resume.livePartialNames(Date.now());
  for (const name of await new ReceivedStore(await backendReady).names('partial').catch(() => new Set())) keep.add(name);
  await cleanPartials(keep).catch(() => {});
}

/** The controller once made: `beforeunload` cannot wait for a promise. @type {Controller | null} */
let app = null;
appReady.then((a) => (app = a));

/**
 * Leaving the page asks first while the controller says so (a transfer offered or running, a
 * received file never saved). The browser shows its own wording. Before the controller exists
 * nothing asks: nothing can be moving yet.
 */
function warnBeforeLeaving() {
  window.addEventListener('beforeunload', (ev) => {
    if (!app?.shouldWarnBeforeLeaving()) return;
    ev.preventDefault();
    ev.returnValue = '';
  });
}

/** @returns {Promise<Devices>} */
async function openDevices() {
  const store = new Store(await backendReady);
  return new Devices({ store, identity: await store.identity(), ownName: await store.ownName(navigator.userAgent) });
}

/**
 * Files for the pairing session, chosen or shared possibly before the controller exists (they
 * keep their order: each waits for the same promise).
 * @param {File[]} files
 */
function offer(files) {
  appReady.then((a) => a.offer(files));
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
  // The zone only shows where to drop; the page's own drop handler below takes the files.
  zone.addEventListener('dragover', () => zone.classList.add('over'));
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', () => zone.classList.remove('over'));
  // Paste: files (a screenshot, files copied in a file manager) go like chosen ones while a
  // pairing is shown; text pasted outside a field goes into the text box, to be sent on purpose.
  addEventListener('paste', (ev) => {
    const data = ev.clipboardData;
    if (!data || byId('paired').hidden) return;
    const target = ev.target instanceof Element ? ev.target : null;
    if (target?.closest('input, textarea, [contenteditable]')) return;
    const pasted = [...data.files];
    const text = data.getData('text/plain');
    if (pasted.length > 0) {
      ev.preventDefault();
      offer(pasted);
    } else if (text) {
      ev.preventDefault();
      const input = byId('text-input', HTMLTextAreaElement);
      input.value = text;
      input.focus();
    }
  });
  // Files dropped anywhere (the zone included) must not make the browser open them in place of
  // the app: while a pairing is shown they are offered like chosen ones, otherwise the page says
  // where to drop. A device entry takes its own drops (`ui/devices-view.js`).
  addEventListener('dragover', (ev) => ev.preventDefault());
  addEventListener('drop', (ev) => {
    ev.preventDefault();
    const target = ev.target instanceof Element ? ev.target : null;
    if (target?.closest('li.device') || !ev.dataTransfer?.types.includes('Files')) return;
    if (byId('paired').hidden) {
      showProblem('Nothing was sent: drop files on one of your devices when it is online, or pair a device first.');
      return;
    }
    droppedFiles(ev.dataTransfer).then(offer, () =>
      showProblem('Some of the dropped files could not be read, so nothing was sent. Choose them with "Choose files" or "Choose a folder" instead.'),
    );
  });
}

/** @param {Devices} devices @param {Controller} app */
function wireDevices(devices, app) {
  const actions = {
    /** @param {string} id @param {string} name */
    rename: (id, name) => void devices.rename(id, name).catch(() => {}),
    /** @param {string} id @param {boolean} on */
    autoAccept: (id, on) => void devices.setAutoAccept(id, on).catch(() => {}),
    /** @param {string} id @param {File[]} files */
    send: (id, files) => app.sendTo(id, files),
    /** @param {string} id */
    forget: (id) => void devices.forget(id).catch(() => {}),
  };
  const redraw = () => {
    const list = devices.list();
    showDevices(list, actions);
    showDeviceCount(list.length, list.filter((d) => d.online).length);
  };
  devices.addEventListener('change', redraw);
  devices.addEventListener('online', (ev) => {
    const { id, channel } = /** @type {CustomEvent} */ (ev).detail;
    app.online(id, channel);
  });
  devices.addEventListener('notice', (ev) => {
    const { code, name } = /** @type {CustomEvent} */ (ev).detail;
    showDeviceNotice(code, name);
  });
  const own = () =>
    showOwnName(devices.ownName, (name) => void devices.setOwnName(name).then(own, own));
  own();
  redraw();
}

/** The pairing whose QR code or code is on screen, so Cancel can end it. @type {Connection | null} */
let shown = null;

async function main() {
  registerServiceWorker();
  // A pairing link opened in a tab that already shows the app changes only the fragment.
  addEventListener('hashchange', () => {
    if (location.hash.startsWith('#pair=')) location.reload();
  });
  wireFilePicker();
  wireTextForm((text) => void appReady.then((a) => a.sendText(text)));
  warnBeforeLeaving();
  byId('copy-link').addEventListener('click', () => {
    navigator.clipboard?.writeText(byId('pair-link', HTMLInputElement).value).catch(() => {});
  });
  const hash = location.hash;
  if (hash.startsWith('#pair=')) {
    // The secret has done its job once read; keep it out of history and bookmarks. The query
    // stays: it is the page's own settings (`?ice=relay`, read when the connection starts).
    history.replaceState(null, '', location.pathname + location.search);
    hideHome();
    showStatus('connecting');
  } else {
    byId('pair-button').addEventListener('click', async () => {
      const devices = await devicesReady;
      const { link, connection } = await Connection.initiate(location.origin, devices.identity);
      shown = connection;
      (await appReady).follow(connection);
      showPairing(link);
      showStatus('waiting');
    });
  }
  // Offers say so with a notification when the page is in the background: ask once, when the
  // person starts a pairing (a click, which browsers require for the question).
  for (const id of ['pair-button', 'code-button']) {
    byId(id).addEventListener('click', () => {
      if (typeof Notification !== 'undefined' && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    });
  }
  byId('code-button').addEventListener('click', async () => {
    const devices = await devicesReady;
    const { code, connection } = await Connection.initiateByCode(devices.identity);
    shown = connection;
    (await appReady).follow(connection);
    showPairingCode(code);
    showStatus('waiting');
  });
  for (const id of ['cancel-pairing', 'cancel-code']) {
    byId(id).addEventListener('click', () => {
      // Nobody can use that QR code or code any more: its room is left.
      shown?.close();
      shown = null;
      showHome();
    });
  }
  // The paired device's session goes on (it is listed under "Your devices"); the home screen
  // starts the next pairing.
  byId('pair-another').addEventListener('click', () => showHome());
  byId('code-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const typed = byId('code-input', HTMLInputElement).value;
    const devices = await devicesReady;
    try {
      const connection = await Connection.respondByCode(typed, devices.identity);
      (await appReady).follow(connection);
      hideHome();
      showStatus('connecting');
    } catch (e) {
      showError(e instanceof ProtocolError ? e.code : 'bad-code');
    }
  });
  await pickUpShared();
  const devices = await devicesReady;
  const controller = await appReady;
  wireDevices(devices, controller);
  if (hash.startsWith('#pair=')) {
    try {
      controller.follow(await Connection.respond(hash, devices.identity));
    } catch (e) {
      showStatus('error');
      showError(e instanceof ProtocolError ? e.code : 'bad-link');
    }
  }
  await devices.start();
  await controller.listKept();
}

main();
