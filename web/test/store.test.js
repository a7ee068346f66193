/**
 * @file The browser's memory of remembered devices (`web/lib/storage/store.js`) over the in-memory
 * backend: one identity for good, the own name, paired-device records (renewal, peer names vs.
 * the person's names, auto-accept, the cap), forgetting with a 30-day tombstone.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { hex } from '../lib/proto/b64.js';
import { generateKeyPair, sha256 } from '../lib/proto/keys.js';
import { MAX_PAIRED_DEVICES } from '../lib/proto/limits.js';
import { Store, TOMBSTONE_MS, UNNAMED_DEVICE, deviceId, memoryBackend } from '../lib/storage/store.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36';

/** @returns {Promise<Uint8Array>} a valid identity public key */
async function peerIdentity() {
  return (await generateKeyPair()).publicRaw;
}

test('the identity is created once and the same key pair comes back', async () => {
  const backend = memoryBackend();
  const a = await new Store(backend).identity();
  const b = await new Store(backend).identity();
  assert.equal(a.publicRaw.length, 65);
  assert.equal(b.privateKey, a.privateKey);
  assert.deepEqual(b.publicRaw, a.publicRaw);
  assert.equal(a.privateKey.extractable, false);
});

test('concurrent first calls agree on one identity', async () => {
  const store = new Store(memoryBackend());
  const [a, b] = await Promise.all([store.identity(), store.identity()]);
  assert.deepEqual(a.publicRaw, b.publicRaw);
});

test('own name defaults from the user agent and can be set; invalid names are refused', async () => {
  const store = new Store(memoryBackend());
  assert.equal(await store.ownName(UA, () => 'K7R'), 'Chrome on Linux (K7R)');
  await store.setOwnName('Work laptop');
  assert.equal(await store.ownName(UA), 'Work laptop');
  assert.throws(() => store.setOwnName(' padded '), RangeError);
  assert.throws(() => store.setOwnName('a\u202eb'), RangeError);
});

test('the default name is chosen once and stored: the same after a reload, never replacing a stored one', async () => {
  const backend = memoryBackend();
  const first = await new Store(backend).ownName(UA);
  assert.match(first, /^Chrome on Linux \([ACDEFHJKMNPRTWXY2-9]{3}\)$/);
  assert.equal(await backend.get('meta', 'name'), first, 'stored with the identity');
  // A reload (a new Store over the same database) draws no new suffix.
  assert.equal(await new Store(backend).ownName(UA, () => 'XXX'), first);
  // A browser that stored a name before default names had suffixes keeps it.
  const old = memoryBackend();
  await old.put('meta', 'name', 'Chrome on Linux');
  assert.equal(await new Store(old).ownName(UA, () => 'K7R'), 'Chrome on Linux');
  // A stored value that is no name (nothing could show it) is replaced by a default.
  const broken = memoryBackend();
  await broken.put('meta', 'name', 'a\u202eb');
  assert.equal(await new Store(broken).ownName(UA, () => 'K7R'), 'Chrome on Linux (K7R)');
  assert.equal(await broken.get('meta', 'name'), 'Chrome on Linux (K7R)');
});

test('two browsers of one kind get different default names; two tabs of one agree', async () => {
  const names = new Set();
  for (let i = 0; i < 20; i++) names.add(await new Store(memoryBackend()).ownName(UA));
  // 20 draws of 24³ suffixes: a repeat has probability 1.4 %, four under 10⁻⁸ (a test that
  // fails once in ten thousand runs blocks everyone); a suffix that does not vary gives 1.
  assert.ok(names.size >= 17, `${names.size} distinct names of 20`);
  const backend = memoryBackend();
  let n = 0;
  const suffix = () => ['AAA', 'CCC'][n++];
  const [a, b] = await Promise.all([new Store(backend).ownName(UA, suffix), new Store(backend).ownName(UA, suffix)]);
  assert.equal(a, b, 'the first stored wins');
});

test('the device id is the hex SHA-256 of the identity', async () => {
  const id = await peerIdentity();
  assert.equal(await deviceId(id), hex(await sha256(id)));
});

