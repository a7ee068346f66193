/**
 * @file Resume after a drop, and Ctrl-C, between two real `pairwise` CLIs that are remembered
 * devices (docs/protocol.md §11.3, §6): `receive --from` and `send --to` of a 256 MiB random
 * file; the sender is killed with SIGKILL at about half; the receiver exits non-zero saying it
 * kept the verified part for resume and hands nothing over; both run again, the file completes
 * with the same SHA-256 and less than 10 % of it is sent twice (the sender's own `--json`
 * progress of both runs). A source file changed between the runs (same size and mtime) fails
 * the claim's proof and is sent from 0. SIGINT on either side sends `cancel`: the other side
 * says `cancelled`, no partial files are left. A receiver killed mid-file makes the sender (blocked
 * on a send window its peer will never open) fail with `peer-left` and keep its offer for resume.
 * Both sides report how long they took to notice a vanished peer (not asserted: a loaded machine
 * varies; `crates/pairwise-cli/src/peer/settings.rs` sets the limit, 6 s of silence).
 */

import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, utimesSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cleanup } from './harness/cleanup.js';
import { cliTools } from './harness/cli.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

const KEPT = /Kept [\d.]+ MiB of [\d.]+ MiB for resume \(in .*\.pairwise-resume\); run the same command again to continue\./;

