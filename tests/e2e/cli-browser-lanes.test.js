/**
 * @file Lanes (docs/protocol.md §12) from the CLI to a browser: with `PAIRWISE_LANES=4` the CLI
 * opens four lanes toward Chromium and toward Firefox, whose page takes them (its SDP declares
 * `a=pairwise-lanes`, it answers each `lane-offer` with a peer connection of its own) and puts
 * the frames from all five channels back in order. On loopback lanes are not needed (the CLI
 * opens them by default only on paths of 4 ms or more), so the variable forces them; this checks
 * correctness, not speed (`bench/real-link.js`): every byte arrives (SHA-256 in the page), the
 * CLI's report shows chunks on at least three channels, and a cancel from either side still
 * ends the transfer on both (Ctrl-C on the CLI: the page says cancelled, although its cancel may
 * arrive behind frames still on the lanes when the session's channel closes).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, waitPaired, waitReceived } from './harness/app.js';
import { launchChromium, launchFirefox } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { runCli } from './harness/cli.js';
import { makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

// Read by every `pairwise` this file starts.
process.env.PAIRWISE_LANES = '4';

describe('the CLI sends to browsers over lanes', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  /** @param {import('./harness/cli.js').CliRun} run @returns {number[]} */
  const perChannel = (run) => {
    const ev = run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.event === 'lanes');
    return ev?.chunks ?? [];
  };

  /** Bytes the CLI reported sent. @param {import('./harness/cli.js').CliRun} run */
  const sentBytes = (run) =>
    run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((e) => e.event === 'progress').reduce((n, e) => Math.max(n, e.bytes), 0);

  /**
   * Waits until the newest row of `direction` is in `state` (not `waitTransfer`, which takes
   * `cancelled` for a failure).
   * @param {import('./harness/peer.js').Peer} peer @param {'send' | 'receive'} direction @param {string} state
   * @param {import('./harness/cli.js').CliRun[]} also
   */
  const waitRow = (peer, direction, state, also) =>
    peer.waitUntil(
      `newest ${direction} row data-state=${state}`,
      ({ d, s }) => document.querySelector(`#transfers li.transfer[data-direction=${d}]`)?.getAttribute('data-state') === s,
      { d: direction, s: state },
      { timeout: 60_000, interval: 100, also },
    );

  /** The link a `--json` run printed. @param {import('./harness/cli.js').CliRun} run */
  const jsonLink = async (run) => {
    const until = Date.now() + 30_000;
    for (;;) {
      const ev = run.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.event === 'link');
      if (ev) return /** @type {string} */ (ev.link);
      assert.ok(Date.now() < until, `no link.\n${run.diagnose()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    files = cleanup.track(makeFiles([
      { name: 'lanes-big.bin', size: 40 * MiB + 777 },
      { name: 'lanes-empty.bin', size: 0 },
      { name: 'lanes-small.txt', size: 1234 },
    ]), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
  });

  after(() => cleanup.run());

  for (const [kind, launch] of /** @type {const} */ ([['chromium', launchChromium], ['firefox', launchFirefox]])) {
    it(`CLI to ${kind}: the page takes four lanes and every byte arrives`, { timeout: 300_000 }, async () => {
      const browser = cleanup.track(await launch(), (b) => b.close());
      const run = cleanup.track(runCli(['send', '--json', '--server', server.origin, ...files.files.map((f) => f.path)]), (r) => r.kill());
      const b = await browser.newPeer(`B (${kind})`, server.origin);
      await b.goto(await jsonLink(run));
      await waitPaired(b, [run]);
      await acceptOffer(b, files.files.map((f) => f.name), [run]);
      await waitReceived(b, files.files.map((f) => f.name), [run]);
      await assertReceivedIntact(b, files.files);
      const { code } = await run.exited;
      assert.equal(code, 0, run.diagnose());
      const chunks = perChannel(run);
      console.log(`${kind}: chunks per channel (session, lanes 1-4): ${JSON.stringify(chunks)}`);
      assert.ok(chunks.filter((n) => n > 0).length >= 3, `chunks went over at least three channels: ${JSON.stringify(chunks)}`);
      await b.close();
    });
  }

  it('Ctrl-C on the CLI sending over lanes: the page says cancelled, not that the device left', { timeout: 300_000 }, async () => {
    const big = cleanup.track(makeFiles([{ name: 'lanes-sigint.bin', size: 512 * MiB }]), (f) => f.remove());
    const browser = cleanup.track(await launchChromium(), (b) => b.close());
    const run = cleanup.track(runCli(['send', '--json', '--server', server.origin, big.files[0].path]), (r) => r.kill());
    const b = await browser.newPeer('B (chromium)', server.origin);
    await b.goto(await jsonLink(run));
    await waitPaired(b, [run]);
    await acceptOffer(b, ['lanes-sigint.bin'], [run]);
    const until = Date.now() + 120_000;
    while (sentBytes(run) < 16 * MiB) {
      assert.ok(Date.now() < until, `the CLI never sent 16 MiB.\n${run.diagnose()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    run.kill('SIGINT');
    await waitRow(b, 'receive', 'cancelled', [run]);
    const { code } = await run.exited;
    assert.equal(code, 130, run.diagnose());
    await b.close();
  });

  it('a cancel from the page ends a transfer over lanes on both sides', { timeout: 300_000 }, async () => {
    const big = cleanup.track(makeFiles([{ name: 'lanes-cancel.bin', size: 512 * MiB }]), (f) => f.remove());
    const browser = cleanup.track(await launchChromium(), (b) => b.close());
    const run = cleanup.track(runCli(['send', '--json', '--server', server.origin, big.files[0].path]), (r) => r.kill());
    const b = await browser.newPeer('B (chromium)', server.origin);
    await b.goto(await jsonLink(run));
    await waitPaired(b, [run]);
    await acceptOffer(b, ['lanes-cancel.bin'], [run]);
    // Mid-transfer, with the lanes carrying chunks.
    const until = Date.now() + 120_000;
    while (sentBytes(run) < 16 * MiB) {
      assert.ok(Date.now() < until, `the CLI never sent 16 MiB.\n${run.diagnose()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await b.click('#transfers li.transfer[data-direction=receive] button.cancel-button');
    await waitRow(b, 'receive', 'cancelled', [run]);
    const { code } = await run.exited;
    assert.equal(code, 3, `the CLI says cancelled.\n${run.diagnose()}`);
    assert.match(run.stdout(), /"code":"cancelled"/);
    await b.close();
  });
});
