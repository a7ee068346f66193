/**
 * @file `usableIceServers` against the shared vectors (`testdata/vectors/ice.json`, made by the
 * Rust crate), and the page's ICE transport policy.
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { iceTransportPolicy, usableIceServers } from '../lib/net/ice.js';

const vectors = JSON.parse(readFileSync(new URL('../../testdata/vectors/ice.json', import.meta.url), 'utf8'));

test('usableIceServers keeps exactly what the Rust client keeps', () => {
  assert.ok(vectors.length >= 10);
  for (const v of vectors) {
    assert.deepEqual(usableIceServers(v.ice), v.usable, v.why);
  }
});

test('the relay policy comes from ?ice=relay only', () => {
  assert.equal(iceTransportPolicy('?ice=relay'), 'relay');
  assert.equal(iceTransportPolicy('?x=1&ice=relay'), 'relay');
  assert.equal(iceTransportPolicy(''), 'all');
  assert.equal(iceTransportPolicy('?ice=all'), 'all');
  assert.equal(iceTransportPolicy('?ice=relayed'), 'all');
});
