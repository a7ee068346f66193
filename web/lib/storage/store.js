/**
 * @file What this browser remembers (`docs/protocol.md` §10), over a small key-value `Backend`
 * (IndexedDB in the page, `idb.js`; an in-memory map in unit tests):
 * - its own **identity** key pair (the private key a non-extractable `CryptoKey`), created once
 *   and reused by every pairing and reconnection;
 * - its own **name**, sent to paired devices in the `device` message (a default with a random
 *   suffix is chosen and stored on first use);
 * - **paired devices** by device id (hex SHA-256 of the peer's identity), at most
 *   `MAX_PAIRED_DEVICES`;
 * - **tombstones** of forgotten devices (identity and pairing key only), for 30 days.
 *
 * Writes are serialised in call order, so a `device` message handled right after a pairing
 * finds the record the pairing stored. It holds no network or DOM code.
 */

/** @import { KeyPair } from '../../types/protocol.js' */
/** @import { Backend, PairedDevice, Table, Tombstone } from '../../types/devices.js' */

import { hex } from '../proto/b64.js';
import { defaultDeviceName, isDeviceName, nameSuffix } from '../proto/device.js';
import { generateKeyPair, sha256 } from '../proto/keys.js';
import { MAX_PAIRED_DEVICES } from '../proto/limits.js';

/** How long a tombstone is kept (§10.4). */
export const TOMBSTONE_MS = 30 * 86_400_000;
/** The name of a paired device that has not told its own (§10.7). */
export const UNNAMED_DEVICE = 'Unnamed device';

/**
 * The device id of an identity: lowercase hex of SHA-256 of the 65-byte public key.
 * @param {Uint8Array} identity
 * @returns {Promise<string>}
 */
export async function deviceId(identity) {
  return hex(await sha256(identity));
}

export class Store {
  #db;
  /** @type {Promise<unknown>} */
  #chain = Promise.resolve();

  /** @param {Backend} backend */
  constructor(backend) {
    this.#db = backend;
  }

