/**
 * @file `pairwise serve --tls`: the app over https:// with the generated certificate, trusted by
 * exactly that certificate (Chromium's SPKI allow-list; a Chromium without it refuses the
 * page). Two Chromium processes pair through `wss://` and send files; the CLI sends through
 * `wss://` with `--server-cert` to Chromium and to another CLI. All bytes checked by SHA-256.
 */

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, pair, sendAndVerify, waitPaired, waitReceived } from './harness/app.js';
import { launchChromium, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { runCli } from './harness/cli.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

describe('HTTPS and wss:// with the generated certificate', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let ba;
  /** @type {import('./harness/browsers.js').Browser} */ let bb;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  /** @param {import('./harness/cli.js').CliRun} run */
  const exitOk = async (run) => {
    const { code, signal } = await run.exited;
    assert.equal(code, 0, `pairwise exited with ${code ?? signal}.\nstderr:\n${run.stderr()}`);
  };

  before(async () => {
    files = cleanup.track(
      makeFiles([
        { name: 'tls-empty.bin', size: 0 },
        { name: 'tls-one-byte.bin', size: 1 },
        { name: 'tls-3MiB.bin', size: 3 * MiB },
      ]),
      (f) => f.remove(),
    );
    server = cleanup.track(await startServer({ tls: true }), (s) => s.stop());
    assert.match(server.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
    const trustSpki = server.spki;
    [ba, bb] = await launchAll(cleanup, () => launchChromium({ trustSpki }), () => launchChromium({ trustSpki }));
  });

  after(() => cleanup.run());

  it('a Chromium that does not trust the certificate refuses the page', async () => {
    const plain = cleanup.track(await launchChromium(), (x) => x.close());
    const p = await plain.newPeer('untrusting', server.origin);
    await assert.rejects(p.goto(`${server.origin}/`), /ERR_CERT_AUTHORITY_INVALID/);
    await plain.close();
  });

  it('two Chromium pair through wss:// and send files; the bytes arrive intact', async () => {
    const a = await ba.newPeer('A', server.origin);
    const b = await bb.newPeer('B', server.origin);
    /** @type {string[]} */
    const sockets = [];
    for (const p of [a, b]) p.page.on('websocket', (/** @type {any} */ ws) => sockets.push(ws.url()));
    await a.goto(`${server.origin}/`);
    assert.deepEqual(
      await a.evaluate(() => [location.protocol, isSecureContext]),
      ['https:', true],
      'the app runs in a secure context over https',
    );
    await pair(a, b, server.origin);
    await sendAndVerify(a, b, files.files);
    assert.ok(sockets.length >= 2, `both pages opened their signaling WebSocket: ${sockets}`);
    for (const url of sockets) assert.equal(url, `${server.origin.replace('https:', 'wss:')}/ws`);
    await Promise.all([a.close(), b.close()]);
  });

  it('the CLI sends through wss:// with --server-cert; Chromium receives identical bytes', { timeout: 240_000 }, async () => {
    const paths = files.files.map((f) => f.path);
    const cert = /** @type {string} */ (server.certPath);
    const run = cleanup.track(runCli(['send', '--server', server.origin, '--server-cert', cert, ...paths]), (r) => r.kill());
    const link = await run.link();
    assert.ok(link.startsWith(`${server.origin}/#pair=`), link);
    const c = await bb.newPeer('C', server.origin);
    await c.goto(link);
    await waitPaired(c, [run]);
    await acceptOffer(c, files.files.map((f) => f.name), [run]);
    await waitReceived(c, files.files.map((f) => f.name), [run]);
    await assertReceivedIntact(c, files.files);
    await exitOk(run);
    await c.close();
  });

  it('CLI to CLI through wss://, both trusting the certificate with --server-cert', { timeout: 240_000 }, async () => {
    const dir = cleanup.track(mkdtempSync(join(tmpdir(), 'pairwise-tls-cli-')), () => {});
    const cert = /** @type {string} */ (server.certPath);
    const sender = cleanup.track(
      runCli(['send', '--server', server.origin, '--server-cert', cert, ...files.files.map((f) => f.path)]),
      (r) => r.kill(),
    );
    const receiver = cleanup.track(runCli(['receive', '--yes', await sender.link(), '--server-cert', cert, '--dir', dir]), (r) => r.kill());
    await exitOk(receiver);
    await exitOk(sender);
    assert.deepEqual(readdirSync(dir).sort(), files.files.map((f) => f.name).sort());
    for (const f of files.files) {
      assert.deepEqual(await hashFile(join(dir, f.name)), { sha256: f.sha256, size: f.size }, f.name);
    }
  });
});
