/**
 * @file Remembered devices between the real `pairwise` CLI and Chromium with a persistent profile
 * (docs/protocol.md §10), through the real server: they pair once through the CLI's link
 * (`pairwise pair`) and each lists the other under the name it sent; then the CLI sends with
 * `send --to` and receives with `receive --from`, with no QR code, and the bytes are checked by
 * SHA-256. The CLI's lines name the browser, and the name given once with `--name` is kept: the
 * later runs give none, and the browser still lists the CLI under it (issue 15).
 */

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { T, acceptOffer, assertReceivedIntact, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromiumProfile } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import * as devices from './harness/devices.js';
import { cliTools } from './harness/cli.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('remembered devices between the CLI and Chromium', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {any} the browser page (harness/peer.js Peer) */ let a;
  const dev = devices;
  /** @type {string} */ let cfg;

  const { tempDir, cli: cliWith, exitsWith } = cliTools(cleanup);
  /** @param {string[]} args */
  const cli = (args) => cliWith(cfg, args);

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    cfg = tempDir('pairwise-cfg-term-');
    const browser = await launchChromiumProfile(tempDir('pairwise-profile-cli-'), server.origin);
    cleanup.track(browser, (/** @type {any} */ b) => b.close());
    a = await browser.page('Chromium');
  });

  after(() => cleanup.run());

  it('pair through the CLI link, then send --to the browser and receive --from it with no QR code', async () => {
    await a.goto(`${server.origin}/`);
    await dev.setOwnName(a, 'Browser A');
    const pairing = cli(['pair', '--server', server.origin, '--name', 'Term']);
    await a.goto(await pairing.link());
    await exitsWith(pairing, 0);
    assert.match(pairing.stderr(), /Remembered as "Browser A"/);
    await a.waitUntil('Term listed', () => [...document.querySelectorAll('#devices li.device .device-name')].some((n) => n.textContent === 'Term'), undefined, { timeout: T.pair });
    const [onA] = await dev.listDevices(a);

    const files = cleanup.track(makeFiles([{ name: 'cli-to-browser.bin', size: 3 * MiB + 5 }, { name: 'browser-to-cli.bin', size: 2 * MiB + 9 }]), (f) => f.remove());
    const send = cli(['send', '--to', 'browser a', '--server', server.origin, '--timeout', '90', files.files[0].path]);
    await acceptOffer(a, [files.files[0].name]);
    await waitReceived(a, [files.files[0].name]);
    await assertReceivedIntact(a, [files.files[0]]);
    await exitsWith(send, 0);
    assert.doesNotMatch(send.stdout() + send.stderr(), /#pair=/, 'no pairing link');
    assert.match(send.stderr(), /Waiting for "Browser A" to accept/);

    await a.goto(`${server.origin}/`);
    const dir = tempDir('pairwise-in-browser-');
    const receive = cli(['receive', '--from', 'Browser A', '--dir', dir, '--server', server.origin, '--timeout', '90']);
    await a.waitUntil('Term online', (/** @type {string} */ sel) => document.querySelector(sel)?.getAttribute('data-presence') === 'online', dev.entry(onA.id), { timeout: T.pair });
    await a.setInputFiles(`${dev.entry(onA.id)} input.device-files`, [files.files[1].path]);
    await exitsWith(receive, 0);
    await waitTransfer(a, 'send', 'done', [receive]);
    assert.deepEqual(readdirSync(dir), [files.files[1].name]);
    assert.match(receive.stderr(), /"Browser A" sends 1 file\(s\), 2\.1 MB:/, 'the offer names the sender');
    const [again] = await dev.listDevices(a);
    assert.equal(again.name, 'Term', 'the kept --name, not the host name');
    const got = await hashFile(join(dir, files.files[1].name));
    assert.equal(got.size, files.files[1].size);
    assert.equal(got.sha256, files.files[1].sha256);
  });
});
