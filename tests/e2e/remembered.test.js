/**
 * @file Remembered devices (`docs/protocol.md` §10) between two Chromium processes with
 * persistent profiles, through the real server: pair once by QR code, close both browsers,
 * reopen them, see each other online and send files with no QR code (bytes checked by SHA-256);
 * then "Forget" on one side leaves the other in a clear state (`forgotten`, the device gone from
 * its list and its store). Offers and transfer rows name the other device: by the name it sent
 * (markup shown as text), or by the name given to it here once renamed. A second pair shows that a device whose stored identity was replaced
 * is refused with `unknown-device` while the other shows `key-changed` and keeps its record.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, acceptOffer, assertReceivedIntact, pair, waitReceived, waitRowNames, waitTransfer } from './harness/app.js';
import { profileDevice } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { entry, listDevices, readStore, replaceIdentity, setOwnName, waitDeviceError, waitOneOnline } from './harness/devices.js';
import { makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

/** @typedef {import('./harness/peer.js').Peer} Peer */

/** Hostile display text: markup and an ampersand must show as text. */
const HOSTILE_NAME = 'Bob <b>phone</b> & "tab"';

describe('remembered devices: Chromium to Chromium with persistent profiles', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {ReturnType<typeof profileDevice>} */ let devA;
  /** @type {ReturnType<typeof profileDevice>} */ let devB;
  /** @type {Peer} */ let a;
  /** @type {Peer} */ let b;
  /** @type {ReturnType<typeof makeFiles>} */ let files;
  /** @type {{ a: string, b: string }} ids each side shows for the other */
  const ids = { a: '', b: '' };

  before(async () => {
    files = cleanup.track(
      makeFiles([
        { name: 'to-b-3MiB.bin', size: 3 * MiB + 17 },
        { name: 'to-a-1B.bin', size: 1 },
        { name: 'to-a-renamed.bin', size: 1000 },
      ]),
      (f) => f.remove(),
    );
    server = cleanup.track(await startServer(), (s) => s.stop());
    devA = profileDevice(cleanup, 'A', server.origin);
    devB = profileDevice(cleanup, 'B', server.origin);
    [a, b] = await Promise.all([devA.open(), devB.open()]);
  });

  after(() => cleanup.run());

  it('pairs by QR code; each lists the other online under the name it sent, shown as text', async () => {
    await a.goto(`${server.origin}/`);
    await setOwnName(a, 'Alice laptop');
    await b.goto(`${server.origin}/`);
    await setOwnName(b, HOSTILE_NAME);
    await pair(a, b, server.origin);
    [ids.a, ids.b] = await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
    await a.waitUntil('B named on A', ({ sel, n }) => document.querySelector(`${sel} .device-name`)?.textContent === n, { sel: entry(ids.a), n: HOSTILE_NAME }, { timeout: T.ui });
    await b.waitUntil('A named on B', ({ sel, n }) => document.querySelector(`${sel} .device-name`)?.textContent === n, { sel: entry(ids.b), n: 'Alice laptop' }, { timeout: T.ui });
    const [onA] = await listDevices(a);
    assert.ok(!onA.markup.includes('<b>'), `the name must be text, not markup: ${onA.markup}`);
    assert.equal(await a.count('#devices b'), 0);
    // The ids are SHA-256 of the other's stored identity.
    const [storeA, storeB] = await Promise.all([readStore(a), readStore(b)]);
    assert.deepEqual(storeA.devices, [ids.a]);
    assert.deepEqual(storeB.devices, [ids.b]);
    const sha = async (/** @type {string} */ h) => Buffer.from(await crypto.subtle.digest('SHA-256', Buffer.from(/** @type {string} */ (h), 'hex'))).toString('hex');
    assert.equal(ids.a, await sha(/** @type {string} */ (storeB.identity)));
    assert.equal(ids.b, await sha(/** @type {string} */ (storeA.identity)));
  });

  it('after both browsers are closed and reopened, both show the other online with no QR code', async () => {
    await Promise.all([devA.close(), devB.close()]);
    [a, b] = await Promise.all([devA.open(), devB.open()]);
    await a.goto(`${server.origin}/`);
    await b.goto(`${server.origin}/`);
    const [idOnA, idOnB] = await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
    assert.equal(idOnA, ids.a);
    assert.equal(idOnB, ids.b);
    for (const p of [a, b]) {
      assert.equal(await p.isVisible('#qr'), false, `${p.name}: no QR code was shown`);
      assert.equal(await p.attr('#status', 'data-state'), 'idle', `${p.name}: no pairing ran`);
      // It said "Not paired" while the paired device was online (and sending).
      assert.equal((await p.text('#status'))?.trim(), '1 device online', `${p.name}: the status line counts the device online`);
    }
  });

  it('sends from the device entry: with "accept without asking" B gets the file without a prompt, bytes equal', async () => {
    await b.page.check(`${entry(ids.b)} input.device-auto-accept`);
    await b.waitUntil('auto-accept stored', (sel) => /** @type {HTMLInputElement} */ (document.querySelector(`${sel} input.device-auto-accept`)).checked, entry(ids.b), { timeout: T.ui });
    const file = files.files[0];
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [file.path]);
    await Promise.all([
      waitTransfer(a, 'send', 'done', [b]),
      waitTransfer(b, 'receive', 'done', [a]),
      waitReceived(b, [file.name], [a]),
    ]);
    await assertReceivedIntact(b, [file]);
    assert.equal(await b.isVisible('#incoming'), false, 'B was not asked');
    // Each row names the other device by the name it sent.
    await Promise.all([waitRowNames(a, 'send', HOSTILE_NAME, [b]), waitRowNames(b, 'receive', 'Alice laptop', [a])]);
  });

  it('without auto-accept A is asked by B\'s name (as text), accepts, and gets the bytes from B', async () => {
    const file = files.files[1];
    await b.setInputFiles(`${entry(ids.b)} input.device-files`, [file.path]);
    await acceptOffer(a, [file.name], [b], { from: HOSTILE_NAME });
    assert.equal(await a.count('#incoming b'), 0, 'a name in the offer is text, not markup');
    await Promise.all([waitTransfer(b, 'send', 'done', [a]), waitReceived(a, [file.name], [b])]);
    await assertReceivedIntact(a, [file]);
    await Promise.all([waitRowNames(a, 'receive', HOSTILE_NAME, [b]), waitRowNames(b, 'send', 'Alice laptop', [a])]);
    assert.equal(await a.count('#transfers b'), 0, 'a name in a row is text, not markup');
  });

  it('a name given to B on A wins over the one B sends: A\'s offer and row say it', async () => {
    await a.page.fill(`${entry(ids.a)} .device-rename-input`, 'Bob (renamed on A)');
    await a.click(`${entry(ids.a)} .device-rename`);
    await a.waitUntil('B renamed on A', ({ sel, n }) => document.querySelector(`${sel} .device-name`)?.textContent === n, { sel: entry(ids.a), n: 'Bob (renamed on A)' }, { timeout: T.ui });
    const file = files.files[2];
    await b.setInputFiles(`${entry(ids.b)} input.device-files`, [file.path]);
    await acceptOffer(a, [file.name], [b], { from: 'Bob (renamed on A)' });
    await Promise.all([waitTransfer(b, 'send', 'done', [a]), waitReceived(a, [file.name], [b])]);
    await assertReceivedIntact(a, [file]);
    await waitRowNames(a, 'receive', 'Bob (renamed on A)', [b], file.name);
  });

  it('"Forget" on A: B learns it was forgotten, drops A, and the two no longer connect', async () => {
    // Forget asks first, in place; "Keep" keeps the device.
    await a.click(`${entry(ids.a)} .device-forget`);
    assert.match((await a.text(`${entry(ids.a)} .device-forget-question`)) ?? '', /^Forget Bob \(renamed on A\)\?/);
    await a.click(`${entry(ids.a)} .device-forget-no`);
    assert.equal(await a.isVisible(`${entry(ids.a)} .device-forget-ask`), false, 'the question went away');
    assert.equal(await a.count('#devices li.device'), 1, 'A still lists B');
    await a.click(`${entry(ids.a)} .device-forget`);
    await a.click(`${entry(ids.a)} .device-forget-yes`);
    await a.waitUntil('#devices empty on A', () => document.querySelectorAll('#devices li.device').length === 0, undefined, { timeout: T.ui });
    await b.waitUntil(
      '#devices-notice[data-code=forgotten] and no device on B',
      () => {
        const n = /** @type {HTMLElement | null} */ (document.querySelector('#devices-notice'));
        return !!n && !n.hidden && n.getAttribute('data-code') === 'forgotten' && (n.textContent ?? '').includes('Alice laptop') && document.querySelectorAll('#devices li.device').length === 0;
      },
      undefined,
      { timeout: T.pair, also: [a] },
    );
    // B's record is deleted; A's tombstone did its job and is gone too.
    assert.deepEqual((await readStore(b)).devices, []);
    await a.waitUntil('A tombstone dropped', async () => {
      const req = indexedDB.open('pairwise');
      /** @type {IDBDatabase} */
      const db = await new Promise((resolve) => (req.onsuccess = () => resolve(req.result)));
      const keys = await new Promise((resolve) => {
        const r = db.transaction('tombstones').objectStore('tombstones').getAllKeys();
        r.onsuccess = () => resolve(r.result);
      });
      db.close();
      return /** @type {unknown[]} */ (keys).length === 0;
    }, undefined, { timeout: T.ui });
    assert.deepEqual((await readStore(a)).devices, []);
    // Reopened, neither lists the other: there is nothing left to connect with.
    await Promise.all([a.goto(`${server.origin}/`), b.goto(`${server.origin}/`)]);
    for (const p of [a, b]) {
      await p.waitVisible('#devices-empty', { timeout: T.ui });
      assert.equal(await p.count('#devices li.device'), 0, `${p.name}: no device listed`);
    }
  });
});

