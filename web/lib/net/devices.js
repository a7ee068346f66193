/**
 * @file The remembered devices of this browser (`docs/protocol.md` §10): the records of
 * `store.js`, one `DeviceLink` per paired device and per tombstone while the app is open,
 * presence, and what the person does to them (rename, accept without asking, forget). It knows
 * nothing of files or the page: `app.js` puts a `Transfers` on each channel it announces.
 *
 * Events: `change` (the list, a name, presence or an error changed), `online` (detail: {id,
 * channel}: a reconnection session is ready; this device's `device` message is already sent),
 * `notice` (detail: {code, name}: a device was removed because it forgot this one).
 */

/** @import { KeyPair } from '../../types/protocol.js' */
/** @import { PairedDevice } from '../../types/devices.js' */
/** @import { SecureChannel } from './secure-channel.js' */
/** @import { Store } from '../storage/store.js' */

import { DeviceLink } from './device-link.js';
import { deviceId } from '../storage/store.js';
import { encodeInner } from '../proto/transfer.js';

/**
 * A paired device as the screen shows it.
 * @typedef {PairedDevice & { online: boolean, error: string | null }} DeviceView
 */

/**
 * Sends this device's name to the peer (§10.7): the first record of every confirmed session,
 * and again after a rename.
 * @param {SecureChannel} channel
 * @param {string} name
 */
export function sendDeviceName(channel, name) {
  channel.send(encodeInner({ type: 'device', name })).catch(() => {});
}

export class Devices extends EventTarget {
  #store;
  #own;
  #ownName;
  #signalingUrl;
  /** @type {Map<string, PairedDevice>} */
  #records = new Map();
  /** @type {Map<string, DeviceLink>} */
  #links = new Map();
  /** @type {Map<string, DeviceLink>} */
  #stones = new Map();
  /** @type {Map<string, SecureChannel>} */
  #channels = new Map();
  /** @type {Map<string, string>} */
  #errors = new Map();

  /**
   * @param {{ store: Store, identity: KeyPair, ownName: string, signalingUrl?: string }} opts
   */
  constructor({ store, identity, ownName, signalingUrl }) {
    super();
    this.#store = store;
    this.#own = identity;
    this.#ownName = ownName;
    this.#signalingUrl = signalingUrl;
  }

  /** This device's identity key pair. */
  get identity() {
    return this.#own;
  }

  /** This device's own name. */
  get ownName() {
    return this.#ownName;
  }

