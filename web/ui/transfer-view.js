/**
 * @file Transfers on screen: the accept/decline prompt, one progress row per transfer
 * (bytes, percent, rate, time left; an interrupted one says what is kept and that it continues when the
 * device is back) and the list of received files as download links. A row's
 * `data-chunk-bytes` counts the file bytes that went over the link in its session. The prompt
 * and the rows name the other device once its name is known ("Pixel 8 wants to send you",
 * "Receiving a.txt from Pixel 8"), and say "the other device" until then; a name comes from
 * the other device, so it is only ever set as text.
 */

/** @import { Incoming, Outgoing } from '../lib/transfers/file-transfer.js' */

import { sentence } from '../lib/proto/errors.js';
import { byId, el } from './dom.js';
import { bytes, rate, timeLeft } from './format.js';

/** Progress rows are redrawn at most this often, in milliseconds. */
const REDRAW_MS = 200;

/**
 * Files an offer lists by name; the rest are counted in one line. A folder of 2 000 files
 * listed in full pushed the Accept button 2 000 lines down the page (and, while the page
 * settled, a click meant for it landed on the transfer row's Cancel in a full test run).
 */
const OFFER_LINES = 8;

/** What the prompt and the rows call a device whose name is not known. */
const UNNAMED = 'the other device';

/**
 * What an interrupted transfer's row says.
 * @param {Incoming | Outgoing} t
 * @param {string} device
 * @returns {string}
 */
function interrupted(t, device) {
  if (!('kept' in t)) return `Interrupted — it is offered again when ${device} is back`;
  if (t.kept === 0 && !t.discard) return 'Interrupted';
  return `Interrupted — ${bytes(t.kept)} of ${bytes(t.total)} kept; it continues when ${device} is back`;
}

/** Interrupted sends offered again: their rows say so instead of waiting for the device. */
const continued = new WeakSet();
/** Each row's redraw, by its transfer. @type {WeakMap<object, () => void>} */
const redraws = new WeakMap();

/**
 * An interrupted send was offered again (it has a new row above): its old row says so, where
 * it kept saying "it is offered again when … is back" even after the new one was done. The
 * row is redrawn directly: a made-up `state` event would reach the transfer's other listeners
 * too (the controller's, which queued the send again).
 * @param {Incoming | Outgoing} t
 */
export function markContinued(t) {
  continued.add(t);
  redraws.get(t)?.();
}

/**
 * Adds a progress row for `t` and keeps it current.
 * @param {Incoming | Outgoing} t
 * @param {'send' | 'receive'} direction
 * @param {() => string} [device] the other device's name, `''` while it is not known
 * @param {() => string} [path] `direct` or `relayed` once known (said beside the rate)
 * @returns {() => void} redraws the row (e.g. when the path or the device's name is known or changed)
 */
export function showTransfer(t, direction, device = () => '', path = () => '') {
  const row = el('li', 'transfer');
  row.dataset.direction = direction;
  if (('resuming' in t && t.resuming) || ('resumed' in t && t.resumed)) row.dataset.resumed = 'true';
  const count = t.files.length === 1 ? t.files[0].name : `${t.files.length} files`;
  const verb = 'resuming' in t && t.resuming ? 'Resuming' : direction === 'send' ? 'Sending' : 'Receiving';
  const label = el('div', 'label');
  const bar = el('progress');
  bar.max = Math.max(t.total, 1);
  const stats = el('div', 'stats');
  // Secondary: a row's Cancel sits near the offer's Accept, which is the primary action.
  const cancel = el('button', 'cancel-button secondary', 'Cancel');
  cancel.type = 'button';
  cancel.addEventListener('click', () => (t.state === 'interrupted' && 'discard' in t ? t.discard?.() : t.cancel?.()));
  row.append(label, bar, stats, cancel);
  byId('transfers').prepend(row);

  let last = 0;
  const redraw = () => {
    const name = device();
    label.textContent = `${verb} ${count}${name ? (direction === 'send' ? ` to ${name}` : ` from ${name}`) : ''}`;
    row.dataset.state = t.state;
    row.dataset.chunkBytes = String(t.chunkBytes);
    const via = path();
    if (via) row.dataset.path = via;
    const discardable = t.state === 'interrupted' && 'discard' in t && !!t.discard;
    cancel.textContent = discardable ? 'Discard' : 'Cancel';
    cancel.hidden = !['offered', 'active'].includes(t.state) && !discardable;
    bar.value = t.state === 'done' ? bar.max : t.bytes;
    const pct = t.total > 0 ? Math.floor((100 * t.bytes) / t.total) : 100;
    if (t.state === 'offered' && 'resuming' in t && t.resuming) stats.textContent = 'Resuming…';
    else if (t.state === 'offered' && direction === 'receive' && 'resumed' in t && t.resumed) stats.textContent = 'Resuming…';
    else if (t.state === 'offered') stats.textContent = direction === 'send' ? `Waiting for ${name || UNNAMED} to accept…` : 'Waiting for you to accept…';
    else if (t.state === 'interrupted' && continued.has(t)) {
      stats.textContent = 'Interrupted — continued in a new row above';
      cancel.hidden = true;
    } else if (t.state === 'interrupted') stats.textContent = interrupted(t, name || UNNAMED);
    else if (t.state === 'active') stats.textContent = [`${bytes(t.bytes)} of ${bytes(t.total)}`, `${pct}%`, rate(t.rate), via, timeLeft(t.total - t.bytes, t.rate)].filter(Boolean).join(' · ');
    else if (t.state === 'done') stats.textContent = [`Done: ${bytes(t.total)} at ${rate(t.rate)}`, via].filter(Boolean).join(' · ');
    else stats.textContent = sentence(t.error ?? t.state);
  };
  redraws.set(t, redraw);
  t.addEventListener('state', redraw);
  t.addEventListener('progress', () => {
    const now = performance.now();
    if (now - last >= REDRAW_MS || t.state !== 'active') {
      last = now;
      redraw();
    }
  });
  redraw();
  return redraw;
}

