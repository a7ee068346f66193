/**
 * @file Received files on screen, folders grouped: the files of one transfer that share a top
 * folder get one entry ("Album · 200 files · 12.3 MB") with "Download folder (.zip)" (written on
 * the first click by `lib/files/folder-zip.js`, then downloaded) and, where the browser has
 * `showDirectoryPicker`, "Save folder to…" (`lib/files/save-folder.js`). The folder's own file links
 * stay, in a collapsed list. Files outside any folder are listed one by one as before.
 *
 * UI contract: `#received li.folder[data-folder=NAME][data-state=receiving|complete|incomplete]`,
 * `a.folder-zip[data-folder=NAME][data-state=waiting|idle|preparing|ready]` (an `href` once the
 * zip is written), `button.folder-save[data-folder=NAME]`, `.folder-status`.
 */

/** @import { Incoming } from '../lib/transfers/file-transfer.js' */
/** @typedef {import('../lib/files/folder-zip.js').FolderFile} FolderFile */

import { canZip, zipFolder } from '../lib/files/folder-zip.js';
import { saveTree } from '../lib/files/save-folder.js';
import { byId, el } from './dom.js';
import { bytes } from './format.js';
import { showReceived } from './transfer-view.js';

/**
 * Lists what `incoming` hands over: loose files as links, folders grouped.
 * @param {Incoming} incoming
 * @param {(file: any) => { remove?: () => void, saved?: () => void }} [keep] keeps a file that
 *   arrived (`received-kept.js`); a loose file's link then has its Remove button
 */
export function showReceivedFiles(incoming, keep = () => ({})) {
  /** @type {Map<string, FolderEntry>} */
  const folders = new Map();
  incoming.addEventListener('file', (ev) => {
    const file = /** @type {CustomEvent} */ (ev).detail;
    const kept = keep(file);
    const top = file.dir?.[0];
    if (!top) {
      showReceived(file, undefined, kept);
      return;
    }
    let folder = folders.get(top);
    if (!folder) {
      folder = new FolderEntry(top);
      folders.set(top, folder);
    }
    folder.add(file);
  });
  incoming.addEventListener('state', () => {
    if (incoming.state === 'done') for (const f of folders.values()) f.complete();
    else if (incoming.state !== 'active') for (const f of folders.values()) f.incomplete();
  });
}

/**
 * Lists a received folder kept from an earlier page load (`received-kept.js`): one entry, as when
 * it arrived, complete (its zip can be written again).
 * @param {string} name the top folder
 * @param {{ name: string, size: number, blob: Blob, storage?: string, dir?: string[] }[]} files
 */
export function showKeptFolder(name, files) {
  const folder = new FolderEntry(name);
  for (const f of files) folder.add(f);
  folder.complete();
}

/** One received folder on screen. */
class FolderEntry {
  /** @type {FolderFile[]} */
  files = [];
  size = 0;

