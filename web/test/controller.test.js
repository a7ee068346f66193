/**
 * @file The app's controller (`lib/app/controller.js`) with fake devices, channels, transfers and
 * screens: what waits for the pairing's channel, what is offered again when a device is back,
 * when leaving asks, who is asked to accept, and which screen shows a session's end.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Controller } from '../lib/app/controller.js';
import { deviceId } from '../lib/net/devices.js';
import { decodeInner } from '../lib/proto/transfer.js';
import { UNNAMED_DEVICE } from '../lib/storage/store.js';

/** Lets every pending promise callback run. */
const settle = () => new Promise((r) => setTimeout(r, 0));

class FakeChannel extends EventTarget {
  /** @type {Uint8Array[]} */ sent = [];
  /** @param {Uint8Array} bytes */
  send(bytes) {
    this.sent.push(bytes);
    return Promise.resolve();
  }
  /** @param {(p: { relayed: boolean, local: string, remote: string }) => void} f */
  watchPath(f) {
    this.path = f;
  }
}

class FakeTransfers extends EventTarget {
  /** @type {{ files: File[], opts?: object }[]} */ sends = [];
  /** @type {string[]} */ texts = [];
  /** @param {File[]} files @param {object} [opts] */
  send(files, opts) {
    this.sends.push(opts ? { files, opts } : { files });
  }
  /** @param {string} text */
  sendText(text) {
    this.texts.push(text);
    return Promise.resolve();
  }
  /** @param {string} type @param {any} detail */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** A transfer row's object: a state and its `state` events. */
class FakeTransfer extends EventTarget {
  /** @type {File[] | undefined} */ sources;
  /** @param {string} state @param {object} [more] */
  constructor(state, more = {}) {
    super();
    this.state = state;
    Object.assign(this, more);
  }
  /** @param {string} state */
  set(state) {
    this.state = state;
    this.dispatchEvent(new Event('state'));
  }
}

/**
 * A controller over fakes; `log` lists what the screens were asked to show.
 * @param {{ autoAccept?: boolean, devices?: any[], partials?: any[], unsaved?: number }} [o]
 */
function setUp(o = {}) {
  /** @type {any[][]} */ const log = [];
  /** @type {FakeTransfers[]} */ const made = [];
  /** @type {string[]} */ const removed = [];
  /** @type {string[]} */ const deleted = [];
  const rec = (/** @type {string} */ name) => (/** @type {any[]} */ ...args) => {
    log.push([name, ...args]);
    return () => log.push([`redraw ${name}`]);
  };
  const view = {
    status: rec('status'),
    paired: rec('paired'),
    numbers: rec('numbers'),
    pairingEnded: rec('pairingEnded'),
    error: rec('error'),
    deviceNotice: rec('deviceNotice'),
    hideShared: rec('hideShared'),
    text: rec('text'),
    transfer: rec('transfer'),
    markContinued: rec('markContinued'),
    askToAccept: rec('askToAccept'),
    receivedFiles: rec('receivedFiles'),
    kept: rec('kept'),
    dropKept: rec('dropKept'),
  };
  /** @type {(() => void) | null} */ let pairedDone = null;
  const devices = {
    ownName: 'Laptop',
    list: () => o.devices ?? [],
    autoAccept: () => o.autoAccept ?? false,
    peerNamed: () => Promise.resolve(),
    paired: () => new Promise((r) => (pairedDone = () => r(undefined))),
  };
  const resume = {
    partials: () => Promise.resolve(o.partials ?? []),
    deletePartial: (/** @type {string} */ peer, /** @type {string} */ id) => {
      deleted.push(`${peer} ${id}`);
      return Promise.resolve();
    },
  };
  const app = new Controller({
    view,
    devices,
    resume,
    kept: Promise.resolve({ unsaved: o.unsaved ?? 0, keep: () => ({}) }),
    transfers: () => {
      const t = new FakeTransfers();
      made.push(t);
      return t;
    },
    removePartial: (name) => {
      removed.push(name);
      return Promise.resolve();
    },
  });
  return { app, log, made, removed, deleted, remember: () => pairedDone?.() };
}

const IDENTITY = new Uint8Array(65).fill(4);
const file = (/** @type {string} */ name) => new File([name], name);

test('files and texts before the pairing channel wait for it, after our device name, in order', async () => {
  const { app, made, log } = setUp();
  const connection = new EventTarget();
  app.follow(connection);
  app.offer([file('a')]);
  app.offer([]);
  app.sendText('hi');
  app.offer([file('b')]);
  const channel = new FakeChannel();
  connection.dispatchEvent(new CustomEvent('ready', { detail: { channel, peerIdentity: IDENTITY, pairingKey: new Uint8Array(32) } }));
  await settle();
  assert.deepEqual(decodeInner(channel.sent[0]), { type: 'device', name: 'Laptop' }, 'the name is the first record');
  const t = made[0];
  assert.deepEqual(t.sends.map((s) => s.files.map((f) => f.name)), [['a'], ['b']]);
  assert.deepEqual(t.texts, ['hi']);
  assert.ok(log.some(([n, text, dir]) => n === 'text' && text === 'hi' && dir === 'sent'));
  app.offer([file('c')]);
  assert.deepEqual(t.sends.at(-1)?.files.map((f) => f.name), ['c'], 'later files go at once');
});

test('the end of a remembered pairing session is no error; before it is remembered it is', async () => {
  for (const remembered of [false, true]) {
    const { app, log, remember } = setUp();
    const connection = new EventTarget();
    app.follow(connection);
    connection.dispatchEvent(new CustomEvent('ready', { detail: { channel: new FakeChannel(), peerIdentity: IDENTITY, pairingKey: new Uint8Array(32) } }));
    if (remembered) remember();
    await settle();
    connection.dispatchEvent(new CustomEvent('error', { detail: { code: 'peer-left' } }));
    const shown = log.filter(([n]) => n === 'pairingEnded' || n === 'error').map(([n, c]) => (c ? `${n} ${c}` : n));
    assert.deepEqual(shown, remembered ? ['pairingEnded'] : ['error peer-left']);
  }
});

test('an interrupted send is offered again, resuming, when its device is back', async () => {
  const { app, made, log } = setUp();
  const first = new FakeChannel();
  app.online('dev1', /** @type {any} */ (first));
  await settle();
  const out = new FakeTransfer('active', { sources: [file('big')] });
  made[0].emit('outgoing', out);
  out.set('interrupted');
  await settle();
  first.dispatchEvent(new Event('closed'));
  app.sendTo('dev1', [file('nowhere')]);
  assert.equal(made[0].sends.length, 0, 'a closed session takes no files');
  app.online('dev1', /** @type {any} */ (new FakeChannel()));
  await settle();
  assert.ok(log.some(([n, t]) => n === 'markContinued' && t === out), 'the interrupted row says it continued');
  assert.equal(made[1].sends.length, 1);
  assert.equal(made[1].sends[0].files, out.sources);
  assert.deepEqual(made[1].sends[0].opts, { resuming: true });
  // A later `state` event that finds the send still interrupted queues nothing more.
  out.set('interrupted');
  await settle();
  app.online('dev1', /** @type {any} */ (new FakeChannel()));
  await settle();
  assert.deepEqual(made[2].sends, [], 'offered again once only');
  app.sendTo('dev1', [file('x')]);
  assert.equal(made[2].sends.length, 1, 'files for a device go to its newest session');
});

test('an offer asks unless the device auto-accepts or the transfer resumes; the rows name the device', async () => {
  for (const [autoAccept, resumed, asks] of [[false, false, true], [true, false, false], [false, true, false]]) {
    const { app, made, log } = setUp({ autoAccept, devices: [{ id: 'dev1', name: 'Pixel 8' }] });
    app.online('dev1', /** @type {any} */ (new FakeChannel()));
    await settle();
    let accepted = 0;
    const incoming = new FakeTransfer('offered', { resumed, accept: () => accepted++ });
    made[0].emit('incoming', incoming);
    await settle();
    assert.equal(log.some(([n]) => n === 'askToAccept'), asks);
    assert.equal(accepted, asks ? 0 : 1);
    const row = log.find(([n]) => n === 'transfer');
    assert.equal(row?.[2], 'receive');
    assert.equal(row?.[3](), 'Pixel 8');
    made[0].emit('device', { name: 'Pixel 8 Pro' });
    assert.equal(row?.[3](), 'Pixel 8 Pro', 'the name it tells in this session');
  }
});

test('leaving asks while a transfer is offered or running, or a received file is unsaved', async () => {
  const { app, made } = setUp();
  await settle();
  assert.equal(app.shouldWarnBeforeLeaving(), false);
  app.online('dev1', /** @type {any} */ (new FakeChannel()));
  await settle();
  const t = new FakeTransfer('active', { sources: [] });
  made[0].emit('outgoing', t);
  assert.equal(app.shouldWarnBeforeLeaving(), true);
  t.set('done');
  assert.equal(app.shouldWarnBeforeLeaving(), false);
  const unsaved = setUp({ unsaved: 1 });
  await settle();
  assert.equal(unsaved.app.shouldWarnBeforeLeaving(), true);
});

test('kept transfers are listed unless offered again, and Discard removes their partial files', async () => {
  const partials = [
    { id: 't1', peer: 'dev1', files: { 0: {}, 2: {} } },
    { id: 't2', peer: 'dev1', files: { 0: {} } },
  ];
  const { app, made, log, removed, deleted } = setUp({ partials, devices: [{ id: 'dev1', name: 'Pixel 8' }, { id: 'dev2', name: UNNAMED_DEVICE }] });
  app.online('dev1', /** @type {any} */ (new FakeChannel()));
  await settle();
  made[0].emit('incoming', new FakeTransfer('offered', { transferId: 't2', resumed: true, accept() {} }));
  await app.listKept();
  const [, records, actions] = /** @type {any[]} */ (log.find(([n]) => n === 'kept'));
  assert.deepEqual(records.map((/** @type {any} */ r) => r.id), ['t1']);
  assert.equal(actions.deviceName('dev1'), 'Pixel 8');
  assert.equal(actions.deviceName('other'), 'the other device');
  assert.equal(actions.deviceName('dev2'), 'the other device', 'not "Unnamed device"');
  await actions.discard(records[0]);
  assert.deepEqual(deleted, ['dev1 t1']);
  assert.equal(removed.length, 2);
});

test('the numbers of a code pairing are asked, and the answer goes to the connection', async () => {
  const { app, log } = setUp();
  /** @type {boolean[]} */ const answers = [];
  const connection = Object.assign(new EventTarget(), { numbersMatch: (/** @type {boolean} */ yes) => answers.push(yes) });
  app.follow(connection);
  connection.dispatchEvent(new CustomEvent('numbers', { detail: { number: '004217' } }));
  const [, number, answer] = /** @type {any[]} */ (log.find(([n]) => n === 'numbers'));
  assert.equal(number, '004217');
  answer(false);
  assert.deepEqual(answers, [false]);
});

test('the pairing session is remembered under the device id of its identity', async () => {
  const { app, made } = setUp();
  const connection = new EventTarget();
  app.follow(connection);
  connection.dispatchEvent(new CustomEvent('ready', { detail: { channel: new FakeChannel(), peerIdentity: IDENTITY, pairingKey: new Uint8Array(32) } }));
  await settle();
  app.sendTo(await deviceId(IDENTITY), [file('z')]);
  assert.deepEqual(made[0].sends.map((s) => s.files[0].name), ['z']);
});