/**
 * An offer waiting for an answer: the prompt shows the oldest; the others wait their turn.
 * @typedef {{ incoming: Incoming, from: () => string, name: () => void }} Asked
 */

/** Offers not answered yet, oldest first; the first is on screen. @type {Asked[]} */
const asked = [];

/**
 * Asks whether to accept `incoming`. One offer is asked about at a time: one that arrives while
 * another is on screen waits (the prompt says how many do) and is asked next, so no offer is
 * left without a way to answer it. An offer that ends unanswered (the sender cancelled, the
 * session closed) leaves the queue.
 * @param {Incoming} incoming
 * @param {() => string} [from] the sending device's name, `''` while it is not known
 * @returns {() => void} says the sender's name again (e.g. once it is known); nothing while
 *   the offer waits its turn or after it was answered
 */
export function askToAccept(incoming, from = () => '') {
  /** @type {Asked} */
  const entry = { incoming, from, name: () => {} };
  asked.push(entry);
  incoming.addEventListener('state', () => {
    if (incoming.state !== 'offered') done(entry);
  });
  if (asked.length === 1) present(entry);
  else waiting();
  return () => entry.name();
}

/**
 * Takes `entry` off the queue (answered or ended); the next offer still waiting is asked.
 * @param {Asked} entry
 */
function done(entry) {
  const at = asked.indexOf(entry);
  if (at < 0) return;
  asked.splice(at, 1);
  entry.name = () => {};
  if (at !== 0) {
    waiting();
    return;
  }
  const box = byId('incoming');
  box.hidden = true;
  for (const id of ['accept-button', 'accept-folder-button', 'decline-button']) byId(id, HTMLButtonElement).onclick = null;
  if (asked.length > 0) present(asked[0]);
  else document.title = TITLE;
}

/** The page's own title, put back once no offer waits. */
const TITLE = 'Pairwise';

/**
 * Draws attention to an offer: the tab's title says it, and when the page is in the
 * background and notifications were allowed, a notification does too (clicking it brings the
 * tab forward).
 * @param {string} sender
 * @param {number} files
 */