  /** @param {string} name */
  constructor(name) {
    this.name = name;
    this.item = el('li', 'folder');
    this.item.dataset.folder = name;
    this.item.dataset.state = 'receiving';
    this.summary = el('span', 'hint');
    this.zip = el('a', 'folder-zip', 'Download folder (.zip)');
    this.zip.dataset.folder = name;
    this.zip.dataset.state = 'waiting';
    this.zip.setAttribute('role', 'button');
    this.zip.setAttribute('aria-disabled', 'true');
    this.zip.tabIndex = 0;
    this.zip.addEventListener('click', (ev) => this.#onZipClick(ev));
    this.zip.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && this.zip.dataset.state !== 'ready') this.zip.click();
    });
    this.save = el('button', 'folder-save secondary', 'Save folder to…');
    this.save.type = 'button';
    this.save.dataset.folder = name;
    this.save.hidden = true;
    this.save.addEventListener('click', () => void this.#saveTo());
    this.status = el('p', 'folder-status hint');
    this.status.setAttribute('aria-live', 'polite');
    const details = el('details');
    this.list = el('ul', 'folder-files');
    details.append(el('summary', '', 'Files one by one'), this.list);
    const head = el('div', 'folder-head');
    head.append(el('strong', 'folder-name', name), ' ', this.summary);
    const tools = el('div', 'folder-tools');
    tools.append(this.zip, this.save);
    this.item.append(head, tools, this.status, details);
    byId('received-section').hidden = false;
    byId('received').append(this.item);
  }

  /** @param {{ name: string, size: number, blob: Blob, storage?: string, dir?: string[] }} file */
  add(file) {
    showReceived(file, this.list);
    this.files.push({ path: [...(file.dir ?? []), file.name].join('/'), blob: file.blob });
    this.size += file.size;
    const n = this.files.length;
    this.summary.textContent = `· ${n} ${n === 1 ? 'file' : 'files'} · ${bytes(this.size)}`;
  }

  /** Every file of the folder arrived: it can be zipped or saved. */
  complete() {
    this.item.dataset.state = 'complete';
    if (canZip()) {
      this.zip.dataset.state = 'idle';
      this.zip.removeAttribute('aria-disabled');
    } else {
      this.zip.hidden = true;
      this.status.textContent = 'This browser cannot write a zip here: download the files one by one below.';
    }
    this.save.hidden = !('showDirectoryPicker' in window);
  }

  /** The transfer ended early: what arrived stays listed, but is not offered as the folder. */
  incomplete() {
    if (this.item.dataset.state !== 'receiving') return;
    this.item.dataset.state = 'incomplete';
    this.zip.hidden = true;
    this.status.textContent = 'The transfer ended before the whole folder arrived: the files that did are listed below.';
  }

  /** @param {Event} ev */
  #onZipClick(ev) {
    if (this.zip.dataset.state === 'ready') return; // the link downloads the zip
    ev.preventDefault();
    if (this.zip.dataset.state === 'idle') void this.#prepareZip();
  }

  /** Writes the zip, then starts its download once. */
  async #prepareZip() {
    this.zip.dataset.state = 'preparing';
    this.zip.setAttribute('aria-disabled', 'true');
    this.zip.textContent = 'Preparing zip…';
    this.status.textContent = '';
    const total = Math.max(this.size, 1);
    try {
      const file = await zipFolder(this.files, `${this.name}.zip`, (done) => {
        this.zip.textContent = `Preparing zip… ${Math.floor((100 * done) / total)}%`;
      });
      this.zip.href = URL.createObjectURL(file);
      this.zip.download = `${this.name}.zip`;
      this.zip.dataset.size = String(file.size);
      this.zip.dataset.state = 'ready';
      this.zip.removeAttribute('aria-disabled');
      this.zip.removeAttribute('role');
      this.zip.textContent = `Download folder (.zip) · ${bytes(file.size)}`;
      this.zip.click();
    } catch (e) {
      this.zip.dataset.state = 'idle';
      this.zip.removeAttribute('aria-disabled');
      this.zip.textContent = 'Download folder (.zip)';
      this.status.textContent = `${e instanceof Error ? e.message : e} Try again, or download the files one by one below.`;
    }
  }

  /** Asks for a directory and copies the folder into it. */
  async #saveTo() {
    /** @type {any} */
    let parent;
    try {
      parent = await /** @type {any} */ (window).showDirectoryPicker({ id: 'pairwise-save', mode: 'readwrite' });
    } catch {
      return; // the user closed the picker
    }
    this.save.disabled = true;
    try {
      const top = await saveTree(parent, this.name, this.files, (n) => {
        this.status.textContent = `Saving… ${n} of ${this.files.length} files`;
      });
      this.status.textContent = `Saved as "${parent.name}/${top}".`;
    } catch (e) {
      this.status.textContent = `Could not save the folder: ${e instanceof Error ? e.message : e}`;
    } finally {
      this.save.disabled = false;
    }
  }
}