test('a pairing is stored unnamed; the peer names it until the person renames it', async () => {
  const store = new Store(memoryBackend());
  const identity = await peerIdentity();
  const pairingKey = new Uint8Array(32).fill(7);
  const d = await store.savePaired({ identity, pairingKey, now: 1000 });
  assert.equal(d.name, UNNAMED_DEVICE);
  assert.equal(d.id, await deviceId(identity));
  assert.deepEqual(d.pairingKey, pairingKey);
  assert.equal(d.autoAccept, false);
  assert.equal((await store.peerNamed(d.id, 'Pixel 8'))?.name, 'Pixel 8');
  await store.rename(d.id, 'My phone');
  assert.equal((await store.peerNamed(d.id, 'Pixel 9'))?.name, 'My phone');
  assert.equal(await store.peerNamed('0'.repeat(64), 'x'), null, 'unknown device');
  assert.throws(() => store.rename(d.id, ''), RangeError);
});

test('a second pairing renews the key and keeps name, auto-accept and creation date', async () => {
  const store = new Store(memoryBackend());
  const identity = await peerIdentity();
  const d = await store.savePaired({ identity, pairingKey: new Uint8Array(32).fill(1), now: 1000 });
  await store.peerNamed(d.id, 'Tablet');
  await store.setAutoAccept(d.id, true);
  const again = await store.savePaired({ identity, pairingKey: new Uint8Array(32).fill(2), now: 5000 });
  assert.equal(again.name, 'Tablet');
  assert.equal(again.autoAccept, true);
  assert.equal(again.created, 1000);
  assert.equal(again.lastSeen, 5000);
  assert.deepEqual(again.pairingKey, new Uint8Array(32).fill(2));
  assert.equal((await store.devices()).length, 1);
});

test('paired devices are capped at MAX_PAIRED_DEVICES; a known one can still be renewed', async () => {
  const store = new Store(memoryBackend());
  const ids = [];
  for (let i = 0; i < MAX_PAIRED_DEVICES; i++) {
    const identity = await peerIdentity();
    ids.push(identity);
    await store.savePaired({ identity, pairingKey: new Uint8Array(32), now: i });
  }
  await assert.rejects(store.savePaired({ identity: await peerIdentity(), pairingKey: new Uint8Array(32), now: 99 }), RangeError);
  await store.savePaired({ identity: ids[0], pairingKey: new Uint8Array(32).fill(3), now: 100 });
  const list = await store.devices();
  assert.equal(list.length, MAX_PAIRED_DEVICES);
  assert.deepEqual(list.map((d) => d.created), [...Array(MAX_PAIRED_DEVICES).keys()], 'oldest pairing first');
});

test('forgetting deletes the record and keeps a tombstone for 30 days', async () => {
  const store = new Store(memoryBackend());
  const identity = await peerIdentity();
  const pairingKey = new Uint8Array(32).fill(9);
  const d = await store.savePaired({ identity, pairingKey, now: 0 });
  const stone = await store.forget(d.id, 10);
  assert.ok(stone);
  assert.deepEqual(stone.identity, identity);
  assert.deepEqual(stone.pairingKey, pairingKey);
  assert.equal(stone.until, 10 + TOMBSTONE_MS);
  assert.deepEqual(await store.devices(), []);
  assert.equal((await store.tombstones(11)).length, 1);
  assert.equal(await store.forget(d.id, 12), null, 'already forgotten');
  assert.deepEqual(await store.tombstones(10 + TOMBSTONE_MS), [], 'expired');
  assert.deepEqual(await store.tombstones(0), [], 'an expired tombstone is dropped for good');
});

test('a dropped tombstone is gone; pairing again removes a tombstone', async () => {
  const store = new Store(memoryBackend());
  const identity = await peerIdentity();
  const d = await store.savePaired({ identity, pairingKey: new Uint8Array(32), now: 0 });
  await store.forget(d.id, 1);
  await store.dropTombstone(d.id);
  assert.deepEqual(await store.tombstones(2), []);
  await store.savePaired({ identity, pairingKey: new Uint8Array(32), now: 3 });
  await store.forget(d.id, 4);
  await store.savePaired({ identity, pairingKey: new Uint8Array(32), now: 5 });
  assert.deepEqual(await store.tombstones(6), []);
  await store.deleteDevice(d.id);
  assert.deepEqual(await store.devices(), []);
  assert.deepEqual(await store.tombstones(7), [], 'deleting on a forgotten notice leaves no tombstone');
});

test('writes apply in call order (a name right after a pairing finds the record)', async () => {
  const store = new Store(memoryBackend());
  const identity = await peerIdentity();
  const id = await deviceId(identity);
  const saved = store.savePaired({ identity, pairingKey: new Uint8Array(32), now: 0 });
  const named = store.peerNamed(id, 'Desk PC');
  await saved;
  assert.equal((await named)?.name, 'Desk PC');
});
