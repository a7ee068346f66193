/**
 * @file Cancelling mid-transfer from either side (issue 5), Chromium to Chromium through the
 * real server: the receiver cancels, then (in the same session) the sender cancels a second
 * transfer. Each time both rows end `cancelled` with the catalogue sentence, no file is handed
 * over, and the receiver's partly written file is removed from OPFS.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { T, acceptOffer, chooseFiles, pair } from './harness/app.js';
import { launchChromium, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { MiB, makeFiles } from './harness/files.js';
import { startServer } from './harness/server.js';

/** @typedef {import('./harness/peer.js').Peer} Peer */

/**
 * Waits until the newest row in `direction` is in `state`.
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @param {string} state
 * @param {Peer[]} also
 */
function waitRow(peer, direction, state, also) {
  return peer.waitUntil(
    `newest ${direction} row data-state=${state}`,
    ({ d, s }) => document.querySelector(`#transfers li.transfer[data-direction=${d}]`)?.getAttribute('data-state') === s,
    { d: direction, s: state },
    { timeout: T.transfer, interval: 100, also },
  );
}

/**
 * Waits until the receiver has stored at least `bytes` of the newest incoming transfer.
 * @param {Peer} peer
 * @param {number} bytes
 * @param {Peer[]} also
 */
function waitReceivedBytes(peer, bytes, also) {
  return peer.waitUntil(
    `at least ${bytes} bytes received`,
    (n) => {
      const bar = /** @type {HTMLProgressElement | null} */ (document.querySelector('#transfers li.transfer[data-direction=receive] progress'));
      return !!bar && bar.value >= n;
    },
    bytes,
    { timeout: T.transfer, interval: 50, also },
  );
}

/** @param {Peer} peer @returns {Promise<number>} files in the receiver's OPFS `incoming/` */
function incomingFiles(peer) {
  return peer.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    let dir;
    try {
      dir = await root.getDirectoryHandle('incoming');
    } catch {
      return 0;
    }
    let n = 0;
    // @ts-ignore entries() is missing from older DOM typings
    for await (const _ of dir.keys()) n++;
    return n;
  });
}

describe('cancelling a transfer from either side', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {Peer} */ let a;
  /** @type {Peer} */ let b;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  before(async () => {
    files = cleanup.track(makeFiles([{ name: 'big-256MiB.bin', size: 256 * MiB }]), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    const [ba, bb] = await launchAll(cleanup, launchChromium, launchChromium);
    a = await ba.newPeer('A', server.origin);
    b = await bb.newPeer('B', server.origin);
    await pair(a, b, server.origin);
  });

  after(() => cleanup.run());

  /**
   * @param {Peer} canceller
   * @param {'send' | 'receive'} direction the canceller's row
   */
  async function cancelMidway(canceller, direction) {
    const [f] = files.files;
    await chooseFiles(a, [f.path]);
    await acceptOffer(b, [f.name], [a]);
    await waitReceivedBytes(b, 16 * MiB, [a]);
    await canceller.click(`#transfers li.transfer[data-direction=${direction}] button.cancel-button`);
    await Promise.all([waitRow(a, 'send', 'cancelled', [b]), waitRow(b, 'receive', 'cancelled', [a])]);
    for (const p of [a, b]) {
      const text = await p.evaluate(() => document.querySelector('#transfers li.transfer .stats')?.textContent ?? '');
      assert.equal(text, 'The transfer was cancelled.', `${p.name} says why`);
    }
    const stored = await b.evaluate(() => /** @type {HTMLProgressElement} */ (document.querySelector('#transfers li.transfer[data-direction=receive] progress')).value);
    assert.ok(stored < f.size, `the transfer stopped early (${stored} of ${f.size} bytes)`);
    assert.equal(await b.count('#received a.download'), 0, 'nothing is handed over');
    await b.waitUntil('partial file removed from OPFS', async () => {
      const root = await navigator.storage.getDirectory();
      try {
        const dir = await root.getDirectoryHandle('incoming');
        // @ts-ignore keys() is missing from older DOM typings
        for await (const _ of dir.keys()) return false;
      } catch {
        // no folder: nothing kept
      }
      return true;
    }, undefined, { timeout: T.ui });
    assert.equal(await incomingFiles(b), 0);
  }

  it('the receiver cancels: both sides say cancelled, nothing is kept', async () => {
    await cancelMidway(b, 'receive');
  });

  it('the sender cancels a second transfer in the same session: the same', async () => {
    await cancelMidway(a, 'send');
  });
});
