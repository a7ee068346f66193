/**
 * @file A device moves to another network mid-transfer (its home gets another public address,
 * `lab.sh wan`): two remembered CLIs (`send --to` / `receive --from`) lose their direct path,
 * both notice within seconds, meet again through the server with no QR code, and the transfer
 * continues from what the receiver kept: the file arrives with the same SHA-256, both exit 0,
 * and less than 10 % of it is sent twice (the sender's `--json` progress, per session).
 */

import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BIN, MiB, SERVER_URL, isRoot, lab, labDown, labStatus, labUp, makeRandomFile, sha256File, spawnIn, startServer, tempDir,
  withTimeout,
} from './lab.js';

const SIZE = 128 * MiB;
const LINK_RE = /"link":"([^"]+)"/;

describe('network change mid-transfer (CLI <-> CLI, remembered)', { skip: isRoot() ? false : 'needs root (run tests/nat/run.sh)' }, () => {
  /** @type {string[]} */
  const dirs = [];
  /** @type {import('./lab.js').Proc[]} */
  const procs = [];

  before(() => {
    console.log(`# lab up: ${labUp()} ms`);
  });

  after(async () => {
    for (const p of procs) await p.stop();
    console.log(`# lab down: ${labDown()} ms`);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('b1 moves to another address at a third of a 128 MiB file: it continues by itself, < 10 % sent again', { timeout: 240_000 }, async () => {
    lab('nat', 'a', 'cone');
    lab('nat', 'b', 'cone');
    const [cfgA, cfgB, out, src, out0] = ['cfg-a-', 'cfg-b-', 'out-', 'src-', 'out0-'].map((p) => tempDir(`pairwise-nat-move-${p}`));
    dirs.push(cfgA, cfgB, out, src, out0);
    const server = await startServer();
    procs.push(server);
    const diagnose = () => [...procs.map((p) => p.diagnose()), labStatus()].join('\n');
    try {
      // Pair once by link (a small file), naming both devices.
      const small = makeRandomFile(src, 'hello.bin', 1024);
      const first = spawnIn('a1', BIN, ['send', small.path, '--json', '--name', 'Alpha', '--server', SERVER_URL, '--config', cfgA]);
      procs.push(first);
      const link = (await first.waitFor(LINK_RE, 20_000, 'the pairing link'))[1];
      const pairing = spawnIn('b1', BIN, ['receive', '--yes', link, '--dir', out0, '--json', '--name', 'Beta', '--config', cfgB]);
      procs.push(pairing);
      const [f, p] = await withTimeout(Promise.all([first.exited, pairing.exited]), 60_000, 'the pairing');
      assert.equal(f.code, 0, 'pairing send');
      assert.equal(p.code, 0, 'pairing receive');

      const file = makeRandomFile(src, 'big.bin', SIZE);
      const receiver = spawnIn('b1', BIN, ['receive', '--from', 'Alpha', '--dir', out, '--json', '--server', SERVER_URL, '--config', cfgB, '--timeout', '60']);
      const sender = spawnIn('a1', BIN, ['send', '--to', 'Beta', file.path, '--json', '--server', SERVER_URL, '--config', cfgA, '--timeout', '60']);
      procs.push(receiver, sender);
      // Move b1's home to another public address once a third is through.
      await sender.waitFor((s) => s.events().some((e) => e.event === 'progress' && e.bytes >= SIZE / 3), 120_000, 'a third of the file sent');
      const moved = performance.now();
      lab('wan', 'b', '203.0.113.21');
      await sender.waitEvent('reconnecting', 30_000);
      const noticed = Math.round(performance.now() - moved);
      const [s, r] = await withTimeout(Promise.all([sender.exited, receiver.exited]), 180_000, 'the transfer to finish');
      const total = Math.round(performance.now() - moved);
      assert.equal(s.code, 0, 'sender exit');
      assert.equal(r.code, 0, 'receiver exit');
      assert.ok(receiver.events().some((e) => e.event === 'reconnecting'), 'the receiver reconnected too');
      assert.deepEqual(readdirSync(out).filter((n) => !n.startsWith('.')), [file.name], 'the file, under its name');
      const got = await sha256File(join(out, file.name));
      assert.deepEqual(got, { sha256: file.sha256, size: file.size }, 'received bytes');

      // Bytes per session: each session's progress counts from 0; a session after a drop starts
      // at the offset the receiver proved (`resumed`).
      /** @type {number[]} */
      const sessions = [0];
      for (const e of sender.events()) {
        // `reconnecting` carries every byte the dropped session moved (progress lines are
        // drawn at most 5 times a second, so the last one is behind).
        if (e.event === 'reconnecting') {
          sessions[sessions.length - 1] = Math.max(sessions[sessions.length - 1], e.bytes);
          sessions.push(0);
        }
        if (e.event === 'progress') sessions[sessions.length - 1] = Math.max(sessions[sessions.length - 1], e.bytes);
      }
      const resumed = sender.events().filter((e) => e.event === 'resumed');
      assert.ok(sessions.length >= 2 && resumed.length >= 1, `a second session resumed: ${JSON.stringify(resumed)}`);
      const again = sessions.reduce((a, b) => a + b, 0) - SIZE;
      const paths = [...sender.events(), ...receiver.events()].filter((e) => e.event === 'connected').map((e) => e.path);
      console.log(`# network change: noticed in ${noticed} ms, done ${total} ms after the move; sessions ${sessions.join(' + ')} B; ` +
        `sent again ${again} B (${((100 * again) / SIZE).toFixed(1)} %); paths ${paths.join(', ')}`);
      assert.ok(again < SIZE / 10, `sent again ${again} B, not < 10 % of ${SIZE}`);
    } catch (e) {
      throw new Error(`${/** @type {Error} */ (e).message}\n${diagnose()}`, { cause: e });
    }
  });
});
