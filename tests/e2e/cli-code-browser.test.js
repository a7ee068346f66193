/**
 * @file Pairing by code between the real `pairwise` CLI and Chromium (docs/protocol.md §2.1),
 * through the real server: the Rust exchange (`pairwise_proto::code`) against the page's
 * (`web/lib/proto/code.js`). The CLI shows the code and Chromium types it, and the other way
 * round; both screens show the same number, both people say it matches (the CLI's answer goes
 * to its stdin), and the file arrives intact. A "no" typed in the terminal pairs nothing.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, chooseFiles, waitError, waitPaired, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromium } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { answeringCli } from './harness/cli.js';
import { answerNumbers, readNumbers, showCode, typeCode } from './harness/code.js';
import { listDevices } from './harness/devices.js';
import { hashFile, makeFiles } from './harness/files.js';
import { ensureBuilt, startServer } from './harness/server.js';

const SHOWN = /Check that the other screen shows: (\d{3} \d{3})/;

describe('pairing by code between the CLI and Chromium', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let chromium;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  before(async () => {
    ensureBuilt();
    files = cleanup.track(makeFiles([{ name: 'by-code-cli.bin', size: 2 * 1024 * 1024 + 3 }]), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    chromium = cleanup.track(await launchChromium(), (b) => b.close());
  });

  after(() => cleanup.run());

  it('the CLI shows the code, Chromium types it: the same number, and the file arrives intact', { timeout: 240_000 }, async () => {
    const local = new Cleanup();
    try {
      const run = answeringCli(local, ['send', '--code', '--server', server.origin, ...files.files.map((f) => f.path)]);
      const code = await run.waitFor('out', /^(\d{4} \d{4})$/m);
      const b = local.track(await chromium.newPeer('B (chromium)', server.origin), (p) => p.close());
      await b.goto(`${server.origin}/`);
      await typeCode(b, code);
      const [inPage, inTerminal] = await Promise.all([readNumbers(b, [run]), run.waitFor('err', SHOWN)]);
      assert.equal(inPage, inTerminal, 'the page and the terminal show the same number');
      await answerNumbers(b, true);
      run.child.stdin.end('y\n');
      await waitPaired(b, [run]);
      await acceptOffer(b, files.files.map((f) => f.name), [run]);
      await waitReceived(b, files.files.map((f) => f.name), [run]);
      await assertReceivedIntact(b, files.files);
      assert.equal(await run.exited, 0, run.diagnose());
      assert.equal((await listDevices(b)).length, 1, 'the page remembers the CLI');
    } finally {
      await local.run();
    }
  });

  it('Chromium shows the code, the CLI types it: the same number, and the file lands in --dir', { timeout: 240_000 }, async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A (chromium)', server.origin), (p) => p.close());
      await a.goto(`${server.origin}/`);
      const code = await showCode(a);
      const dir = local.track(mkdtempSync(join(tmpdir(), 'cli-code-in-')), (d) => rmSync(d, { recursive: true, force: true }));
      // Typed as a person copies it from the screen: two words.
      const run = answeringCli(local, ['receive', ...code.split(' '), '--yes', '--dir', dir, '--server', server.origin]);
      const [inPage, inTerminal] = await Promise.all([readNumbers(a, [run]), run.waitFor('err', SHOWN)]);
      assert.equal(inPage, inTerminal, 'the page and the terminal show the same number');
      run.child.stdin.end('yes\n');
      await answerNumbers(a, true);
      await waitPaired(a, [run]);
      await chooseFiles(a, files.files.map((f) => f.path));
      assert.equal(await run.exited, 0, run.diagnose());
      await waitTransfer(a, 'send', 'done', [run]);
      const [f] = files.files;
      const got = await hashFile(join(dir, f.name));
      assert.equal(got.sha256, f.sha256, 'identical bytes');
    } finally {
      await local.run();
    }
  });

  it('"n" in the terminal pairs nothing: the CLI says numbers-differ, the page peer-left', { timeout: 240_000 }, async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A (chromium)', server.origin), (p) => p.close());
      await a.goto(`${server.origin}/`);
      const code = await showCode(a);
      const dir = local.track(mkdtempSync(join(tmpdir(), 'cli-code-in-')), (d) => rmSync(d, { recursive: true, force: true }));
      const run = answeringCli(local, ['receive', code, '--yes', '--dir', dir, '--server', server.origin]);
      await Promise.all([readNumbers(a, [run]), run.waitFor('err', SHOWN)]);
      run.child.stdin.end('n\n');
      assert.notEqual(await run.exited, 0, run.diagnose());
      assert.match(run.stderr(), /did not match/);
      await waitError(a, 'peer-left', { also: [run] });
      assert.deepEqual(readdirSync(dir), []);
      assert.equal((await listDevices(a)).length, 0, 'the page remembers nobody');
    } finally {
      await local.run();
    }
  });
});
