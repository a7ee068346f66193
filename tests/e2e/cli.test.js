/**
 * @file The real `pairwise` binary against real browsers and itself, through the real server:
 * CLI to Chromium (the browser opens the link the terminal QR code encodes; two files of one name
 * are both kept), Chromium to CLI
 * and Firefox to CLI (the CLI opens the browser's link, or shows its own QR code), CLI to CLI,
 * folders of 2000 files in nested folders each way (and a folder dropped on the page), and a
 * sender killed mid-file (the receiver fails clearly and leaves no complete-looking file).
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, chooseFiles, dropFiles, showPairingCode, waitPaired, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromium, launchFirefox } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { decodeTerminalQr, runCli } from './harness/cli.js';
import { hashFile, makeFiles, MiB, standardFiles } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('the pairwise CLI with browsers and itself', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let chromium;
  /** @type {ReturnType<typeof standardFiles>} */ let files;

  /** @param {string} prefix */
  const tempDir = (prefix) => cleanup.track(mkdtempSync(join(tmpdir(), prefix)), () => {});

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

  /** @param {import('./harness/cli.js').CliRun} run */
  const exitOk = async (run) => {
    const { code, signal } = await run.exited;
    assert.equal(code, 0, `pairwise exited with ${code ?? signal}.\nstderr:\n${run.stderr()}`);
  };

  before(async () => {
    files = cleanup.track(standardFiles('cli-'), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    chromium = cleanup.track(await launchChromium(), (b) => b.close());
  });

  after(() => cleanup.run());

  it('CLI sends to Chromium: the terminal QR code decodes to the printed link, bytes arrive intact', { timeout: 240_000 }, async () => {
    const run = cleanup.track(runCli(['send', '--server', server.origin, ...files.files.map((f) => f.path)]), (r) => r.kill());
    const link = await run.link();
    assert.equal(decodeTerminalQr(run.stderr()), link, 'the terminal QR code encodes exactly the printed link');
    const b = await chromium.newPeer('B (chromium)', server.origin);
    await b.goto(link);
    await waitPaired(b, [run]);
    await acceptOffer(b, files.files.map((f) => f.name), [run]);
    await waitReceived(b, files.files.map((f) => f.name), [run]);
    await assertReceivedIntact(b, files.files);
    await exitOk(run);
    assert.match(run.stderr(), /Done: 3 file\(s\) sent/);
    await b.close();
  });

  it('CLI sends two files of one name to Chromium: both are kept and listed, the second as NAME (1).ext', { timeout: 240_000 }, async () => {
    const one = cleanup.track(makeFiles([{ name: 'dup.txt', size: 1000 }]), (f) => f.remove()).files[0];
    const two = cleanup.track(makeFiles([{ name: 'dup.txt', size: 2000 }]), (f) => f.remove()).files[0];
    const run = cleanup.track(runCli(['send', '--server', server.origin, one.path, two.path]), (r) => r.kill());
    const b = await chromium.newPeer('B (chromium)', server.origin);
    await b.goto(await run.link());
    await waitPaired(b, [run]);
    await acceptOffer(b, ['dup.txt', 'dup (1).txt'], [run]);
    await waitReceived(b, ['dup.txt', 'dup (1).txt'], [run]);
    await assertReceivedIntact(b, [one, { ...two, name: 'dup (1).txt' }]);
    const shown = await b.evaluate(() => [...document.querySelectorAll('#received a.download')].map((a) => a.textContent));
    assert.deepEqual(shown, ['dup.txt', 'dup (1).txt'], 'the Received list names each file once');
    await exitOk(run);
    await b.close();
  });

  it('Chromium sends to the CLI: files land in --dir with identical bytes', { timeout: 240_000 }, async () => {
    const a = await chromium.newPeer('A (chromium)', server.origin);
    await a.goto(server.origin);
    const link = await showPairingCode(a);
    const dir = tempDir('cli-in-');
    const run = cleanup.track(runCli(['receive', '--yes', link, '--dir', dir]), (r) => r.kill());
    await waitPaired(a, [run]);
    // A short text first (§11.2): the terminal shows it, with an escape sequence defused.
    await a.page.fill('#text-input', 'see you at 5 \u001b[31mred\u001b[0m');
    await a.click('#send-text');
    await a.waitUntil('text sent', () => document.querySelectorAll('#texts li[data-direction=sent]').length === 1, undefined, { timeout: 20_000 });
    await chooseFiles(a, files.files.map((f) => f.path));
    await exitOk(run);
    await waitTransfer(a, 'send', 'done', [run]);
    await assertDirHolds(dir, files.files);
    // The page's device record came first, so the lines name it (issue 15).
    assert.match(run.stderr(), /Text from "Chrome on Linux \([^"\n]+\)":\nsee you at 5 \uFFFD\[31mred\uFFFD\[0m/);
    assert.match(run.stderr(), /"Chrome on Linux \([^"\n]+\)" sends \d+ file\(s\), /);
    assert.ok(!run.stderr().includes('\u001b[31m'), 'no raw escape sequence reaches the terminal');
    await a.close();
  });

  it('CLI receives without a link: it shows the QR code, Chromium opens it and sends', { timeout: 240_000 }, async () => {
    const dir = tempDir('cli-qr-');
    const run = cleanup.track(runCli(['receive', '--yes', '--server', server.origin, '--dir', dir]), (r) => r.kill());
    const link = await run.link();
    assert.equal(decodeTerminalQr(run.stderr()), link, 'the terminal QR code encodes exactly the printed link');
    const a = await chromium.newPeer('A (chromium)', server.origin);
    await a.goto(link);
    await waitPaired(a, [run]);
    await chooseFiles(a, files.files.map((f) => f.path));
    await exitOk(run);
    await assertDirHolds(dir, files.files);
    await a.close();
  });

  it('Firefox sends to the CLI', { timeout: 240_000 }, async () => {
    const firefox = cleanup.track(await launchFirefox(), (b) => b.close());
    const a = await firefox.newPeer('A (firefox)', server.origin);
    await a.goto(server.origin);
    const link = await showPairingCode(a);
    const dir = tempDir('cli-ff-');
    const run = cleanup.track(runCli(['receive', '--yes', link, '--dir', dir]), (r) => r.kill());
    await waitPaired(a, [run]);
    await chooseFiles(a, files.files.map((f) => f.path));
    await exitOk(run);
    await assertDirHolds(dir, files.files);
    await a.close();
  });

  it('CLI sends to CLI', { timeout: 240_000 }, async () => {
    const dir = tempDir('cli-cli-');
    const sender = cleanup.track(runCli(['send', '--server', server.origin, ...files.files.map((f) => f.path)]), (r) => r.kill());
    const receiver = cleanup.track(runCli(['receive', '--yes', await sender.link(), '--dir', dir]), (r) => r.kill());
    await exitOk(receiver);
    await exitOk(sender);
    await assertDirHolds(dir, files.files);
  });

  /**
   * A folder "Album 2026" of `count` (2000) small random files in nested folders.
   * @returns {{ root: string, want: Map<string, string> }} its path, relative path -> SHA-256
   */
  const makeTree = (count = 2000) => {
    const root = join(tempDir('cli-tree-src-'), 'Album 2026');
    /** @type {Map<string, string>} */
    const want = new Map();
    for (let i = 0; i < count; i++) {
      const rel = join(`day-${i % 20}`, `part-${i % 7}`, `photo-${String(i).padStart(4, '0')}.jpg`);
      const bytes = randomBytes((i * 37) % 5000);
      mkdirSync(join(root, dirname(rel)), { recursive: true });
      writeFileSync(join(root, rel), bytes);
      want.set(join('Album 2026', rel), createHash('sha256').update(bytes).digest('hex'));
    }
    return { root, want };
  };

  /**
   * Asserts that `dir` holds exactly the tree `want`, byte for byte.
   * @param {string} dir
   * @param {Map<string, string>} want
   */
  const assertTree = (dir, want) => {
    const got = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)));
    assert.deepEqual(got.sort(), [...want.keys()].sort(), 'the received tree');
    for (const [rel, sha] of want) {
      assert.equal(createHash('sha256').update(readFileSync(join(dir, rel))).digest('hex'), sha, rel);
    }
  };

  it('CLI sends a folder of 2000 files in nested folders to CLI: the tree and every byte arrive', { timeout: 300_000 }, async () => {
    const { root, want } = makeTree();
    const dir = tempDir('cli-tree-dst-');
    const sender = cleanup.track(runCli(['send', '--server', server.origin, root]), (r) => r.kill());
    const receiver = cleanup.track(runCli(['receive', '--yes', await sender.link(), '--dir', dir]), (r) => r.kill());
    await exitOk(receiver);
    await exitOk(sender);
    assertTree(dir, want);
  });

  /**
   * Chromium shows its QR code, `pairwise receive LINK` opens it, and the page sends a tree of
   * `count` files chosen by `choose`; the CLI's folder must hold the same tree, byte for byte.
   * @param {number} count
   * @param {(a: import('./harness/peer.js').Peer, root: string) => Promise<void>} choose
   */
  const chromiumSendsTree = async (count, choose) => {
    const { root, want } = makeTree(count);
    const a = await chromium.newPeer('A (chromium)', server.origin);
    await a.goto(server.origin);
    const link = await showPairingCode(a);
    const dir = tempDir('cli-tree-in-');
    const run = cleanup.track(runCli(['receive', '--yes', link, '--dir', dir]), (r) => r.kill());
    await waitPaired(a, [run]);
    await choose(a, root);
    await exitOk(run);
    await waitTransfer(a, 'send', 'done', [run]);
    assertTree(dir, want);
    await a.close();
  };

  it('Chromium sends a folder of 2000 files to the CLI: the tree and every byte arrive', { timeout: 300_000 }, () =>
    chromiumSendsTree(2000, (a, root) => a.page.setInputFiles('#folder-input', root)),
  );

  it('a folder dropped on the page in Chromium goes to the CLI with its tree', { timeout: 300_000 }, () =>
    chromiumSendsTree(300, (a, root) => dropFiles(a, [root])),
  );

  it('the CLI sends a folder of 2000 files to Chromium: every file arrives under its folder path', { timeout: 300_000 }, async () => {
    const { root, want } = makeTree();
    const run = cleanup.track(runCli(['send', '--server', server.origin, root]), (r) => r.kill());
    const b = await chromium.newPeer('B (chromium)', server.origin);
    await b.goto(await run.link());
    await waitPaired(b, [run]);
    await b.waitVisible('#incoming', { timeout: 30_000, also: [run] });
    await b.click('#accept-button');
    await waitTransfer(b, 'receive', 'done', [run]);
    await exitOk(run);
    const got = await b.evaluate(async () => {
      /** @type {Record<string, string>} */
      const out = {};
      for (const a of /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll('#received a.download'))) {
        const buf = await (await fetch(a.href)).arrayBuffer();
        const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
        out[a.getAttribute('data-path') ?? a.download] = [...d].map((x) => x.toString(16).padStart(2, '0')).join('');
      }
      return out;
    });
    const wantPosix = new Map([...want].map(([k, v]) => [k.split('\\').join('/'), v]));
    assert.deepEqual(Object.keys(got).sort(), [...wantPosix.keys()].sort(), 'folder paths of the received files');
    for (const [rel, sha] of wantPosix) assert.equal(got[rel], sha, rel);
    await b.close();
  });

  it('a sender killed mid-file leaves no complete-looking file and a clear non-zero exit', { timeout: 240_000 }, async () => {
    const big = cleanup.track(makeFiles([{ name: 'huge.bin', size: 256 * MiB }]), (f) => f.remove());
    const dir = tempDir('cli-kill-');
    const sender = cleanup.track(runCli(['send', '--server', server.origin, big.files[0].path]), (r) => r.kill());
    const receiver = cleanup.track(runCli(['receive', '--yes', await sender.link(), '--dir', dir]), (r) => r.kill());
    // Wait until bytes are flowing: the part file exists and is growing.
    const until = Date.now() + 60_000;
    while (!readdirSync(dir).some((n) => n.endsWith('.part'))) {
      assert.ok(Date.now() < until, `no part file appeared.\nreceiver:\n${receiver.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    sender.kill('SIGKILL');
    const { code } = await receiver.exited;
    assert.notEqual(code, 0, 'the receiver must fail');
    assert.match(receiver.stderr(), /left|ended before the transfer finished/i, 'a sentence says what happened');
    assert.deepEqual(readdirSync(dir), [], 'nothing that looks complete, and no part file left behind');
  });
});
