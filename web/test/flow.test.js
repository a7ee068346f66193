/**
 * @file The transfer window (§11.4): the sender waits at the window, `progress` and
 * `received` open it, bad acknowledgements are refused; the receiver reports every 1 MiB.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ProtocolError } from '../lib/errors.js';
import { SendWindow, StoredCounter } from '../lib/flow.js';
import { PROGRESS_STEP, TRANSFER_WINDOW } from '../lib/limits.js';

/** Whether `p` settled within a turn of the event loop. */
async function settled(/** @type {Promise<unknown>} */ p) {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

test('the sender waits at the window until progress arrives', async () => {
  const w = new SendWindow();
  const chunk = 256 * 1024;
  for (let sent = 0; sent + chunk <= TRANSFER_WINDOW; sent += chunk) await w.reserve(chunk);
  const blocked = w.reserve(chunk);
  assert.equal(await settled(blocked), false, 'a full window must hold the next chunk');
  w.onProgress(PROGRESS_STEP);
  assert.equal(await settled(blocked), true);
});

test('received opens the window by whole files', async () => {
  const w = new SendWindow();
  await w.reserve(TRANSFER_WINDOW / 2);
  w.fileEnd();
  await w.reserve(TRANSFER_WINDOW / 2);
  const blocked = w.reserve(1);
  assert.equal(await settled(blocked), false);
  w.onReceived(0);
  assert.equal(await settled(blocked), true);
});

test('progress that goes back or beyond what was sent is refused; close ends a wait', async () => {
  const w = new SendWindow();
  await w.reserve(10);
  assert.throws(() => w.onProgress(11), ProtocolError);
  w.onProgress(8);
  assert.throws(() => w.onProgress(7), ProtocolError);
  const full = new SendWindow();
  await full.reserve(TRANSFER_WINDOW);
  const blocked = full.reserve(1);
  full.close();
  await assert.rejects(blocked);
});

test('the receiver reports stored bytes every PROGRESS_STEP', () => {
  const c = new StoredCounter();
  const reports = [];
  for (let i = 0; i < 20; i++) {
    const r = c.add(256 * 1024 - 18);
    if (r !== null) reports.push(r);
  }
  assert.ok(reports.length >= 4);
  for (let i = 1; i < reports.length; i++) assert.ok(reports[i] - reports[i - 1] >= PROGRESS_STEP);
});
