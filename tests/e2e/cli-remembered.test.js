/**
 * @file Remembered devices between two real `pairwise` CLIs through the real server
 * (docs/protocol.md §10), each with its own temporary `--config` directory: they pair once with a
 * link, then send with `send --to` / `receive --from` and no link; `pair`, rename and auto-accept
 * with `receive --paired` (accepting, or declining without a terminal); a key file replaced by another
 * device's is refused; a device with the record but another key is answered `not-paired`
 * (`unknown-device`); after `devices forget` on one side, the other side's `send --to` fails with
 * the `forgotten` sentence and loses its record.
 */

import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash, generateKeyPairSync as ecKeyPair } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cleanup } from './harness/cleanup.js';
import { cliTools } from './harness/cli.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

const FORGOTTEN = 'The other device has forgotten this one. Pair again with a QR code to send files.';
const UNKNOWN_DEVICE = "The other device says it does not recognise this device's key";

describe('remembered devices between two CLIs', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {string} */ let cfgA;
  /** @type {string} */ let cfgB;

  const { tempDir, cli, exitsWith } = cliTools(cleanup);

  /**
   * The paired devices of a config directory, as `pairwise devices --json` lists them.
   * @param {string} cfg
   * @returns {Promise<Array<{ id: string, name: string, auto_accept: boolean }>>}
   */
  const devices = async (cfg) => {
    const run = cli(cfg, ['devices', '--json']);
    await exitsWith(run, 0);
    return JSON.parse(run.stdout());
  };

  /**
   * @param {string} dir
   * @param {import('./harness/files.js').TestFile[]} expected
   */
  const assertDirHolds = async (dir, expected) => {
    assert.deepEqual(readdirSync(dir).sort(), expected.map((f) => f.name).sort(), 'files in the target directory');
    for (const f of expected) {
      const got = await hashFile(join(dir, f.name));
      assert.equal(got.size, f.size, `${f.name}: size`);
      assert.equal(got.sha256, f.sha256, `${f.name}: SHA-256`);
    }
  };

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    cfgA = tempDir('pairwise-cfg-a-');
    cfgB = tempDir('pairwise-cfg-b-');
  });

  after(() => cleanup.run());

  it('pair once with a link, then send --to / receive --from with no link: bytes arrive intact', { timeout: 240_000 }, async () => {
    const first = cleanup.track(makeFiles([{ name: 'first.bin', size: 3 * MiB + 7 }]), (f) => f.remove());
    const dir1 = tempDir('pairwise-in1-');
    const a = cli(cfgA, ['send', '--server', server.origin, '--name', 'Alpha', first.files[0].path]);
    const b = cli(cfgB, ['receive', '--yes', await a.link(), '--dir', dir1, '--name', 'Beta']);
    await exitsWith(b, 0);
    await exitsWith(a, 0);
    await assertDirHolds(dir1, first.files);

    const [knownByA] = await devices(cfgA);
    const [knownByB] = await devices(cfgB);
    assert.equal(knownByA?.name, 'Beta', 'A remembers B under the name B gave itself');
    assert.equal(knownByB?.name, 'Alpha', 'B remembers A under the name A gave itself');
    assert.equal((await devices(cfgA)).length, 1);

    const again = cleanup.track(makeFiles([{ name: 'again.bin', size: 5 * MiB + 3 }, { name: 'empty.txt', size: 0 }]), (f) => f.remove());
    const dir2 = tempDir('pairwise-in2-');
    // Each side names itself again in every session (§10.7), so the names stay.
    const receiver = cli(cfgB, ['receive', '--from', 'alpha', '--name', 'Beta', '--dir', dir2, '--server', server.origin, '--timeout', '120']);
    const sender = cli(cfgA, ['send', '--to', 'BETA', '--name', 'Alpha', '--server', server.origin, '--timeout', '120', ...again.files.map((f) => f.path)]);
    await exitsWith(receiver, 0);
    await exitsWith(sender, 0);
    await assertDirHolds(dir2, again.files);
    for (const run of [sender, receiver]) {
      assert.doesNotMatch(run.stdout() + run.stderr(), /#pair=/, 'no pairing link was shown');
    }
    assert.match(sender.stderr(), /Waiting for Beta to come online…/);
    assert.match(sender.stderr(), /Beta is online \(verified\)\./);
    assert.match(receiver.stderr(), /Done: 2 file\(s\) received\./);
    assert.deepEqual((await devices(cfgA)).map((d) => d.name), ['Beta'], 'still one device, same name');
  });

  it('pairwise pair, then rename and auto-accept: receive --paired takes files from it without asking, or declines them', { timeout: 180_000 }, async () => {
    const cfgC = tempDir('pairwise-cfg-c-');
    const cfgD = tempDir('pairwise-cfg-d-');
    const c = cli(cfgC, ['pair', '--server', server.origin, '--name', 'Gamma']);
    const d = cli(cfgD, ['pair', await c.link(), '--name', 'Delta']);
    await exitsWith(d, 0);
    await exitsWith(c, 0);
    assert.match(c.stderr(), /Remembered as "Delta"/);
    assert.deepEqual((await devices(cfgC)).map((x) => x.name), ['Delta']);
    assert.deepEqual((await devices(cfgD)).map((x) => x.name), ['Gamma']);

    await exitsWith(cli(cfgD, ['devices', 'rename', 'gamma', 'My Gamma']), 0);
    await exitsWith(cli(cfgD, ['devices', 'auto-accept', 'my gamma', 'on']), 0);
    const [renamed] = await devices(cfgD);
    assert.equal(renamed?.name, 'My Gamma');
    assert.equal(renamed?.name_set_by_user, true);
    assert.equal(renamed?.auto_accept, true);

    const payload = cleanup.track(makeFiles([{ name: 'auto.bin', size: 2 * MiB + 1 }]), (f) => f.remove());
    const inbox = tempDir('pairwise-in5-');
    const listener = cli(cfgD, ['receive', '--paired', '--name', 'Delta', '--dir', inbox, '--server', server.origin, '--timeout', '60']);
    const sender = cli(cfgC, ['send', '--to', 'delta', '--name', 'Gamma', '--server', server.origin, '--timeout', '60', payload.files[0].path]);
    await exitsWith(listener, 0);
    await exitsWith(sender, 0);
    await assertDirHolds(inbox, payload.files);
    assert.equal((await devices(cfgD))[0]?.name, 'My Gamma', "the person's name wins over the device's own");

    // Auto-accept off and no terminal to ask on: the offer is declined and nothing is written.
    await exitsWith(cli(cfgD, ['devices', 'auto-accept', 'My Gamma', 'off']), 0);
    const inbox2 = tempDir('pairwise-in6-');
    const listener2 = cli(cfgD, ['receive', '--paired', '--name', 'Delta', '--dir', inbox2, '--server', server.origin, '--timeout', '60']);
    const sender2 = cli(cfgC, ['send', '--to', 'Delta', '--name', 'Gamma', '--server', server.origin, '--timeout', '60', payload.files[0].path]);
    await exitsWith(sender2, 3);
    assert.match(sender2.stderr(), /The other device declined the files\./);
    await exitsWith(listener2, 1);
    assert.match(listener2.stderr(), /is not set to auto-accept/);
    assert.deepEqual(readdirSync(inbox2), [], 'nothing was written');
  });

  it('a key file replaced by another device\'s is refused with a sentence naming both files', async () => {
    const copy = tempDir('pairwise-cfg-wrong-');
    cpSync(cfgB, copy, { recursive: true });
    cpSync(join(cfgA, 'identity.key'), join(copy, 'identity.key'));
    for (const args of [['devices'], ['receive', '--from', 'Alpha', '--server', server.origin, '--timeout', '5']]) {
      const run = cli(copy, args);
      await exitsWith(run, 1);
      assert.match(run.stderr(), /identity\.key does not belong to .*devices\.json/);
      assert.match(run.stderr(), /restored from another device/);
      assert.match(run.stderr(), /Put the matching identity\.key back/);
    }
    assert.equal(readFileSync(join(copy, 'identity.key'), 'utf8'), readFileSync(join(cfgA, 'identity.key'), 'utf8'), 'the key file is left alone');
  });

  it('a device with the record but another key is answered not-paired: unknown-device, records kept', { timeout: 120_000 }, async () => {
    // B's records with a fresh key, made consistent by hand: what a device restored from the
    // wrong key file would be if it got past the local check.
    const stranger = tempDir('pairwise-cfg-stranger-');
    cpSync(cfgB, stranger, { recursive: true });
    const { privateKey, publicKey } = ecKeyPair('ec', { namedCurve: 'P-256' });
    writeFileSync(join(stranger, 'identity.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const jwk = publicKey.export({ format: 'jwk' });
    const sec1 = Buffer.concat([Buffer.from([4]), Buffer.from(/** @type {string} */ (jwk.x), 'base64url'), Buffer.from(/** @type {string} */ (jwk.y), 'base64url')]);
    const file = JSON.parse(readFileSync(join(stranger, 'devices.json'), 'utf8'));
    file.identity = createHash('sha256').update(sec1).digest('hex');
    writeFileSync(join(stranger, 'devices.json'), JSON.stringify(file), { mode: 0o600 });

    const listening = cli(cfgA, ['receive', '--from', 'Beta', '--name', 'Alpha', '--dir', tempDir('pairwise-in3-'), '--server', server.origin, '--timeout', '20']);
    const one = cleanup.track(makeFiles([{ name: 'x.bin', size: 1 }]), (f) => f.remove());
    const impostor = cli(stranger, ['send', '--to', 'Alpha', '--name', 'Beta', '--server', server.origin, '--timeout', '60', one.files[0].path]);
    await exitsWith(impostor, 5);
    assert.match(impostor.stderr(), new RegExp(UNKNOWN_DEVICE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    // A refused the stranger and kept waiting for the real Beta until its --timeout.
    await exitsWith(listening, 6);
    assert.match(listening.stderr(), /Beta did not come online within --timeout/);
    assert.equal((await devices(cfgA))[0]?.name, 'Beta', 'A keeps its record');
    assert.equal((await devices(stranger))[0]?.name, 'Alpha', 'not-paired is not authenticated: the record is kept');
  });

  it('forget on one side: the other side\'s send --to fails with the forgotten sentence and loses its record', { timeout: 120_000 }, async () => {
    const forget = cli(cfgA, ['devices', 'forget', 'beta']);
    await exitsWith(forget, 0);
    assert.deepEqual(await devices(cfgA), [], 'A has no paired device');
    const tombstones = () => JSON.parse(readFileSync(join(cfgA, 'devices.json'), 'utf8')).tombstones;
    assert.equal(tombstones().length, 1, 'A keeps a tombstone to tell B');

    // A goes online to tell B; B tries to send.
    const teller = cli(cfgA, ['receive', '--paired', '--name', 'Alpha', '--server', server.origin, '--timeout', '60', '--dir', tempDir('pairwise-in4-')]);
    const one = cleanup.track(makeFiles([{ name: 'late.bin', size: 1000 }]), (f) => f.remove());
    const late = cli(cfgB, ['send', '--to', 'Alpha', '--name', 'Beta', '--server', server.origin, '--timeout', '60', one.files[0].path]);
    await exitsWith(late, 5);
    assert.ok(late.stderr().includes(FORGOTTEN), `the forgotten sentence.\nstderr:\n${late.stderr()}`);
    assert.deepEqual(await devices(cfgB), [], "B deleted its record of A after the verified notice");
    await exitsWith(teller, 0);
    assert.match(teller.stderr(), /Told the forgotten device [0-9a-f]{8} that it was forgotten\./);
    assert.deepEqual(tombstones(), [], 'the tombstone is dropped once told');

    const again = cli(cfgB, ['send', '--to', 'Alpha', '--server', server.origin, one.files[0].path]);
    await exitsWith(again, 1);
    assert.match(again.stderr(), /no paired devices yet/);
  });
});
