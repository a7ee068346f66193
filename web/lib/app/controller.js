/**
 * @file The app's state and what it does with it, as one object: the pairing session's
 * transfers and what waits for its channel, every session's transfers by device, the files
 * offered again when a device is back, what makes leaving the page ask first, and the kept
 * transfers to list. `web/app.js` only wires it to the screens (`ui/`), which come in as a
 * `View` of functions, and to the browser's events; `web/test/controller.test.js` drives it
 * with fakes. It imports nothing from `ui/` (`web/test/purity.test.js`).
 */

/** @import { SecureChannel } from '../net/secure-channel.js' */
/** @import { Outgoing } from '../transfers/file-transfer.js' */
/** @import { PartialRecord } from '../storage/resume-store.js' */

import { deviceId, sendDeviceName } from '../net/devices.js';
import { SESSION_OVER } from '../proto/errors.js';
import { partialName } from '../storage/resume-store.js';
import { UNNAMED_DEVICE } from '../storage/store.js';

/**
 * What the controller needs of the remembered devices (`net/devices.js` `Devices`).
 * @typedef {{
 *   list(): { id: string, name: string, nameSetByUser?: boolean }[],
 *   autoAccept(id: string): boolean,
 *   peerNamed(id: string, name: string): Promise<unknown>,
 *   paired(opts: { channel: SecureChannel, peerIdentity: Uint8Array, pairingKey: Uint8Array, source: EventTarget }): Promise<unknown>,
 *   ownName: string,
 * }} DevicesLike
 */

/**
 * What the controller needs of the resume store (`storage/resume-store.js`).
 * @typedef {{
 *   partials(): Promise<PartialRecord[]>,
 *   deletePartial(peer: string, id: string): Promise<unknown>,
 * }} ResumeLike
 */

/**
 * A session's transfers (`transfers/file-transfer.js` `Transfers`): events `outgoing`,
 * `incoming`, `text`, `device`.
 * @typedef {EventTarget & {
 *   send(files: File[], opts?: { resuming?: boolean }): unknown,
 *   sendText(text: string): Promise<unknown>,
 * }} TransfersLike
 */

/**
 * The kept received files (`ui/received-kept.js`): how many were never saved, and keeping one.
 * @typedef {{ unsaved: number, keep(file: any, from: string): any }} KeptLike
 */

/**
 * The screens, as functions (`ui/`): the controller decides what to show, they draw it.
 * @typedef {{
 *   status(state: string): void,
 *   paired(sas: string): void,
 *   numbers(number: string, answer: (yes: boolean) => void): void,
 *   pairingEnded(): void,
 *   error(code: string): void,
 *   deviceNotice(code: string, name: string, text?: string): void,
 *   hideShared(): void,
 *   text(text: string, direction: 'sent' | 'received'): void,
 *   transfer(t: any, direction: 'send' | 'receive', device: () => string, path: () => string): () => void,
 *   markContinued(t: any): void,
 *   askToAccept(incoming: any, device: () => string): () => void,
 *   receivedFiles(incoming: any, keep?: (file: any) => any): void,
 *   kept(records: PartialRecord[], actions: { deviceName(peer: string): string, discard(r: PartialRecord): Promise<void> }): void,
 *   dropKept(id: string | undefined): void,
 * }} View
 */

/**
 * @typedef {{
 *   view: View,
 *   devices: DevicesLike,
 *   resume: ResumeLike & object,
 *   kept: Promise<KeptLike>,
 *   transfers(channel: SecureChannel, opts: { peer: Promise<string>, resume: any }): TransfersLike,
 *   removePartial(name: string): Promise<unknown>,
 * }} ControllerDeps
 */

export class Controller {
  #view;
  #devices;
  #resume;
  #deps;
  /** The kept received files, once read (`beforeunload` cannot wait for a promise). @type {KeptLike | null} */
  #kept = null;
  /** Transfers of this page load; the ones still offered or active make leaving ask. @type {Set<{ state: string }>} */
  #moving = new Set();
  /** Ids of kept transfers offered again in this page load (not listed as kept). */
  #offeredAgain = new Set();
  /** Sends that were interrupted, by device id: offered again when it is back. @type {Map<string, Outgoing[]>} */
  #toResume = new Map();
  /** Interrupted sends already queued for `#toResume` (each is offered again once). @type {WeakSet<object>} */
  #queued = new WeakSet();
  /** Transfers of every open session, by device id. @type {Map<string, TransfersLike>} */
  #sessions = new Map();
  /** The pairing session's transfers, once its channel is ready. @type {TransfersLike | null} */
  #pairing = null;
  /** Files chosen before the pairing's channel was ready. @type {File[][]} */
  #waiting = [];
  /** Texts typed before the pairing's channel was ready. @type {string[]} */
  #waitingTexts = [];

