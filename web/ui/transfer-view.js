/**
 * @file Transfers on screen: the accept/decline prompt, one progress row per transfer
 * (bytes, percent, rate) and the list of received files as download links.
 */

/** @import { Incoming, Outgoing } from '../lib/file-transfer.js' */

import { sentence } from '../lib/errors.js';
import { byId, el } from './dom.js';
import { bytes, rate } from './format.js';

/** Progress rows are redrawn at most this often, in milliseconds. */
const REDRAW_MS = 200;

/**
 * Adds a progress row for `t` and keeps it current.
 * @param {Incoming | Outgoing} t
 * @param {'send' | 'receive'} direction
 */
export function showTransfer(t, direction) {
  const row = el('li', 'transfer');
  row.dataset.direction = direction;
  const count = t.files.length === 1 ? t.files[0].name : `${t.files.length} files`;
  const label = el('div', 'label', `${direction === 'send' ? 'Sending' : 'Receiving'} ${count}`);
  const bar = el('progress');
  bar.max = Math.max(t.total, 1);
  const stats = el('div', 'stats');
  const cancel = el('button', 'cancel-button', 'Cancel');
  cancel.type = 'button';
  cancel.addEventListener('click', () => t.cancel?.());
  row.append(label, bar, stats, cancel);
  byId('transfers').prepend(row);

  let last = 0;
  const redraw = () => {
    row.dataset.state = t.state;
    cancel.hidden = !['offered', 'active'].includes(t.state);
    bar.value = t.state === 'done' ? bar.max : t.bytes;
    const pct = t.total > 0 ? Math.floor((100 * t.bytes) / t.total) : 100;
    if (t.state === 'offered') stats.textContent = direction === 'send' ? 'Waiting for the other device to accept…' : 'Waiting for you to accept…';
    else if (t.state === 'active') stats.textContent = `${bytes(t.bytes)} of ${bytes(t.total)} · ${pct}% · ${rate(t.rate)}`;
    else if (t.state === 'done') stats.textContent = `Done: ${bytes(t.total)} at ${rate(t.rate)}`;
    else stats.textContent = sentence(t.error ?? t.state);
  };
  t.addEventListener('state', redraw);
  t.addEventListener('progress', () => {
    const now = performance.now();
    if (now - last >= REDRAW_MS) {
      last = now;
      redraw();
    }
  });
  redraw();
}

/**
 * Asks whether to accept `incoming`, then hides the prompt.
 * @param {Incoming} incoming
 */
export function askToAccept(incoming) {
  const box = byId('incoming');
  const list = byId('incoming-files');
  list.replaceChildren(...incoming.files.map((f) => el('li', '', `${f.name} — ${bytes(f.size)}`)));
  box.hidden = false;
  const accept = byId('accept-button', HTMLButtonElement);
  const decline = byId('decline-button', HTMLButtonElement);
  const close = () => {
    box.hidden = true;
    accept.onclick = null;
    decline.onclick = null;
  };
  accept.onclick = () => {
    close();
    incoming.accept?.();
  };
  decline.onclick = () => {
    close();
    incoming.decline?.();
  };
  incoming.addEventListener('state', () => {
    if (incoming.state !== 'offered') close();
  });
}

/**
 * Lists a verified, complete file as a download link; `data-storage` says where its bytes are
 * (`opfs`: on disk, `memory`: in the page). Files of a folder go in that folder's list
 * (`received-folders.js`).
 * @param {{ name: string, size: number, blob: Blob, storage?: string, dir?: string[] }} file
 * @param {HTMLElement} [list] where the link goes; `#received` by default
 */
export function showReceived(file, list = byId('received')) {
  byId('received-section').hidden = false;
  const path = [...(file.dir ?? []), file.name].join('/');
  const link = el('a', 'download', path);
  if (file.dir) link.dataset.path = path;
  link.href = URL.createObjectURL(file.blob);
  link.download = file.name;
  link.dataset.size = String(file.size);
  if (file.storage) link.dataset.storage = file.storage;
  const item = el('li');
  item.append(link, el('span', 'hint', ` ${bytes(file.size)}`));
  list.append(item);
}
