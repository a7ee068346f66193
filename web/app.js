/**
 * @file Entry point: wires the protocol library (`lib/`) to the screens (`ui/`). A page opened
 * with `#pair=...` joins that pairing; otherwise "Pair a device" starts one and shows its QR code.
 * Paired devices are remembered (`lib/net/devices.js`) and listed under "Your devices", where the
 * ones online can be sent files with no QR code. A page opened with `?share=1` (by the service
 * worker, after "Share -> Pairwise") queues the shared files like chosen ones. Transfers between
 * known devices resume (`docs/protocol.md` §11.3): files whose sending was interrupted are
 * offered again by themselves when their device is back (while this page stays open), and
 * partly received files are kept across reloads (`lib/storage/resume-store.js`). Registers the service
 * worker (`sw.js`) where there is one.
 */

/** @import { SecureChannel } from './lib/net/secure-channel.js' */
/** @import { Outgoing } from './lib/transfers/file-transfer.js' */

import { Connection } from './lib/net/connection.js';
import { Devices, deviceId, sendDeviceName } from './lib/net/devices.js';
import { droppedFiles } from './lib/files/dropped.js';
import { ProtocolError, SESSION_OVER } from './lib/proto/errors.js';
import { Transfers } from './lib/transfers/file-transfer.js';
import { openIdb } from './lib/storage/idb.js';
import { openedByShare, takeSharedFiles } from './lib/files/share-inbox.js';
import { ResumeStore, partialName } from './lib/storage/resume-store.js';
import { ReceivedStore } from './lib/storage/received-store.js';
import { cleanPartials, removePartial } from './lib/files/sink.js';
import { Store, UNNAMED_DEVICE, memoryBackend } from './lib/storage/store.js';
import { showDeviceNotice, showDevices, showOwnName } from './ui/devices-view.js';
import { dropKept, showKept } from './ui/kept-view.js';
import { byId } from './ui/dom.js';
import { hideHome, showError, showPaired, showPairing, showPairingEnded, showProblem, showStatus } from './ui/pairing-view.js';
import { hideShared, showShared } from './ui/share-view.js';
import { showText, wireTextForm } from './ui/text-view.js';
import { showReceivedFiles } from './ui/received-folders.js';
import { KeptReceived } from './ui/received-kept.js';
import { askToAccept, showTransfer } from './ui/transfer-view.js';

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

/** Removes expired kept transfers and the partial files nobody resumes or keeps. */
async function keepPartials() {
  const resume = await resumeReady;
  const keep = await resume.livePartialNames(Date.now());
  for (const name of await new ReceivedStore(await backendReady).names('partial').catch(() => new Set())) keep.add(name);
  await cleanPartials(keep).catch(() => {});
}

/** Ids of kept transfers offered again in this page load (they are not listed as kept). */
const offeredAgain = new Set();

/**
 * Shows the transfers kept from earlier page loads (what is kept, from whom, and a Discard).
 * @param {Devices} devices
 * @param {ResumeStore} resume
 */
async function listKept(devices, resume) {
  const records = (await resume.partials().catch(() => [])).filter((r) => !offeredAgain.has(r.id));
  showKept(records, {
    deviceName: (peer) => devices.list().find((d) => d.id === peer)?.name ?? 'the other device',
    discard: async (r) => {
      await resume.deletePartial(r.peer, r.id);
      for (const index of Object.keys(r.files)) await removePartial(partialName(r.id, Number(index)));
    },
  });
}

/** Transfers of this page load; the ones still offered or active make leaving the page ask. */
/** @type {Set<{ state: string }>} */
const moving = new Set();

/**
 * Leaving the page asks first while a transfer is offered or running (leaving ends it; a
 * resumable one continues later) or a received file was never saved (it stays kept, but the
 * person may not know that). The browser shows its own wording.
 */
function warnBeforeLeaving() {
  window.addEventListener('beforeunload', (ev) => {
    for (const t of moving) if (t.state !== 'offered' && t.state !== 'active') moving.delete(t);
    if (moving.size === 0 && (keptReceived?.unsaved ?? 0) === 0) return;
    ev.preventDefault();
    ev.returnValue = '';
  });
}