  /** Loads the records and tombstones and starts reaching every device. */
  async start() {
    for (const d of await this.#store.devices()) {
      this.#records.set(d.id, d);
      this.#link(d).start();
    }
    for (const t of await this.#store.tombstones(Date.now())) this.#stone(t.id, t.identity, t.pairingKey);
    this.#changed();
  }

  /**
   * The paired devices, oldest pairing first.
   * @returns {DeviceView[]}
   */
  list() {
    return [...this.#records.values()]
      .sort((a, b) => a.created - b.created)
      .map((d) => ({ ...d, online: this.#channels.has(d.id), error: this.#errors.get(d.id) ?? null }));
  }

  /**
   * The open channel to a device, if it is online.
   * @param {string} id
   * @returns {SecureChannel | undefined}
   */
  channel(id) {
    return this.#channels.get(id);
  }

  /**
   * Whether files from this device are accepted without asking.
   * @param {string} id
   * @returns {boolean}
   */
  autoAccept(id) {
    return this.#records.get(id)?.autoAccept === true;
  }

  /**
   * Remembers the device of a confirmed pairing and takes over its live channel (this side's
   * `device` message must already be sent on it). Re-pairing renews the record.
   * @param {{ channel: SecureChannel, peerIdentity: Uint8Array, pairingKey: Uint8Array,
   *   source: EventTarget }} p `source` reports the end of the session with `error`
   * @returns {Promise<string>} the device id
   * @throws {RangeError} when too many devices are paired already
   */
  async paired({ channel, peerIdentity, pairingKey, source }) {
    const record = await this.#store.savePaired({ identity: peerIdentity, pairingKey, now: Date.now() });
    const id = record.id;
    this.#stones.get(id)?.stop();
    this.#stones.delete(id);
    this.#links.get(id)?.stop();
    this.#links.delete(id);
    this.#records.set(id, record);
    this.#errors.delete(id);
    const link = this.#link(record);
    this.#channels.set(id, channel);
    link.adopt(channel, source);
    link.start();
    this.#changed();
    return id;
  }

  /**
   * Forgets a device: its channel closes, its record goes, and a tombstone tells it once.
   * @param {string} id
   */
  async forget(id) {
    this.#links.get(id)?.stop();
    this.#links.delete(id);
    this.#channels.delete(id);
    this.#errors.delete(id);
    this.#records.delete(id);
    this.#changed();
    const stone = await this.#store.forget(id, Date.now());
    if (stone) this.#stone(id, stone.identity, stone.pairingKey);
  }

  /**
   * The person renames a device here.
   * @param {string} id
   * @param {string} name a valid device name
   */
  async rename(id, name) {
    this.#put(await this.#store.rename(id, name));
  }

  /**
   * @param {string} id
   * @param {boolean} on
   */
  async setAutoAccept(id, on) {
    this.#put(await this.#store.setAutoAccept(id, on));
  }

  /**
   * The peer told its name (`device` message).
   * @param {string} id
   * @param {string} name
   */
  async peerNamed(id, name) {
    this.#put(await this.#store.peerNamed(id, name));
  }

  /**
   * Renames this device and tells every online device.
   * @param {string} name a valid device name
   */
  async setOwnName(name) {
    await this.#store.setOwnName(name);
    this.#ownName = name;
    for (const channel of this.#channels.values()) sendDeviceName(channel, name);
  }

  /**
   * @param {PairedDevice} d
   * @returns {DeviceLink}
   */
  #link(d) {
    const id = d.id;
    const link = new DeviceLink({
      own: this.#own,
      peerIdentity: d.identity,
      pairingKey: d.pairingKey,
      signalingUrl: this.#signalingUrl,
    });
    this.#links.set(id, link);
    link.addEventListener('online', (ev) => {
      const channel = /** @type {CustomEvent} */ (ev).detail.channel;
      if (this.#channels.get(id) === channel) return;
      sendDeviceName(channel, this.#ownName);
      this.#channels.set(id, channel);
      this.#errors.delete(id);
      this.dispatchEvent(new CustomEvent('online', { detail: { id, channel } }));
      this.#changed();
      this.#store.touch(id, Date.now()).then((r) => this.#put(r), () => {});
    });
    link.addEventListener('offline', () => {
      this.#channels.delete(id);
      this.#changed();
    });
    link.addEventListener('error', (ev) => {
      this.#errors.set(id, /** @type {CustomEvent} */ (ev).detail.code);
      this.#changed();
    });
    link.addEventListener('recovered', () => {
      if (this.#errors.get(id) !== 'rate-limited') return;
      this.#errors.delete(id);
      this.#changed();
    });
    link.addEventListener('forgotten', async () => {
      const name = this.#records.get(id)?.name ?? '';
      this.#links.delete(id);
      this.#records.delete(id);
      this.#channels.delete(id);
      this.#errors.delete(id);
      await this.#store.deleteDevice(id).catch(() => {});
      this.dispatchEvent(new CustomEvent('notice', { detail: { code: 'forgotten', name } }));
      this.#changed();
    });
    return link;
  }

  /**
   * @param {string} id
   * @param {Uint8Array} identity
   * @param {Uint8Array} pairingKey
   */
  #stone(id, identity, pairingKey) {
    const link = new DeviceLink({
      own: this.#own,
      peerIdentity: identity,
      pairingKey,
      tombstone: true,
      signalingUrl: this.#signalingUrl,
    });
    this.#stones.set(id, link);
    link.addEventListener('told', () => {
      this.#stones.delete(id);
      this.#store.dropTombstone(id).catch(() => {});
    });
    link.start();
  }

  /** @param {PairedDevice | null} record */
  #put(record) {
    if (!record || !this.#records.has(record.id)) return;
    this.#records.set(record.id, record);
    this.#changed();
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}

export { deviceId };
