/**
 * @file The list of received files kept until the person removes them (`lib/storage/received-store.js`),
 * on the in-memory backend `store.js` also gives the devices' tests.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ReceivedStore } from '../lib/storage/received-store.js';
import { memoryBackend } from '../lib/storage/store.js';

test('kept files are listed oldest first, marked saved once, and removed', async () => {
  const store = new ReceivedStore(memoryBackend());
  const base = { size: 3, type: 'text/plain', from: 'Phone' };
  await store.add({ ...base, folder: 'incoming', file: 'u2', name: 'b.txt', at: 2 });
  const a = await store.add({ ...base, folder: 'partial', file: 'p1', name: 'a.txt', dir: ['d'], at: 1 });
  assert.equal(a.id, 'partial/p1');
  assert.equal(a.saved, false);
  assert.deepEqual((await store.list()).map((k) => k.name), ['a.txt', 'b.txt']);
  assert.deepEqual([...(await store.names('incoming'))], ['u2']);
  assert.deepEqual([...(await store.names('partial'))], ['p1']);
  await store.markSaved('partial/p1');
  await store.markSaved('partial/p1');
  await store.markSaved('nothing/here');
  assert.deepEqual((await store.list()).map((k) => [k.name, k.saved]), [['a.txt', true], ['b.txt', false]]);
  await store.remove('incoming/u2');
  assert.deepEqual((await store.list()).map((k) => k.id), ['partial/p1']);
});