/** The kept received files, once read (beforeunload cannot wait for a promise). */
/** @type {KeptReceived | null} */
let keptReceived = null;
receivedReady.then((k) => (keptReceived = k)).catch(() => {});

/** Files whose sending was interrupted, by device id: offered again when the device is back. */
/** @type {Map<string, File[][]>} */
const toResume = new Map();

/** Transfers of every open session, by device id. */
/** @type {Map<string, Transfers>} */
const sessions = new Map();

/** The pairing session's transfers, once its channel is ready; files chosen before wait here. */
/** @type {Transfers | null} */
let transfers = null;
/** @type {File[][]} */
const waiting = [];
/** Texts typed before the pairing's channel was ready. @type {string[]} */
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

/** @returns {Promise<Devices>} */
async function openDevices() {
  const store = new Store(await backendReady);
  return new Devices({ store, identity: await store.identity(), ownName: await store.ownName(navigator.userAgent) });
}

/**
 * Puts file transfers on a confirmed session's channel and shows them.
 * @param {Devices} devices
 * @param {SecureChannel} channel
 * @param {Promise<string>} id the peer's device id
 * @param {ResumeStore} resume
 * @returns {Transfers}
 */
function attach(devices, channel, id, resume) {
  const t = new Transfers(channel, { peer: id, resume });
  let device = '';
  id.then((d) => (device = d));
  /** The name the other device gave itself in this session's `device` message (§10.7). */
  let told = '';
  /**
   * The device's name as the offer and the rows say it: the name given to it here, else the
   * one it told (known before its first offer, even if it cannot be remembered), else its
   * remembered one; '' while none is known. A device not yet named is not called "Unnamed".
   */
  const peerName = () => {
    const d = devices.list().find((x) => x.id === device);
    if (d?.nameSetByUser) return d.name;
    return told || (d && d.name !== UNNAMED_DEVICE ? d.name : '');
  };
  /** `direct` or `relayed`, once the connection knows (shown in each transfer row). */
  let path = '';
  /**
   * This session's rows and offer, redrawn when the path or the device's name becomes known or
   * changes. @type {(() => void)[]}
   */
  const rows = [];
  channel.watchPath((p) => {
    path = p.relayed ? 'relayed' : 'direct';
    console.info(`connected ${path} (${p.local}/${p.remote})`);
    for (const redraw of rows) redraw();
  });
  t.addEventListener('outgoing', (ev) => {
    const out = /** @type {CustomEvent<Outgoing>} */ (ev).detail;
    moving.add(out);
    rows.push(showTransfer(out, 'send', peerName, () => path));
    out.addEventListener('state', () => {
      if (out.state !== 'interrupted') return;
      id.then((d) => toResume.set(d, [...(toResume.get(d) ?? []), out.sources]));
    });
  });
  t.addEventListener('incoming', (ev) => {
    const incoming = /** @type {CustomEvent} */ (ev).detail;
    moving.add(incoming);
    if (incoming.transferId) offeredAgain.add(incoming.transferId);
    dropKept(incoming.transferId);
    rows.push(showTransfer(incoming, 'receive', peerName, () => path));
    receivedReady.then(
      (kept) => showReceivedFiles(incoming, (file) => kept.keep(file, peerName() || 'the other device')),
      () => showReceivedFiles(incoming),
    );
    // A transfer accepted before and kept continues without asking again.
    id.then((d) => {
      if (incoming.resumed || devices.autoAccept(d)) incoming.accept?.();
      else rows.push(askToAccept(incoming, peerName));
    });
  });
  t.addEventListener('text', (ev) => showText(/** @type {CustomEvent<string>} */ (ev).detail, 'received'));
  t.addEventListener('device', (ev) => {
    const name = /** @type {CustomEvent} */ (ev).detail.name;
    told = name;
    for (const redraw of rows) redraw();
    id.then((d) => devices.peerNamed(d, name)).catch(() => {});
  });
  id.then((d) => {
    sessions.set(d, t);
    const again = toResume.get(d) ?? [];
    toResume.delete(d);
    for (const files of again) t.send(files, { resuming: true });
    channel.addEventListener('closed', () => {
      if (sessions.get(d) === t) sessions.delete(d);
    });
  });
  return t;
}

