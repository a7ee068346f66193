/**
 * @file Received files are kept until the person is done with them (issue 15): each file that
 * arrived into OPFS is recorded (`lib/storage/received-store.js`), listed again after a reload or a
 * restart, and removed only by its Remove button or "Remove all". The line above the list says
 * how many files and how much space they take. After a reload every kept file is listed on its
 * own, under its folder path (a received folder's zip and "Save folder to…" are for the page
 * load that received it).
 *
 * UI contract: `#received-usage[data-count][data-bytes]`, `#received-remove-all`, and on each kept
 * file's item `button.remove-received`.
 */

/** @import { KeptFile, ReceivedStore } from '../lib/storage/received-store.js' */

import { keptFile, removeKeptFile, sweepIncoming } from '../lib/files/sink.js';
import { byId } from './dom.js';
import { bytes } from './format.js';
import { showKeptFolder } from './received-folders.js';
import { showReceived } from './transfer-view.js';

export class KeptReceived {
  #store;
  /** Kept files shown now, by id. @type {Map<string, { size: number, saved: boolean, remove: () => Promise<void> }>} */
  #files = new Map();

  /** @param {ReceivedStore} store */
  constructor(store) {
    this.#store = store;
    byId('received-remove-all').addEventListener('click', () => this.removeAll());
  }

  /** How many kept files were never saved (their link never clicked). */
  get unsaved() {
    return [...this.#files.values()].filter((f) => !f.saved).length;
  }

  /**
   * At start, before anything is received: removes what no kept file names from `incoming/`
   * (left by transfers that never finished) and lists every kept file still there.
   */
  async restore() {
    const list = await this.#store.list().catch(() => /** @type {KeptFile[]} */ ([]));
    await sweepIncoming(new Set(list.filter((k) => k.folder === 'incoming').map((k) => k.file)));
    // A folder's files are listed as one entry again, as when they arrived (they came back
    // one by one, outside their folder); its top folder and sender tell one folder from another.
    /** @type {Map<string, { name: string, files: any[] }>} */
    const folders = new Map();
    for (const k of list) {
      const file = await keptFile(k);
      if (!file || file.size !== k.size) {
        // Evicted with the site's storage, or cut short: nothing to offer any more.
        console.warn(`a kept file is gone from this browser's storage: ${k.name}`);
        await this.#store.remove(k.id).catch(() => {});
        continue;
      }
      const blob = k.type ? file.slice(0, file.size, k.type) : file;
      const shown = { name: k.name, size: k.size, blob, type: k.type, storage: 'opfs', ...(k.dir ? { dir: k.dir } : {}) };
      const handlers = this.#track(k.id, k.size, k.saved, () => removeKeptFile(k));
      const top = k.dir?.[0];
      if (top === undefined) {
        showReceived(shown, undefined, handlers);
        continue;
      }
      const key = `${k.from}\u0000${top}`;
      if (!folders.has(key)) folders.set(key, { name: top, files: [] });
      folders.get(key)?.files.push(shown);
    }
    for (const f of folders.values()) showKeptFolder(f.name, f.files);
    this.#render();
  }

  /**
   * Keeps a file that just arrived, if it is in OPFS; returns its link's Remove and saved
   * handlers (none for a file held in memory or saved into a folder the person chose).
   * @param {{ name: string, size: number, type: string, dir?: string[], path?: import('../lib/files/sink.js').OpfsPath }} file
   * @param {string} from the sending device's name
   * @returns {{ remove?: () => void, saved?: () => void }}
   */
  keep(file, from) {
    const path = file.path;
    if (!path) return {};
    const id = `${path.folder}/${path.file}`;
    const added = this.#store
      .add({ folder: path.folder, file: path.file, name: file.name, ...(file.dir ? { dir: file.dir } : {}), size: file.size, type: file.type, from, at: Date.now() })
      .catch((e) => console.warn(`could not keep ${file.name} for later: ${e}`));
    const handlers = this.#track(id, file.size, false, async () => {
      await added;
      await removeKeptFile(path);
    });
    this.#render();
    return handlers;
  }

  /** Removes every received file from the screen, and every kept one from this browser. */
  async removeAll() {
    const list = byId('received');
    for (const a of list.querySelectorAll('a[href^="blob:"]')) URL.revokeObjectURL(/** @type {HTMLAnchorElement} */ (a).href);
    list.replaceChildren();
    byId('received-section').hidden = true;
    for (const id of [...this.#files.keys()]) await this.#drop(id);
  }

  /**
   * @param {string} id @param {number} size @param {boolean} saved
   * @param {() => Promise<void>} removeBytes
   */
  #track(id, size, saved, removeBytes) {
    this.#files.set(id, { size, saved, remove: removeBytes });
    return {
      remove: () => {
        this.#drop(id).catch(() => {});
      },
      saved: () => {
        const f = this.#files.get(id);
        if (!f || f.saved) return;
        f.saved = true;
        this.#store.markSaved(id).catch(() => {});
      },
    };
  }

  /** @param {string} id */
  async #drop(id) {
    const f = this.#files.get(id);
    if (!f) return;
    this.#files.delete(id);
    this.#render();
    await f.remove();
    await this.#store.remove(id);
  }

  #render() {
    const usage = byId('received-usage');
    const n = this.#files.size;
    const total = [...this.#files.values()].reduce((sum, f) => sum + f.size, 0);
    usage.dataset.count = String(n);
    usage.dataset.bytes = String(total);
    usage.textContent =
      n === 0 ? '' : `${n} ${n === 1 ? 'file' : 'files'}, ${bytes(total)}, kept in this browser until you remove them.`;
    byId('received-remove-all').hidden = n === 0;
  }
}
