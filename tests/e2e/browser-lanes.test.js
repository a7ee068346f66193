/**
 * @file Lanes (docs/protocol.md §12) opened by a browser: a page whose address says `?lanes=4`
 * opens four lanes for its transfer (on loopback it would open none by itself: the round trip
 * is under 4 ms) toward the CLI and toward Firefox, and sends its chunks as frames over all five
 * channels. This checks correctness, not speed (`bench/real-link.js`): every byte arrives
 * (SHA-256 in the CLI's folder or in the receiving page), the sending page's console shows
 * chunks on at least three channels, and a cancel from either side still ends the transfer on
 * both.
 */

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chooseFiles, sendAndVerify, showPairingCode, waitPaired, waitTransfer } from './harness/app.js';
import { launchChromium, launchFirefox } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { cliTools } from './harness/cli.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('a browser sends over lanes', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  const { tempDir, cli, exitsWith } = cliTools(cleanup);
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  /**
   * The sending page's count of chunk records per channel, logged when its lanes close.
   * @param {import('./harness/peer.js').Peer} page
   */
  const perChannel = async (page) => {
    const until = Date.now() + 20_000;
    for (;;) {
      const line = page.logs.find((l) => l.includes('chunks per channel'));
      if (line) return /** @type {number[]} */ (JSON.parse(/** @type {RegExpExecArray} */ (/: (\[[\d,]*\])/.exec(line))[1]));
      assert.ok(Date.now() < until, `the page never logged its chunks per channel.\n${await page.diagnose()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** @param {number[]} chunks */
  const assertStriped = (chunks) => {
    assert.equal(chunks.length, 5, `the session's channel and four lanes: ${JSON.stringify(chunks)}`);
    assert.ok(chunks.filter((n) => n > 0).length >= 3, `chunks went over at least three channels: ${JSON.stringify(chunks)}`);
  };

  /**
   * Waits until the page's newest send row counts at least `bytes` sent.
   * @param {import('./harness/peer.js').Peer} page @param {number} bytes @param {any[]} also
   */
  const waitSent = (page, bytes, also) =>
    page.waitUntil(
      `at least ${bytes} bytes sent`,
      (n) => {
        const bar = /** @type {HTMLProgressElement | null} */ (document.querySelector('#transfers li.transfer[data-direction=send] progress'));
        return !!bar && bar.value >= n;
      },
      bytes,
      { timeout: 120_000, interval: 100, also },
    );

  /** Opens the page with `?lanes=4` and returns its pairing link. @param {import('./harness/peer.js').Peer} page */
  const pairingLink = async (page) => {
    await page.goto(`${server.origin}/?lanes=4`);
    return showPairingCode(page);
  };

  before(async () => {
    files = cleanup.track(makeFiles([
      { name: 'blanes-big.bin', size: 40 * MiB + 777 },
      { name: 'blanes-empty.bin', size: 0 },
      { name: 'blanes-small.txt', size: 1234 },
    ]), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
  });

  after(() => cleanup.run());

  it('Chromium to the CLI over four lanes: every byte lands in --dir', { timeout: 300_000 }, async () => {
    const chromium = cleanup.track(await launchChromium(), (b) => b.close());
    const a = await chromium.newPeer('A (chromium)', server.origin);
    const dir = tempDir('blanes-cli-');
    const run = cli(tempDir('blanes-cfg-'), ['receive', '--yes', await pairingLink(a), '--dir', dir]);
    await waitPaired(a, [run]);
    await chooseFiles(a, files.files.map((f) => f.path));
    await exitsWith(run, 0);
    await waitTransfer(a, 'send', 'done', [run]);
    assert.deepEqual(readdirSync(dir).sort(), files.files.map((f) => f.name).sort());
    for (const f of files.files) {
      const got = await hashFile(join(dir, f.name));
      assert.equal(got.sha256, f.sha256, `${f.name}: SHA-256`);
    }
    const chunks = await perChannel(a);
    console.log(`chromium → CLI: chunks per channel (session, lanes 1-4): ${JSON.stringify(chunks)}`);
    assertStriped(chunks);
    await a.close();
  });

  it('Chromium to Firefox over four lanes: every byte arrives', { timeout: 300_000 }, async () => {
    const chromium = cleanup.track(await launchChromium(), (b) => b.close());
    const firefox = cleanup.track(await launchFirefox(), (b) => b.close());
    const a = await chromium.newPeer('A (chromium)', server.origin);
    const b = await firefox.newPeer('B (firefox)', server.origin);
    await b.goto(await pairingLink(a));
    await Promise.all([waitPaired(a, [b]), waitPaired(b, [a])]);
    // Folder-free files; the sender is the page that asked for lanes.
    await sendAndVerify(a, b, files.files);
    await b.close();
    const chunks = await perChannel(a);
    console.log(`chromium → firefox: chunks per channel (session, lanes 1-4): ${JSON.stringify(chunks)}`);
    assertStriped(chunks);
    await a.close();
  });

  it('a cancel from the sending page ends a transfer over lanes on both sides', { timeout: 300_000 }, async () => {
    const big = cleanup.track(makeFiles([{ name: 'blanes-cancel.bin', size: 512 * MiB }]), (f) => f.remove());
    const chromium = cleanup.track(await launchChromium(), (b) => b.close());
    const a = await chromium.newPeer('A (chromium)', server.origin);
    const run = cli(tempDir('blanes-cfg-'), ['receive', '--yes', await pairingLink(a), '--dir', tempDir('blanes-cancel-')]);
    await waitPaired(a, [run]);
    await chooseFiles(a, [big.files[0].path]);
    await waitSent(a, 16 * MiB, [run]);
    await a.click('#transfers li.transfer[data-direction=send] button.cancel-button');
    await waitTransfer(a, 'send', 'cancelled', [run]);
    await exitsWith(run, 3);
    assert.match(run.stderr(), /cancel/i);
    await a.close();
  });

  it('Ctrl-C on the receiving CLI: the page sending over lanes says cancelled', { timeout: 300_000 }, async () => {
    const big = cleanup.track(makeFiles([{ name: 'blanes-sigint.bin', size: 512 * MiB }]), (f) => f.remove());
    const chromium = cleanup.track(await launchChromium(), (b) => b.close());
    const a = await chromium.newPeer('A (chromium)', server.origin);
    const run = cli(tempDir('blanes-cfg-'), ['receive', '--yes', await pairingLink(a), '--dir', tempDir('blanes-sigint-')]);
    await waitPaired(a, [run]);
    await chooseFiles(a, [big.files[0].path]);
    await waitSent(a, 16 * MiB, [run]);
    run.kill('SIGINT');
    await waitTransfer(a, 'send', 'cancelled', [run]);
    await exitsWith(run, 130);
    await a.close();
  });
});