  /**
   * This device's identity key pair, created (non-extractable) on first use and kept.
   * @returns {Promise<KeyPair>}
   */
  identity() {
    return this.#serial(async () => {
      const have = await this.#db.get('meta', 'identity');
      if (isKeyPair(have)) return have;
      const fresh = await generateKeyPair();
      // Another tab may have created one meanwhile: the first stored wins.
      if (await this.#db.add('meta', 'identity', fresh)) return fresh;
      const other = await this.#db.get('meta', 'identity');
      if (!isKeyPair(other)) throw new Error('stored identity is unreadable');
      return other;
    });
  }

  /**
   * This device's own name: the one stored, else a default from the user agent with a random
   * suffix (`defaultDeviceName`), stored at once so that it stays the same across reloads and
   * the devices that see it keep one name for this one. A stored name is never replaced.
   * @param {string} userAgent
   * @param {() => string} [suffix] `nameSuffix` by default
   * @returns {Promise<string>}
   */
  ownName(userAgent, suffix = nameSuffix) {
    return this.#serial(async () => {
      const have = await this.#db.get('meta', 'name');
      if (typeof have === 'string' && isDeviceName(have)) return have;
      const fresh = defaultDeviceName(userAgent, suffix());
      if (have !== undefined) {
        // Not a name (written by a broken build?): nothing could show it, so replace it.
        await this.#db.put('meta', 'name', fresh);
        return fresh;
      }
      // Another tab may have chosen one meanwhile: the first stored wins.
      if (await this.#db.add('meta', 'name', fresh)) return fresh;
      const other = await this.#db.get('meta', 'name');
      return typeof other === 'string' && isDeviceName(other) ? other : fresh;
    });
  }

  /**
   * Sets this device's own name.
   * @param {string} name a valid device name
   * @throws {RangeError} for an invalid name
   */
  setOwnName(name) {
    if (!isDeviceName(name)) throw new RangeError('not a valid device name');
    return this.#serial(() => this.#db.put('meta', 'name', name));
  }

  /**
   * Every paired device, oldest pairing first.
   * @returns {Promise<PairedDevice[]>}
   */
  devices() {
    return this.#serial(async () => {
      const all = /** @type {PairedDevice[]} */ (await this.#db.all('devices'));
      return all.sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : 1));
    });
  }

  /**
   * Stores the device of a confirmed pairing, or renews the record of one paired before (new
   * pairing key; its name, auto-accept and creation date are kept). Drops a tombstone of it.
   * @param {{ identity: Uint8Array, pairingKey: Uint8Array, now: number }} p
   * @returns {Promise<PairedDevice>}
   * @throws {RangeError} when `MAX_PAIRED_DEVICES` other devices are already paired
   */
  savePaired({ identity, pairingKey, now }) {
    return this.#serial(async () => {
      const id = await deviceId(identity);
      const old = /** @type {PairedDevice | undefined} */ (await this.#db.get('devices', id));
      if (!old && (await this.#db.all('devices')).length >= MAX_PAIRED_DEVICES) {
        throw new RangeError(`already ${MAX_PAIRED_DEVICES} paired devices`);
      }
      /** @type {PairedDevice} */
      const record = {
        id,
        identity: identity.slice(),
        pairingKey: pairingKey.slice(),
        name: old?.name ?? UNNAMED_DEVICE,
        nameSetByUser: old?.nameSetByUser ?? false,
        created: old?.created ?? now,
        lastSeen: now,
        autoAccept: old?.autoAccept ?? false,
      };
      await this.#db.put('devices', id, record);
      await this.#db.delete('tombstones', id);
      return record;
    });
  }

  /**
   * The peer told its own name (`device` message): kept unless the person renamed it here.
   * @param {string} id
   * @param {string} name a valid device name (already checked by the decoder)
   * @returns {Promise<PairedDevice | null>} the updated record, null if unknown
   */
  peerNamed(id, name) {
    return this.#update(id, (d) => (d.nameSetByUser ? d : { ...d, name }));
  }

  /**
   * The person renames a paired device; later `device` messages no longer change it.
   * @param {string} id
   * @param {string} name
   * @throws {RangeError} for an invalid name
   */
  rename(id, name) {
    if (!isDeviceName(name)) throw new RangeError('not a valid device name');
    return this.#update(id, (d) => ({ ...d, name, nameSetByUser: true }));
  }

  /**
   * @param {string} id
   * @param {boolean} on
   */
  setAutoAccept(id, on) {
    return this.#update(id, (d) => ({ ...d, autoAccept: on }));
  }

  /**
   * Records a confirmed session with the device.
   * @param {string} id
   * @param {number} now
   */
  touch(id, now) {
    return this.#update(id, (d) => ({ ...d, lastSeen: now }));
  }

  /**
   * Forgets a paired device: deletes its record and keeps a tombstone until `now + 30 days`.
   * @param {string} id
   * @param {number} now
   * @returns {Promise<Tombstone | null>} null if the device was not paired
   */
  forget(id, now) {
    return this.#serial(async () => {
      const d = /** @type {PairedDevice | undefined} */ (await this.#db.get('devices', id));
      if (!d) return null;
      /** @type {Tombstone} */
      const stone = { id, identity: d.identity, pairingKey: d.pairingKey, until: now + TOMBSTONE_MS };
      await this.#db.put('tombstones', id, stone);
      await this.#db.delete('devices', id);
      return stone;
    });
  }

  /**
   * Deletes a record without a tombstone (the peer forgot this device, §10.5).
   * @param {string} id
   */
  deleteDevice(id) {
    return this.#serial(() => this.#db.delete('devices', id));
  }

  /**
   * The tombstones still valid at `now`; expired ones are dropped.
   * @param {number} now
   * @returns {Promise<Tombstone[]>}
   */
  tombstones(now) {
    return this.#serial(async () => {
      const all = /** @type {Tombstone[]} */ (await this.#db.all('tombstones'));
      const keep = [];
      for (const t of all) {
        if (t.until > now) keep.push(t);
        else await this.#db.delete('tombstones', t.id);
      }
      return keep;
    });
  }

  /**
   * Drops a tombstone once its device was told (§10.5).
   * @param {string} id
   */
  dropTombstone(id) {
    return this.#serial(() => this.#db.delete('tombstones', id));
  }

  /**
   * @param {string} id
   * @param {(d: PairedDevice) => PairedDevice} change
   * @returns {Promise<PairedDevice | null>}
   */
  #update(id, change) {
    return this.#serial(async () => {
      const d = /** @type {PairedDevice | undefined} */ (await this.#db.get('devices', id));
      if (!d) return null;
      const next = change(d);
      await this.#db.put('devices', id, next);
      return next;
    });
  }

  /**
   * Runs `op` after every earlier call has settled.
   * @template T
   * @param {() => Promise<T>} op
   * @returns {Promise<T>}
   */
  #serial(op) {
    const result = this.#chain.then(op);
    this.#chain = result.catch(() => {});
    return result;
  }
}

/**
 * An in-memory `Backend` (values kept as given), for unit tests and for pages where IndexedDB
 * is unavailable (then nothing survives a reload).
 * @returns {Backend}
 */
export function memoryBackend() {
  /** @type {Map<Table, Map<string, unknown>>} */
  const tables = new Map();
  /** @param {Table} t */
  const table = (t) => {
    let m = tables.get(t);
    if (!m) tables.set(t, (m = new Map()));
    return m;
  };
  return {
    get: async (t, k) => table(t).get(k),
    put: async (t, k, v) => {
      table(t).set(k, v);
    },
    add: async (t, k, v) => {
      if (table(t).has(k)) return false;
      table(t).set(k, v);
      return true;
    },
    delete: async (t, k) => {
      table(t).delete(k);
    },
    all: async (t) => [...table(t).values()],
  };
}

/**
 * @param {unknown} v
 * @returns {v is KeyPair}
 */
function isKeyPair(v) {
  if (typeof v !== 'object' || v === null) return false;
  const k = /** @type {{ privateKey?: unknown, publicRaw?: unknown }} */ (v);
  return k.publicRaw instanceof Uint8Array && k.publicRaw.length === 65 && typeof k.privateKey === 'object' && k.privateKey !== null;
}
