/**
 * @file Network guard: browsers and WebRTC may only ever run inside the private namespace made by
 * `tests/e2e/netns.sh`. `assertIsolated()` throws unless the only interfaces are `lo`, `anc0` and
 * `anc1`, and the only addresses are loopback or IPv6 link-local. Every browser launch calls it.
 */

import { readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

const ALLOWED = new Set(['lo', 'anc0', 'anc1']);

/** @returns {string[]} every problem found; empty when the namespace looks right */
export function isolationProblems() {
  const problems = [];
  let names;
  try {
    names = readdirSync('/sys/class/net');
  } catch (e) {
    return [`cannot list /sys/class/net: ${e}`];
  }
  for (const name of names) {
    if (!ALLOWED.has(name)) problems.push(`interface ${name} is visible`);
  }
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) {
      const ok = a.internal || (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'));
      if (!ok) problems.push(`address ${a.address} on ${name} is not loopback or link-local`);
    }
  }
  return problems;
}

/** Throws unless this process runs in a loopback-only namespace (see `tests/e2e/netns.sh`). */
export function assertIsolated() {
  const problems = isolationProblems();
  if (problems.length > 0) {
    throw new Error(
      `Refusing to start a browser outside the private network namespace (${problems.join('; ')}). ` +
        'Run the end-to-end tests as: tests/e2e/run.sh (or tests/e2e/netns.sh node --test tests/e2e/).',
    );
  }
}
