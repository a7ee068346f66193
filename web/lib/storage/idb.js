/**
 * @file The IndexedDB database `pairwise` behind the `Backend` interface of `store.js`: object
 * stores `meta`, `devices`, `tombstones` (version 1), `offers`, `partials` (version 2, for
 * resuming transfers: `resume-store.js`) and `received` (version 3, the received files kept:
 * `received-store.js`) with out-of-line string keys, one short
 * transaction per call. The only module that touches `indexedDB`. Values are structured clones,
 * so a non-extractable `CryptoKey` is stored as such and stays non-extractable.
 */

/** @import { Backend, Table } from '../../types/devices.js' */

/** Database name and schema version. */
export const DB_NAME = 'pairwise';
const DB_VERSION = 3;
/** @type {Table[]} */
const TABLES = ['meta', 'devices', 'tombstones', 'offers', 'partials', 'received'];

/**
 * Opens (creating on first use) the database.
 * @param {string} [name]
 * @returns {Promise<Backend>}
 */
export function openIdb(name = DB_NAME) {
  return new Promise((resolve, reject) => {
    const req = globalThis.indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      for (const t of TABLES) {
        if (!req.result.objectStoreNames.contains(t)) req.result.createObjectStore(t);
      }
    };
    req.onsuccess = () => resolve(backend(req.result));
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('the pairwise database is blocked by another tab'));
  });
}

/**
 * @param {IDBDatabase} db
 * @returns {Backend}
 */
function backend(db) {
  /**
   * Runs one request in its own transaction; resolves with its result once the transaction
   * committed.
   * @param {Table} table
   * @param {IDBTransactionMode} mode
   * @param {(s: IDBObjectStore) => IDBRequest} op
   * @param {(e: DOMException | null) => unknown} [onRequestError] a value to resolve with
   *   instead of failing (the request's error is then not fatal to the transaction)
   * @returns {Promise<any>}
   */
  const run = (table, mode, op, onRequestError) =>
    new Promise((resolve, reject) => {
      const tx = db.transaction(table, mode);
      const req = op(tx.objectStore(table));
      /** @type {unknown} */
      let result;
      req.onsuccess = () => (result = req.result);
      if (onRequestError) {
        req.onerror = (ev) => {
          ev.preventDefault();
          ev.stopPropagation();
          result = onRequestError(req.error);
        };
      }
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    });
  return {
    get: (table, key) => run(table, 'readonly', (s) => s.get(key)),
    put: async (table, key, value) => {
      await run(table, 'readwrite', (s) => s.put(value, key));
    },
    add: async (table, key, value) => {
      const added = await run(
        table,
        'readwrite',
        (s) => s.add(value, key),
        () => false,
      );
      return added !== false;
    },
    delete: async (table, key) => {
      await run(table, 'readwrite', (s) => s.delete(key));
    },
    all: (table) => run(table, 'readonly', (s) => s.getAll()),
  };
}
