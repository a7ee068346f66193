/**
 * @file What a channel says about its path (`SecureChannel.watchPath`, shown on transfer rows):
 * a read that finds no selected pair yet is retried, a pair the peer moves to later is reported,
 * the same path is reported once, a stale read does not overwrite a newer one, and nothing is
 * reported after the channel closed. The peer is a fake: only `path()` and its events matter.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SecureChannel } from '../lib/net/secure-channel.js';

/** @typedef {import('../lib/net/secure-channel.js').Path} Path */

const DIRECT = { local: 'srflx', remote: 'srflx', relayed: false };
const RELAYED = { local: 'srflx', remote: 'relay', relayed: true };

/** A stand-in for `Peer`: `path()` answers from `answers` (the last one repeats). */
class FakePeer extends EventTarget {
  /** @param {(Path | null | (() => Promise<Path | null>))[]} answers */
  constructor(answers) {
    super();
    this.answers = answers;
    this.reads = 0;
  }

  path() {
    const a = this.answers[Math.min(this.reads++, this.answers.length - 1)];
    return typeof a === 'function' ? a() : Promise.resolve(a);
  }

  close() {
    this.dispatchEvent(new Event('closed'));
  }
}

/** @param {FakePeer} peer */
function channelOver(peer) {
  const session = /** @type {any} */ ({ sendKey: null, recvKey: null, sas: '000 000' });
  return new SecureChannel(/** @type {any} */ (peer), session);
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a path unknown at first is read again; a later pair change is reported once', async () => {
  const peer = new FakePeer([null, DIRECT, DIRECT, RELAYED]);
  /** @type {Path[]} */
  const seen = [];
  channelOver(peer).watchPath((p) => seen.push(p), [0, 20, 40]);
  await sleep(80);
  assert.deepEqual(seen, [DIRECT], 'null is not reported; the same path only once');
  assert.equal(peer.reads, 3);
  peer.dispatchEvent(new Event('path'));
  await sleep(10);
  assert.deepEqual(seen, [DIRECT, RELAYED], 'the selected pair changed');
});

test('a slow read that answers after a newer one does not undo it', async () => {
  /** @type {(p: Path) => void} */
  let answerFirst = () => {};
  const slow = () => new Promise((/** @type {(p: Path | null) => void} */ r) => (answerFirst = r));
  const peer = new FakePeer([slow, RELAYED]);
  /** @type {Path[]} */
  const seen = [];
  channelOver(peer).watchPath((p) => seen.push(p), [0, 10]);
  await sleep(30);
  answerFirst(DIRECT);
  await sleep(10);
  assert.deepEqual(seen, [RELAYED]);
});

test('nothing is read or reported once the channel closed', async () => {
  const peer = new FakePeer([null, DIRECT]);
  /** @type {Path[]} */
  const seen = [];
  const channel = channelOver(peer);
  channel.watchPath((p) => seen.push(p), [0, 40]);
  // The close must come between the two reads whatever the load: a 0 ms sleep's timer is due
  // before the 40 ms read's, and the test goes on (a microtask) before that read's turn. (A
  // 10 ms sleep overshot 40 ms once on a loaded machine and the second read came first.)
  await sleep(0);
  channel.close();
  await sleep(40);
  peer.dispatchEvent(new Event('path'));
  await sleep(10);
  assert.deepEqual(seen, []);
  assert.equal(peer.reads, 1);
});