/** @param {File[]} files */
function offer(files) {
  if (files.length === 0) return;
  if (transfers) transfers.send(files);
  else waiting.push(files);
}


/**
 * Shows a pairing session and remembers its device once the channel is ready.
 * @param {Devices} devices
 * @param {Connection} connection
 * @param {ResumeStore} resume
 */
function follow(devices, connection, resume) {
  connection.addEventListener('state', (ev) => showStatus(/** @type {CustomEvent} */ (ev).detail));
  connection.addEventListener('paired', (ev) => showPaired(/** @type {CustomEvent} */ (ev).detail.sas));
  /** Set once the pairing's device is remembered: its later sessions live under "Your devices". */
  let remembered = false;
  connection.addEventListener('error', (ev) => {
    const code = /** @type {CustomEvent} */ (ev).detail.code;
    if (remembered) transfers = null;
    if (remembered && SESSION_OVER.has(code)) {
      // The other device closed the session or went away; the device itself is remembered.
      console.info(`pairing session over (${code})`);
      showPairingEnded();
      return;
    }
    showStatus('error');
    showError(code);
  });
  connection.addEventListener('ready', (ev) => {
    const { channel, peerIdentity, pairingKey } = /** @type {CustomEvent} */ (ev).detail;
    // Our `device` message is the session's first record (protocol.md §10.7).
    sendDeviceName(channel, devices.ownName);
    transfers = attach(devices, channel, deviceId(peerIdentity), resume);
    for (const files of waiting.splice(0)) transfers.send(files);
    for (const text of waitingTexts.splice(0)) sendText(text);
    hideShared();
    devices.paired({ channel, peerIdentity, pairingKey, source: connection }).then(
      () => (remembered = true),
      () => showDeviceNotice('too-many-devices', '', 'This device already remembers 32 devices: forget one to remember a new one.'),
    );
  });
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
    if (!ev.dataTransfer) return;
    droppedFiles(ev.dataTransfer).then(offer, () =>
      showProblem('Some of the dropped files could not be read, so nothing was sent. Choose them with "Choose files" or "Choose a folder" instead.'),
    );
  });
}

/** @param {Devices} devices @param {ResumeStore} resume */
function wireDevices(devices, resume) {
  const actions = {
    /** @param {string} id @param {string} name */
    rename: (id, name) => void devices.rename(id, name).catch(() => {}),
    /** @param {string} id @param {boolean} on */
    autoAccept: (id, on) => void devices.setAutoAccept(id, on).catch(() => {}),
    /** @param {string} id @param {File[]} files */
    send: (id, files) => void sessions.get(id)?.send(files),
    /** @param {string} id */
    forget: (id) => void devices.forget(id).catch(() => {}),
  };
  const redraw = () => showDevices(devices.list(), actions);
  devices.addEventListener('change', redraw);
  devices.addEventListener('online', (ev) => {
    const { id, channel } = /** @type {CustomEvent} */ (ev).detail;
    attach(devices, channel, Promise.resolve(id), resume);
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

async function main() {
  registerServiceWorker();
  // A pairing link opened in a tab that already shows the app changes only the fragment.
  addEventListener('hashchange', () => {
    if (location.hash.startsWith('#pair=')) location.reload();
  });
  wireFilePicker();
  wireTextForm(sendText);
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
      follow(devices, connection, await resumeReady);
      showPairing(link);
      showStatus('waiting');
    });
  }
  await pickUpShared();
  const devices = await devicesReady;
  wireDevices(devices, await resumeReady);
  if (hash.startsWith('#pair=')) {
    try {
      follow(devices, await Connection.respond(hash, devices.identity), await resumeReady);
    } catch (e) {
      showStatus('error');
      showError(e instanceof ProtocolError ? e.code : 'bad-link');
    }
  }
  await devices.start();
  await listKept(devices, await resumeReady);
}

main();
