/**
 * @file Lanes (docs/protocol.md §12) between two real `pairwise` CLIs that are remembered
 * devices: with `PAIRWISE_LANES=4` the sender opens four more peer connections inside the
 * session and spreads its chunks over them and the session's channel; the receiver puts the
 * frames back in order. On loopback lanes are not needed (the CLI opens them only on paths of
 * 4 ms or more), so the variable forces them; what this checks is correctness, not speed
 * (`bench/real-link.js` measures speed): every byte arrives (SHA-256), the sender's report
 * shows chunks on at least three channels, a sender killed at half resumes over lanes with
 * less than 10 % sent twice, and Ctrl-C on either side still cancels both.
 */

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cleanup } from './harness/cleanup.js';
import { cliTools } from './harness/cli.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

// Read by every `pairwise` this file starts (they inherit the environment).
process.env.PAIRWISE_LANES = '4';

describe('lanes between two remembered CLIs', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {string} */ let cfgA;
  /** @type {string} */ let cfgB;

  const { tempDir, cli, exitsWith } = cliTools(cleanup);

  /** @param {string} dir */
  const receiver = (dir) => cli(cfgB, ['receive', '--from', 'Alpha', '--name', 'Beta', '--dir', dir, '--server', server.origin, '--timeout', '120', '--reconnect', '0']);
  /** @param {string} path */
  const sender = (path) => cli(cfgA, ['send', '--to', 'Beta', '--name', 'Alpha', '--server', server.origin, '--timeout', '120', '--reconnect', '0', '--json', path]);

  /** @param {import('./harness/cli.js').CliRun} run @returns {Array<Record<string, any>>} */
  const events = (run) => run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  /** @param {import('./harness/cli.js').CliRun} run */
  const sentBytes = (run) => events(run).filter((e) => e.event === 'progress').reduce((n, e) => Math.max(n, e.bytes), 0);
  /** Chunks per channel (the session's, then each lane) from the sender's report. @param {import('./harness/cli.js').CliRun} run @returns {number[]} */
  const perChannel = (run) => events(run).find((e) => e.event === 'lanes')?.chunks ?? [];

  /** @param {import('./harness/cli.js').CliRun} run @param {number} bytes @param {NodeJS.Signals} signal @param {import('./harness/cli.js').CliRun} [other] */
  const signalAt = async (run, bytes, signal, other = run) => {
    const until = Date.now() + 120_000;
    while (sentBytes(run) < bytes) {
      assert.ok(Date.now() < until, `the sender never reached ${bytes} bytes.\n${run.diagnose()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    other.kill(signal);
  };

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    cfgA = tempDir('pairwise-cfg-a-');
    cfgB = tempDir('pairwise-cfg-b-');
    const hello = cleanup.track(makeFiles([{ name: 'hello.txt', size: 5 }]), (f) => f.remove());
    const a = cli(cfgA, ['send', '--server', server.origin, '--name', 'Alpha', hello.files[0].path]);
    const b = cli(cfgB, ['receive', '--yes', await a.link(), '--dir', tempDir('pairwise-in0-'), '--name', 'Beta']);
    await exitsWith(b, 0);
    await exitsWith(a, 0);
  });

  after(() => cleanup.run());

  it('files go over the session channel and four lanes and arrive intact', { timeout: 240_000 }, async () => {
    const src = cleanup.track(makeFiles([
      { name: 'striped.bin', size: 96 * MiB + 12_345 },
      { name: 'empty.bin', size: 0 },
      { name: 'small.txt', size: 1000 },
    ]), (f) => f.remove());
    const inbox = tempDir('pairwise-in-lanes-');
    const r = receiver(inbox);
    const s = sender(src.dir);
    await exitsWith(r, 0);
    await exitsWith(s, 0);
    for (const f of src.files) {
      const got = await hashFile(join(inbox, basename(src.dir), f.name));
      assert.equal(got.sha256, f.sha256, `${f.name}: SHA-256 equal`);
    }
    const chunks = perChannel(s);
    console.log(`chunks per channel (session, lanes 1-4): ${JSON.stringify(chunks)}`);
    assert.ok(chunks.filter((n) => n > 0).length >= 3, `chunks went over at least three channels: ${JSON.stringify(chunks)}\n${s.diagnose()}`);
  });

  it('a sender killed at half resumes over lanes; less than 10 % is sent twice', { timeout: 400_000 }, async () => {
    const big = cleanup.track(makeFiles([{ name: 'big.bin', size: 192 * MiB }]), (f) => f.remove());
    const file = big.files[0];
    const inbox = tempDir('pairwise-in-lanes-resume-');
    const r1 = receiver(inbox);
    const s1 = sender(file.path);
    await signalAt(s1, file.size / 2, 'SIGKILL');
    const { code } = await r1.exited;
    assert.notEqual(code, 0, 'the receiver must fail');
    assert.match(r1.stderr(), /Kept [\d.]+ MiB of [\d.]+ MiB for resume/);
    assert.deepEqual(readdirSync(inbox), ['.pairwise-resume'], 'nothing handed over');

    const r2 = receiver(inbox);
    const s2 = sender(file.path);
    await exitsWith(r2, 0);
    await exitsWith(s2, 0);
    const got = await hashFile(join(inbox, 'big.bin'));
    assert.equal(got.sha256, file.sha256, 'SHA-256 equal');
    const resumed = events(s2).find((e) => e.event === 'resumed');
    assert.ok(resumed && resumed.offset > 0 && resumed.offset === resumed.claimed, `the claim was accepted: ${JSON.stringify(resumed)}`);
    const again = sentBytes(s1) + sentBytes(s2) - file.size;
    console.log(`resume over lanes: sent twice ${again} B (${((100 * again) / file.size).toFixed(1)} %)`);
    assert.ok(again < file.size / 10, `sent twice ${again} B`);
    assert.ok(perChannel(s2).filter((n) => n > 0).length >= 3, 'the second run used lanes too');
  });

  it('Ctrl-C on the sender cancels both sides; nothing is kept', { timeout: 200_000 }, async () => {
    const src = cleanup.track(makeFiles([{ name: 'int-a.bin', size: 128 * MiB }]), (f) => f.remove());
    const inbox = tempDir('pairwise-in-lanes-int-a-');
    const r = receiver(inbox);
    const s = sender(src.files[0].path);
    await signalAt(s, 16 * MiB, 'SIGINT');
    await exitsWith(s, 130);
    await exitsWith(r, 3);
    assert.match(r.stderr(), /The transfer was cancelled\. \(by the sender\)/);
    assert.deepEqual(readdirSync(inbox), [], 'no partial files, no resume folder');
  });

  it('Ctrl-C on the receiver cancels both sides', { timeout: 200_000 }, async () => {
    const src = cleanup.track(makeFiles([{ name: 'int-b.bin', size: 128 * MiB }]), (f) => f.remove());
    const inbox = tempDir('pairwise-in-lanes-int-b-');
    const r = receiver(inbox);
    const s = sender(src.files[0].path);
    await signalAt(s, 16 * MiB, 'SIGINT', r);
    await exitsWith(r, 130);
    await exitsWith(s, 3);
    assert.match(s.stdout(), /"code":"cancelled"/);
    assert.ok(!existsSync(join(inbox, '.pairwise-resume')), 'no resume folder');
  });
});
