/**
 * @file Received files are kept until the person is done with them: each file that arrived
 * complete and verified into the Origin Private File System is listed here (IndexedDB table
 * `received`), so it is shown again after a reload or a restart, until the person removes it.
 * The bytes stay where the sink wrote them (`sink.js`: `incoming/` or, for a resumable transfer,
 * `partial/`); this store only says which files there are kept, and whether their download link
 * was ever clicked (`saved`), which is what the page warns about before it is closed. Files held
 * in memory (no OPFS) or written into a folder the person chose are not kept here: the first go
 * with the page, the second are the person's already.
 */

/** @import { Backend } from '../../types/devices.js' */

/**
 * @typedef {object} KeptFile
 * @property {string} id `folder/file`, the file's place in OPFS
 * @property {'incoming' | 'partial'} folder
 * @property {string} file the file's name in that folder
 * @property {string} name the name it was received under
 * @property {string[]} [dir] the folders it was received in
 * @property {number} size
 * @property {string} type
 * @property {string} from the sending device's name, as shown when it arrived
 * @property {number} at when it arrived (ms since the epoch)
 * @property {boolean} saved its download link was clicked (or it was saved into a folder)
 */

export class ReceivedStore {
  #backend;

  /** @param {Backend} backend */
  constructor(backend) {
    this.#backend = backend;
  }

  /**
   * Keeps a file that arrived.
   * @param {Omit<KeptFile, 'id' | 'saved'>} f
   * @returns {Promise<KeptFile>}
   */
  async add(f) {
    /** @type {KeptFile} */
    const kept = { ...f, id: `${f.folder}/${f.file}`, saved: false };
    await this.#backend.put('received', kept.id, kept);
    return kept;
  }

  /**
   * Every kept file, oldest first.
   * @returns {Promise<KeptFile[]>}
   */
  async list() {
    const all = /** @type {KeptFile[]} */ (await this.#backend.all('received'));
    return all.sort((a, b) => a.at - b.at);
  }

  /** @param {string} id */
  async markSaved(id) {
    const kept = /** @type {KeptFile | undefined} */ (await this.#backend.get('received', id));
    if (kept && !kept.saved) await this.#backend.put('received', id, { ...kept, saved: true });
  }

  /** @param {string} id */
  async remove(id) {
    await this.#backend.delete('received', id);
  }

  /**
   * The names of the kept files in OPFS folder `folder` (what a clean-up must leave).
   * @param {'incoming' | 'partial'} folder
   * @returns {Promise<Set<string>>}
   */
  async names(folder) {
    return new Set((await this.list()).filter((k) => k.folder === folder).map((k) => k.file));
  }
}
