/**
 * @file What a user does with remembered devices, against the UI contract of "Your devices"
 * (`#own-name`, `#own-name-save`, `#devices li.device[data-device-id][data-presence]` with
 * `.device-name`, `.device-auto-accept`, `input.device-files`, `.device-forget`,
 * `.device-error[data-code]`, and `#devices-notice[data-code]`), plus a look into the page's
 * IndexedDB (`pairwise`: tables `meta`, `devices`, `tombstones`) for what must or must not be
 * stored.
 */

import { T } from './app.js';

/** @typedef {import('./peer.js').Peer} Peer */
/** @typedef {import('./peer.js').Witness} Witness */

/**
 * The selector of one device's entry.
 * @param {string} id
 */
export function entry(id) {
  return `#devices li.device[data-device-id="${id}"]`;
}

/**
 * Sets this device's own name through the UI.
 * @param {Peer} peer
 * @param {string} name
 */
export async function setOwnName(peer, name) {
  await peer.waitVisible('#own-name', { timeout: T.ui });
  await peer.page.fill('#own-name', name);
  await peer.click('#own-name-save');
  await peer.waitUntil('#own-name to keep the new name', (n) => /** @type {HTMLInputElement} */ (document.querySelector('#own-name')).value === n, name, { timeout: T.ui });
}

/**
 * The entries of `#devices` as `{id, presence, name, error}`.
 * @param {Peer} peer
 */
export function listDevices(peer) {
  return peer.evaluate(() =>
    [...document.querySelectorAll('#devices li.device')].map((li) => {
      const err = li.querySelector('.device-error');
      return {
        id: li.getAttribute('data-device-id') ?? '',
        presence: li.getAttribute('data-presence'),
        name: li.querySelector('.device-name')?.textContent ?? '',
        error: err && !(/** @type {HTMLElement} */ (err).hidden) ? err.getAttribute('data-code') : null,
        markup: li.querySelector('.device-name')?.innerHTML ?? '',
      };
    }),
  );
}

/**
 * Waits until `#devices` lists exactly one device and it is online; returns its id.
 * @param {Peer} peer
 * @param {Witness[]} [also]
 * @returns {Promise<string>}
 */
export async function waitOneOnline(peer, also = []) {
  return peer.waitUntil(
    'exactly one device in #devices, data-presence=online',
    () => {
      const all = [...document.querySelectorAll('#devices li.device')];
      return all.length === 1 && all[0].getAttribute('data-presence') === 'online' ? all[0].getAttribute('data-device-id') : null;
    },
    undefined,
    { timeout: T.pair, also },
  );
}

/**
 * Waits until a device entry shows `.device-error[data-code=code]` with a sentence.
 * @param {Peer} peer
 * @param {string} id
 * @param {string} code
 * @param {Witness[]} [also]
 */
export function waitDeviceError(peer, id, code, also = []) {
  return peer.waitUntil(
    `${entry(id)} .device-error[data-code=${code}]`,
    ({ sel, c }) => {
      const e = /** @type {HTMLElement | null} */ (document.querySelector(`${sel} .device-error`));
      return !!e && !e.hidden && e.getAttribute('data-code') === c && (e.textContent ?? '').trim().length > 0;
    },
    { sel: entry(id), c: code },
    { timeout: T.pair, also },
  );
}

/**
 * Reads the app's IndexedDB inside the page: device ids, tombstone ids, the identity's public key.
 * @param {Peer} peer
 * @returns {Promise<{ devices: string[], tombstones: string[], identity: string | null }>}
 */
export function readStore(peer) {
  return peer.evaluate(async () => {
    /** @type {IDBDatabase} */
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open('pairwise');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    /** @param {string} table @param {(s: IDBObjectStore) => IDBRequest} op */
    const read = (table, op) =>
      new Promise((resolve, reject) => {
        const req = op(db.transaction(table, 'readonly').objectStore(table));
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    const devices = /** @type {any[]} */ (await read('devices', (s) => s.getAllKeys())).map(String);
    const tombstones = /** @type {any[]} */ (await read('tombstones', (s) => s.getAllKeys())).map(String);
    const id = /** @type {any} */ (await read('meta', (s) => s.get('identity')));
    db.close();
    const identity = id ? [...id.publicRaw].map((b) => b.toString(16).padStart(2, '0')).join('') : null;
    return { devices, tombstones, identity };
  });
}

/**
 * Replaces the page's stored identity with a fresh key pair, as if the device had been restored
 * from another device's data; its paired-device records stay. Reload the page afterwards.
 * @param {Peer} peer
 * @returns {Promise<string>} the new public key, hex
 */
export function replaceIdentity(peer) {
  return peer.evaluate(async () => {
    const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']));
    const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    /** @type {IDBDatabase} */
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open('pairwise');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    await new Promise((resolve, reject) => {
      const tx = db.transaction('meta', 'readwrite');
      tx.objectStore('meta').put({ privateKey: pair.privateKey, publicRaw }, 'identity');
      tx.oncomplete = () => resolve(undefined);
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    return [...publicRaw].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
}