function attention(sender, files) {
  const what = `${sender || 'The other device'} wants to send you ${files === 1 ? 'a file' : `${files} files`}`;
  document.title = `${what} — ${TITLE}`;
  if (!document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  try {
    const note = new Notification(what, { tag: 'pairwise-offer' });
    note.onclick = () => {
      window.focus();
      note.close();
    };
  } catch {
    // Some browsers only notify from a service worker; the title still says it.
  }
}

/** Says how many more offers wait behind the one on screen. */
function waiting() {
  const more = byId('incoming-more');
  const n = asked.length - 1;
  more.hidden = n < 1;
  more.textContent = n === 1 ? 'One more offer waits after this one.' : `${n} more offers wait after this one.`;
}

/**
 * Puts `entry` on screen with its buttons.
 * @param {Asked} entry
 */
function present(entry) {
  const { incoming } = entry;
  const box = byId('incoming');
  const title = byId('incoming-title');
  const list = byId('incoming-files');
  entry.name = () => {
    const sender = entry.from();
    title.textContent = `${sender || 'The other device'} wants to send you`;
    if (sender) title.dataset.device = sender;
    else delete title.dataset.device;
  };
  entry.name();
  attention(entry.from(), incoming.files.length);
  const files = incoming.files;
  const shown = files.length > OFFER_LINES ? files.slice(0, OFFER_LINES - 1) : files;
  const rest = files.slice(shown.length);
  const restBytes = rest.reduce((n, f) => n + f.size, 0);
  list.replaceChildren(
    ...shown.map((f) => el('li', '', `${f.name} — ${bytes(f.size)}`)),
    ...(rest.length ? [el('li', 'more', `… and ${rest.length} more files — ${bytes(restBytes)}`)] : []),
  );
  waiting();
  box.hidden = false;
  const accept = byId('accept-button', HTMLButtonElement);
  const intoFolder = byId('accept-folder-button', HTMLButtonElement);
  const decline = byId('decline-button', HTMLButtonElement);
  accept.onclick = () => {
    done(entry);
    incoming.accept?.();
  };
  // Straight into a folder where the browser lets a page write one (Chromium desktop).
  intoFolder.hidden = !('showDirectoryPicker' in window);
  intoFolder.onclick = async () => {
    /** @type {FileSystemDirectoryHandle} */
    let folder;
    try {
      folder = await /** @type {any} */ (window).showDirectoryPicker({ id: 'pairwise-receive', mode: 'readwrite' });
    } catch (e) {
      // No folder chosen (or not allowed): the question stays open.
      if (!(e instanceof DOMException && e.name === 'AbortError')) console.warn('choosing a folder failed', e);
      return;
    }
    if (incoming.state !== 'offered' || asked[0] !== entry) return;
    done(entry);
    incoming.accept?.({ folder });
  };
  decline.onclick = () => {
    done(entry);
    incoming.decline?.();
  };
}

/** Raster image types that get a thumbnail (not SVG: a drawing the page need not interpret). */
const THUMB_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);
/** Larger images are not decoded just for a thumbnail (memory on phones). */
const THUMB_MAX_BYTES = 20 * 1024 * 1024;

/** @param {{ size: number, type?: string }} file */
function thumbnailed(file) {
  return !!file.type && THUMB_TYPES.has(file.type) && file.size > 0 && file.size <= THUMB_MAX_BYTES;
}

/**
 * Lists a verified, complete file as a download link; `data-storage` says where its bytes are
 * (`opfs`: on disk, `memory`: in the page). Files of a folder go in that folder's list
 * (`received-folders.js`). A kept file (`received-kept.js`) also gets a Remove button, and a
 * click on its link counts as saved. A raster image (by the type the sender gave) that is not
 * too large gets a small thumbnail beside its link.
 * @param {{ name: string, size: number, blob: Blob, type?: string, storage?: string, dir?: string[] }} file
 * @param {HTMLElement} [list] where the link goes; `#received` by default
 * @param {{ remove?: () => void, saved?: () => void }} [kept]
 * @returns {HTMLElement} the list item
 */
export function showReceived(file, list = byId('received'), kept = {}) {
  byId('received-section').hidden = false;
  const path = [...(file.dir ?? []), file.name].join('/');
  const link = el('a', 'download', path);
  if (file.dir) link.dataset.path = path;
  link.href = URL.createObjectURL(file.blob);
  link.download = file.name;
  link.dataset.size = String(file.size);
  if (file.storage) link.dataset.storage = file.storage;
  const item = el('li');
  if (thumbnailed(file)) {
    // An <img> decodes the picture without running anything in it; the type is the sender's
    // claim, and a file that is not the image it claims just shows no picture.
    const thumb = el('img', 'thumb');
    thumb.alt = '';
    thumb.loading = 'lazy';
    thumb.decoding = 'async';
    thumb.src = link.href;
    thumb.width = 48;
    thumb.height = 48;
    thumb.addEventListener('error', () => thumb.remove());
    item.append(thumb, ' ');
  }
  item.append(link, el('span', 'hint', ` ${bytes(file.size)}`));
  const { remove, saved } = kept;
  if (saved) link.addEventListener('click', saved);
  if (remove) {
    const button = el('button', 'remove-received secondary', 'Remove');
    button.type = 'button';
    button.addEventListener('click', () => {
      URL.revokeObjectURL(link.href);
      item.remove();
      remove();
    });
    item.append(' ', button);
  }
  list.append(item);
  return item;
}