  /** @param {ControllerDeps} deps */
  constructor(deps) {
    this.#deps = deps;
    this.#view = deps.view;
    this.#devices = deps.devices;
    this.#resume = deps.resume;
    deps.kept.then((k) => (this.#kept = k)).catch(() => {});
  }

  /**
   * Files chosen for the pairing session: sent if its channel is ready, else when it is.
   * @param {File[]} files
   */
  offer(files) {
    if (files.length === 0) return;
    if (this.#pairing) this.#pairing.send(files);
    else this.#waiting.push(files);
  }

  /** @param {string} text */
  sendText(text) {
    const t = this.#pairing;
    if (!t) {
      this.#waitingTexts.push(text);
      return;
    }
    // A failed send means the session failed: the connection already shows why.
    t.sendText(text).then(
      () => this.#view.text(text, 'sent'),
      () => {},
    );
  }

  /**
   * Files for a remembered device's open session; nothing happens without one (its tile only
   * offers sending while it is online).
   * @param {string} id @param {File[]} files
   */
  sendTo(id, files) {
    this.#sessions.get(id)?.send(files);
  }

  /**
   * Whether leaving the page should ask first: a transfer is offered or running (leaving ends
   * it; a resumable one continues later) or a received file was never saved.
   */
  shouldWarnBeforeLeaving() {
    for (const t of this.#moving) if (t.state !== 'offered' && t.state !== 'active') this.#moving.delete(t);
    return this.#moving.size > 0 || (this.#kept?.unsaved ?? 0) > 0;
  }

  /** Shows the transfers kept from earlier page loads, but not the ones offered again since. */
  async listKept() {
    const records = (await this.#resume.partials().catch(() => [])).filter((r) => !this.#offeredAgain.has(r.id));
    this.#view.kept(records, {
      // A device that never told its name is "the other device" here too, not "Unnamed device".
      deviceName: (peer) => {
        const name = this.#devices.list().find((d) => d.id === peer)?.name;
        return name && name !== UNNAMED_DEVICE ? name : 'the other device';
      },
      discard: async (r) => {
        await this.#resume.deletePartial(r.peer, r.id);
        for (const index of Object.keys(r.files)) await this.#deps.removePartial(partialName(r.id, Number(index)));
      },
    });
  }

  /**
   * A remembered device's session is open: its transfers, shown.
   * @param {string} id @param {SecureChannel} channel
   */
  online(id, channel) {
    this.attach(channel, Promise.resolve(id));
  }

  /**
   * Shows a pairing session, puts transfers on its channel once ready (with what waited for
   * it), and remembers its device.
   * @param {EventTarget & { numbersMatch?(yes: boolean): void }} connection a `Connection`
   */
  follow(connection) {
    const view = this.#view;
    connection.addEventListener('state', (ev) => view.status(/** @type {CustomEvent} */ (ev).detail));
    // Pairing by code: the person compares the numbers, and says so.
    connection.addEventListener('numbers', (ev) =>
      view.numbers(/** @type {CustomEvent} */ (ev).detail.number, (yes) => connection.numbersMatch?.(yes)),
    );
    connection.addEventListener('paired', (ev) => view.paired(/** @type {CustomEvent} */ (ev).detail.sas));
    /** Set once the device is remembered: its later sessions live under "Your devices". */
    let remembered = false;
    connection.addEventListener('error', (ev) => {
      const code = /** @type {CustomEvent} */ (ev).detail.code;
      if (remembered) this.#pairing = null;
      if (remembered && SESSION_OVER.has(code)) {
        // The other device closed the session or went away; the device itself is remembered.
        console.info(`pairing session over (${code})`);
        view.pairingEnded();
        return;
      }
      view.status('error');
      view.error(code);
    });
    connection.addEventListener('ready', (ev) => {
      const { channel, peerIdentity, pairingKey } = /** @type {CustomEvent} */ (ev).detail;
      // Our `device` message is the session's first record (protocol.md §10.7).
      sendDeviceName(channel, this.#devices.ownName);
      const t = this.attach(channel, deviceId(peerIdentity));
      this.#pairing = t;
      for (const files of this.#waiting.splice(0)) t.send(files);
      for (const text of this.#waitingTexts.splice(0)) this.sendText(text);
      view.hideShared();
      this.#devices.paired({ channel, peerIdentity, pairingKey, source: connection }).then(
        () => (remembered = true),
        () => view.deviceNotice('too-many-devices', '', 'This device already remembers 32 devices: forget one to remember a new one.'),
      );
    });
  }

  /**
   * Puts file transfers on a confirmed session's channel and shows them.
   * @param {SecureChannel} channel
   * @param {Promise<string>} id the peer's device id
   * @returns {TransfersLike}
   */
  attach(channel, id) {
    const view = this.#view;
    const devices = this.#devices;
    const t = this.#deps.transfers(channel, { peer: id, resume: this.#resume });
    let device = '';
    id.then((d) => (device = d));
    /** The name the other device gave itself in this session's `device` message (§10.7). */
    let told = '';
    /**
     * The device's name as the offer and the rows say it: the name given to it here, else the
     * one it told (known before its first offer, even if it cannot be remembered), else its
     * remembered one; '' while none is known. A device not yet named is not called "Unnamed".
     */
    const peerName = () => {
      const d = devices.list().find((x) => x.id === device);
      if (d?.nameSetByUser) return d.name;
      return told || (d && d.name !== UNNAMED_DEVICE ? d.name : '');
    };
    /** `direct` or `relayed`, once the connection knows (shown in each transfer row). */
    let path = '';
    /** This session's rows and offer, redrawn when the path or the name becomes known. @type {(() => void)[]} */
    const rows = [];
    channel.watchPath((p) => {
      path = p.relayed ? 'relayed' : 'direct';
      console.info(`connected ${path} (${p.local}/${p.remote})`);
      for (const redraw of rows) redraw();
    });
    t.addEventListener('outgoing', (ev) => {
      const out = /** @type {CustomEvent<Outgoing>} */ (ev).detail;
      this.#moving.add(out);
      rows.push(view.transfer(out, 'send', peerName, () => path));
      out.addEventListener('state', () => {
        if (out.state !== 'interrupted') return;
        // Once: a send is queued when it becomes interrupted, not on every `state` event
        // that finds it still interrupted after it was offered again.
        if (this.#queued.has(out)) return;
        this.#queued.add(out);
        id.then((d) => this.#toResume.set(d, [...(this.#toResume.get(d) ?? []), out]));
      });
    });
    t.addEventListener('incoming', (ev) => {
      const incoming = /** @type {CustomEvent} */ (ev).detail;
      this.#moving.add(incoming);
      if (incoming.transferId) this.#offeredAgain.add(incoming.transferId);
      view.dropKept(incoming.transferId);
      rows.push(view.transfer(incoming, 'receive', peerName, () => path));
      this.#deps.kept.then(
        (kept) => view.receivedFiles(incoming, (file) => kept.keep(file, peerName() || 'the other device')),
        () => view.receivedFiles(incoming),
      );
      // A transfer accepted before and kept continues without asking again.
      id.then((d) => {
        if (incoming.resumed || devices.autoAccept(d)) incoming.accept?.();
        else rows.push(view.askToAccept(incoming, peerName));
      });
    });
    t.addEventListener('text', (ev) => view.text(/** @type {CustomEvent<string>} */ (ev).detail, 'received'));
    t.addEventListener('device', (ev) => {
      const name = /** @type {CustomEvent} */ (ev).detail.name;
      told = name;
      for (const redraw of rows) redraw();
      id.then((d) => devices.peerNamed(d, name)).catch(() => {});
    });
    id.then((d) => {
      this.#sessions.set(d, t);
      const again = this.#toResume.get(d) ?? [];
      this.#toResume.delete(d);
      for (const out of again) {
        // The new send gets its own row; the old one would keep saying it waits for the device.
        view.markContinued(out);
        t.send(out.sources, { resuming: true });
      }
      channel.addEventListener('closed', () => {
        if (this.#sessions.get(d) === t) this.#sessions.delete(d);
      });
    });
    return t;
  }
}
