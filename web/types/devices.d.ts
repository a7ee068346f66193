/**
 * @file Types of remembered devices (`docs/protocol.md` §10) as the browser keeps them in
 * IndexedDB (`web/lib/storage/store.js`). Declarations only.
 */

/** A device this one paired with (§10). */
export interface PairedDevice {
  /** Lowercase hex of SHA-256(identity): the record's key and the UI's `data-device-id`. */
  id: string;
  /** The peer's identity public key, 65 bytes (uncompressed SEC1). */
  identity: Uint8Array;
  /** `K("pairwise/v1/pairing-key", 32)` of the pairing session. */
  pairingKey: Uint8Array;
  /** Display text only: the peer's own name, or the name the person gave it. */
  name: string;
  /** The person renamed it here: later `device` messages do not change `name`. */
  nameSetByUser: boolean;
  /** Milliseconds since the epoch. */
  created: number;
  /** Milliseconds since the epoch of the last confirmed session (pairing or reconnection). */
  lastSeen: number;
  /** Files from this device are accepted without asking. */
  autoAccept: boolean;
}

/** What a device keeps of one it forgot, to tell it once (§10.4). */
export interface Tombstone {
  id: string;
  identity: Uint8Array;
  pairingKey: Uint8Array;
  /** Milliseconds since the epoch after which the tombstone is dropped. */
  until: number;
}

/** The tables of the `pairwise` database. */
export type Table = 'meta' | 'devices' | 'tombstones' | 'offers' | 'partials' | 'received';

/** A tiny key-value interface over IndexedDB (or an in-memory fake in unit tests). */
export interface Backend {
  get(table: Table, key: string): Promise<unknown>;
  put(table: Table, key: string, value: unknown): Promise<void>;
  /** Stores `value` only if `key` is absent; false if it was there. */
  add(table: Table, key: string, value: unknown): Promise<boolean>;
  delete(table: Table, key: string): Promise<void>;
  all(table: Table): Promise<unknown[]>;
}