describe('remembered devices: a device whose identity was replaced is refused', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {Peer} */ let c;
  /** @type {Peer} */ let d;

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    [c, d] = await Promise.all([profileDevice(cleanup, 'C', server.origin).open(), profileDevice(cleanup, 'D', server.origin).open()]);
  });

  after(() => cleanup.run());

  it('D restored with another key gets unknown-device; C shows key-changed and keeps its record of D', async () => {
    await pair(c, d, server.origin);
    const [idOnC, idOnD] = await Promise.all([waitOneOnline(c, [d]), waitOneOnline(d, [c])]);
    const before = await readStore(d);
    const fresh = await replaceIdentity(d);
    assert.notEqual(fresh, before.identity);
    await d.goto(`${server.origin}/`);
    await waitDeviceError(d, idOnD, 'unknown-device', [c]);
    // C answered the stranger with not-paired and shows why; its record of D is intact.
    await waitDeviceError(c, idOnC, 'key-changed', [d]);
    const [onC] = await listDevices(c);
    assert.equal(onC.id, idOnC);
    assert.equal(onC.presence, 'offline');
    assert.deepEqual((await readStore(c)).devices, [idOnC]);
    const [onD] = await listDevices(d);
    assert.equal(onD.presence, 'offline');
    assert.deepEqual((await readStore(d)).devices, [idOnD], 'D keeps its record too (not-paired is unauthenticated)');
  });
});