describe('resume and Ctrl-C between two remembered CLIs', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {string} */ let cfgA;
  /** @type {string} */ let cfgB;

  const { tempDir, cli, exitsWith } = cliTools(cleanup);

  /** B receives from A (human output on stderr). @param {string} dir */
  const receiver = (dir) => cli(cfgB, ['receive', '--from', 'Alpha', '--name', 'Beta', '--dir', dir, '--server', server.origin, '--timeout', '120', '--reconnect', '0']);
  /** A sends to B with `--json` events on stdout. @param {string} path */
  const sender = (path) => cli(cfgA, ['send', '--to', 'Beta', '--name', 'Alpha', '--server', server.origin, '--timeout', '120', '--reconnect', '0', '--json', path]);

  /** @param {import('./harness/cli.js').CliRun} run @returns {Array<Record<string, any>>} */
  const events = (run) => run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  /** Chunk bytes the sender reported sending in this run (its last progress event). @param {import('./harness/cli.js').CliRun} run */
  const sentBytes = (run) => events(run).filter((e) => e.event === 'progress').reduce((n, e) => Math.max(n, e.bytes), 0);

  /**
   * Waits until the sender reported at least `bytes` sent, then sends it `signal`.
   * @param {import('./harness/cli.js').CliRun} run @param {number} bytes @param {NodeJS.Signals} signal
   * @param {import('./harness/cli.js').CliRun} [other] the run whose signal it is
   */
  const signalAt = async (run, bytes, signal, other = run) => {
    const until = Date.now() + 120_000;
    while (sentBytes(run) < bytes) {
      assert.ok(Date.now() < until, `the sender never reached ${bytes} bytes.\nsender:\n${run.stdout().slice(-2000)}\n${run.stderr()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    other.kill(signal);
  };

  /** Entries of `dir`, the hidden resume folder included. @param {string} dir */
  const entries = (dir) => readdirSync(dir).sort();

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    cfgA = tempDir('pairwise-cfg-a-');
    cfgB = tempDir('pairwise-cfg-b-');
    // Pair once with a link, so A and B are remembered devices.
    const hello = cleanup.track(makeFiles([{ name: 'hello.txt', size: 5 }]), (f) => f.remove());
    const a = cli(cfgA, ['send', '--server', server.origin, '--name', 'Alpha', hello.files[0].path]);
    const b = cli(cfgB, ['receive', '--yes', await a.link(), '--dir', tempDir('pairwise-in0-'), '--name', 'Beta']);
    await exitsWith(b, 0);
    await exitsWith(a, 0);
  });

  after(() => cleanup.run());

  it('a sender killed at half: the receiver keeps the verified part; run again, the file completes and < 10 % is sent twice', { timeout: 400_000 }, async () => {
    const big = cleanup.track(makeFiles([{ name: 'big.bin', size: 256 * MiB }]), (f) => f.remove());
    const file = big.files[0];
    const inbox = tempDir('pairwise-in-resume-');

    const r1 = receiver(inbox);
    const s1 = sender(file.path);
    await signalAt(s1, file.size / 2, 'SIGKILL');
    const killed = performance.now();
    const { code } = await r1.exited;
    // Reported, not asserted: how long the receiver took to notice that its peer vanished.
    console.log(`the receiver gave up on the killed sender after ${((performance.now() - killed) / 1000).toFixed(1)} s`);
    const sent1 = sentBytes(s1);
    assert.notEqual(code, 0, 'the receiver must fail');
    assert.match(r1.stderr(), KEPT, 'a sentence says what was kept and what to do');
    assert.deepEqual(entries(inbox), ['.pairwise-resume'], 'nothing handed over: no file under its final name');
    assert.ok(sent1 < file.size, 'killed before the end');

    const r2 = receiver(inbox);
    const s2 = sender(file.path);
    await exitsWith(r2, 0);
    await exitsWith(s2, 0);
    const got = await hashFile(join(inbox, 'big.bin'));
    assert.equal(got.size, file.size);
    assert.equal(got.sha256, file.sha256, 'SHA-256 equal');
    assert.deepEqual(entries(inbox), ['big.bin'], 'the kept files are gone once complete');

    const resumed = events(s2).find((e) => e.event === 'resumed');
    assert.ok(resumed && resumed.offset > 0 && resumed.offset === resumed.claimed, `the claim was accepted: ${JSON.stringify(resumed)}`);
    const sent2 = sentBytes(s2);
    assert.equal(sent2, file.size - resumed.offset, 'the second run sends exactly the rest');
    const again = sent1 + sent2 - file.size;
    console.log(`resume: run 1 sent ${sent1} B, run 2 sent ${sent2} B, claimed ${resumed.offset} B; sent twice ${again} B (${((100 * again) / file.size).toFixed(1)} %)`);
    assert.ok(again < file.size / 10, `sent twice ${again} B, not < 10 % of ${file.size}`);
    assert.match(r2.stderr(), /Continuing big\.bin from [\d.]+ MiB kept earlier/);
    const offers = JSON.parse(readFileSync(join(cfgA, 'outgoing.json'), 'utf8'));
    assert.deepEqual(offers.offers, [], 'the sender forgot the finished offer');
  });

  it('a source file changed between the runs fails the proof and is sent from 0', { timeout: 300_000 }, async () => {
    const src = cleanup.track(makeFiles([{ name: 'changing.bin', size: 128 * MiB }]), (f) => f.remove());
    const file = src.files[0];
    // A whole-second modification time, so that putting it back below restores it exactly.
    const stamp = new Date('2026-01-02T03:04:05Z');
    utimesSync(file.path, stamp, stamp);
    const inbox = tempDir('pairwise-in-changed-');
    const r1 = receiver(inbox);
    const s1 = sender(file.path);
    await signalAt(s1, file.size / 2, 'SIGKILL');
    const { code } = await r1.exited;
    assert.notEqual(code, 0);
    assert.match(r1.stderr(), KEPT);

    // One byte in the first half changes; size and modification time stay, so the offer is the
    // same (same transfer id) and only the proof can tell.
    const fd = openSync(file.path, 'r+');
    const at = 3 * MiB + 5;
    const old = Buffer.alloc(1);
    readSync(fd, old, 0, 1, at);
    writeSync(fd, Buffer.from([old[0] ^ 0xff]), 0, 1, at);
    closeSync(fd);
    utimesSync(file.path, stamp, stamp);
    assert.equal(statSync(file.path).mtimeMs, stamp.getTime());
    const changed = await hashFile(file.path);
    assert.notEqual(changed.sha256, file.sha256);

    const r2 = receiver(inbox);
    const s2 = sender(file.path);
    await exitsWith(r2, 0);
    await exitsWith(s2, 0);
    const resumed = events(s2).find((e) => e.event === 'resumed');
    assert.ok(resumed && resumed.claimed > 0 && resumed.offset === 0, `claimed, and answered 0: ${JSON.stringify(resumed)}`);
    assert.equal(sentBytes(s2), file.size, 'sent again from 0');
    const got = await hashFile(join(inbox, 'changing.bin'));
    assert.equal(got.sha256, changed.sha256, 'the result equals the new file');
    assert.deepEqual(entries(inbox), ['changing.bin']);
    assert.match(r2.stderr(), /changing\.bin changed since the last attempt/);
  });

  it('Ctrl-C on the sender sends cancel: the receiver says cancelled and keeps nothing', { timeout: 200_000 }, async () => {
    const src = cleanup.track(makeFiles([{ name: 'int-a.bin', size: 128 * MiB }]), (f) => f.remove());
    const inbox = tempDir('pairwise-in-int-a-');
    /** The sender's remembered offers. @returns {unknown[]} */
    const offers = () => JSON.parse(readFileSync(join(cfgA, 'outgoing.json'), 'utf8')).offers;
    const before = offers();
    const r = receiver(inbox);
    const s = sender(src.files[0].path);
    await signalAt(s, 16 * MiB, 'SIGINT');
    await exitsWith(s, 130);
    assert.match(s.stdout(), /"event":"interrupted"/);
    await exitsWith(r, 3);
    assert.match(r.stderr(), /The transfer was cancelled\. \(by the sender\)/);
    assert.deepEqual(entries(inbox), [], 'no partial files, no resume folder');
    assert.deepEqual(offers(), before, 'a cancelled offer is forgotten');
  });

  it('Ctrl-C on the receiver sends cancel: the sender says cancelled, the receiver removes its partial data', { timeout: 200_000 }, async () => {
    const src = cleanup.track(makeFiles([{ name: 'int-b.bin', size: 128 * MiB }]), (f) => f.remove());
    const inbox = tempDir('pairwise-in-int-b-');
    const r = receiver(inbox);
    const s = sender(src.files[0].path);
    await signalAt(s, 16 * MiB, 'SIGINT', r);
    await exitsWith(r, 130);
    assert.match(r.stderr(), /Cancelled \(Ctrl-C\): the other device was told, and the partial files here were removed\./);
    await exitsWith(s, 3);
    assert.match(s.stdout(), /"code":"cancelled"/);
    assert.ok(!existsSync(join(inbox, '.pairwise-resume')), 'no resume folder');
    assert.deepEqual(entries(inbox), []);
  });

  it('a receiver killed mid-file: the sender stops waiting on it, says the other device left and keeps the offer for resume', { timeout: 200_000 }, async () => {
    const src = cleanup.track(makeFiles([{ name: 'gone.bin', size: 128 * MiB }]), (f) => f.remove());
    const inbox = tempDir('pairwise-in-gone-');
    const list = join(cfgA, 'outgoing.json');
    /** The sender's remembered offers (none before its first resumable offer). @returns {unknown[]} */
    const offers = () => (existsSync(list) ? JSON.parse(readFileSync(list, 'utf8')).offers : []);
    const before = offers().length;
    const r = receiver(inbox);
    const s = sender(src.files[0].path);
    await signalAt(s, 16 * MiB, 'SIGKILL', r);
    const killed = performance.now();
    const { code } = await s.exited;
    console.log(`the sender gave up on the killed receiver after ${((performance.now() - killed) / 1000).toFixed(1)} s`);
    assert.equal(code, 1, `the sender fails.\n${s.stdout().slice(-2000)}\n${s.stderr()}`);
    const error = events(s).find((e) => e.event === 'error');
    assert.equal(error?.code, 'peer-left', `it says the other device left: ${JSON.stringify(error)}`);
    assert.ok(sentBytes(s) < src.files[0].size, 'killed before the end');
    assert.equal(offers().length, before + 1, 'the offer is kept, so running the command again resumes it');
  });
});
