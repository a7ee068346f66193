/**
 * @file Pairing by code between two real `pairwise` CLIs through the tamper proxy (docs/protocol.md
 * §2.1, docs/security.md "Pairing by code"): a server that substitutes the ephemeral key in
 * `code-key` makes the two terminals show different numbers (the people answer no: nothing is
 * paired, no file moves); one that substitutes it in `code-open` fails the commitment, so the
 * side that typed the code stops with `verify-failed` (exit 4) before any number is shown. The
 * answers go to the CLIs' stdin, as a person's would.
 */

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cleanup } from './harness/cleanup.js';
import { answeringCli } from './harness/cli.js';
import { ensureBuilt, startServer } from './harness/server.js';
import { startTamperProxy } from './tamper-proxy.js';

describe('pairing by code between two CLIs through a tampering server', { timeout: 120_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {string} */ let file;

  before(async () => {
    ensureBuilt();
    server = cleanup.track(await startServer(), (s) => s.stop());
    const dir = cleanup.track(mkdtempSync(join(tmpdir(), 'pairwise-files-')), (d) => rmSync(d, { recursive: true, force: true }));
    file = join(dir, 'secret.bin');
    writeFileSync(file, Buffer.alloc(100_000, 7));
  });

  after(() => cleanup.run());

  for (const body of /** @type {const} */ (['code-key', 'code-open'])) {
    it(`a key substituted in ${body} is caught and no file moves`, async () => {
      const local = new Cleanup();
      try {
        const proxy = local.track(await startTamperProxy(server.origin, { kind: 'code-key', body }), (p) => p.stop());
        const inbox = local.track(mkdtempSync(join(tmpdir(), 'pairwise-in-')), (d) => rmSync(d, { recursive: true, force: true }));
        const a = answeringCli(local, ['send', '--code', file, '--server', proxy.origin]);
        const code = await a.waitFor('out', /^(\d{4} \d{4})$/m);
        const b = answeringCli(local, ['receive', code, '--yes', '--dir', inbox, '--server', proxy.origin]);
        const shown = /Check that the other screen shows: (\d{3} \d{3})/;
        if (body === 'code-key') {
          const [na, nb] = await Promise.all([a.waitFor('err', shown), b.waitFor('err', shown)]);
          assert.notEqual(na, nb, 'the two terminals show different numbers');
          // The people see two numbers that differ and say so.
          a.child.stdin.end('n\n');
          b.child.stdin.end('n\n');
          assert.notEqual(await a.exited, 0);
          assert.notEqual(await b.exited, 0);
          assert.match(a.stderr(), /did not match/);
        } else {
          assert.equal(await b.exited, 4, `verify-failed is exit 4:\n${b.stderr()}`);
          assert.match(b.stderr(), /Could not verify the other device/);
          assert.doesNotMatch(b.stderr(), shown, 'the side that typed the code shows no number');
          // The showing side's person would answer yes: it still pairs nothing, its peer left.
          a.child.stdin.end('y\n');
          assert.notEqual(await a.exited, 0);
        }
        assert.equal(proxy.rewrites.length, 1, `the proxy rewrote the ${body}: ${proxy.rewrites.join('; ')}`);
        assert.deepEqual(readdirSync(inbox), [], 'nothing was written');
        for (const side of [a, b]) {
          assert.doesNotMatch(side.stderr(), /Paired\./, 'nothing was paired');
          const devices = join(side.config, 'devices.json');
          if (existsSync(devices)) assert.doesNotMatch(readFileSync(devices, 'utf8'), /"identity"/, 'nobody is remembered');
        }
      } finally {
        await local.run();
      }
    });
  }
});
