/**
 * @file The people-facing number formats of `ui/format.js`: bytes, rates and the time left.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bytes, rate, timeLeft } from '../ui/format.js';

test('bytes and rates in decimal units', () => {
  assert.equal(bytes(0), '0 B');
  assert.equal(bytes(999), '999 B');
  assert.equal(bytes(64_000_000), '64.0 MB');
  assert.equal(rate(21_400_000), '21.4 MB/s');
});

test('time left: nothing while the rate is unknown, then minutes and hours', () => {
  assert.equal(timeLeft(1e9, 0), '');
  assert.equal(timeLeft(0, 1e6), '');
  assert.equal(timeLeft(30e6, 1e6), 'under a minute left');
  assert.equal(timeLeft(180e6, 1e6), 'about 3 min left');
  assert.equal(timeLeft(10e9, 1.33e6), 'about 2 h 05 min left');
});
