/**
 * @file Pairing by code, no camera (docs/protocol.md §2.1), Chromium A and Firefox B through the
 * real server: A shows a code, B types it, both screens show the same six-digit number, both
 * people say it matches, and the pair is made and remembered like a QR pairing (same SAS,
 * files arrive intact). "They differ" pairs nothing. Through the tamper proxy, a key
 * substituted in `code-key` makes the two numbers differ, and one substituted in `code-open`
 * fails the commitment (`verify-failed`). Typos: a code that is not 8 digits is `bad-code`, one
 * nobody shows is `code-unknown`, and so is one whose screen was cancelled. "Pair another
 * device" while paired leads to a new code.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sendAndVerify, waitError } from './harness/app.js';
import { launchChromium, launchFirefox, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { answerNumbers, pairByCode, readNumbers, showCode, typeCode } from './harness/code.js';
import { listDevices } from './harness/devices.js';
import { makeFiles } from './harness/files.js';
import { startServer } from './harness/server.js';
import { startTamperProxy } from './tamper-proxy.js';

describe('pairing by code', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let chromium;
  /** @type {import('./harness/browsers.js').Browser} */ let firefox;
  /** @type {ReturnType<typeof makeFiles>} */ let files;

  before(async () => {
    files = cleanup.track(makeFiles([{ name: 'by-code.bin', size: 3 * 1024 * 1024 + 7 }, { name: 'empty.txt', size: 0 }]), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    [chromium, firefox] = await launchAll(cleanup, launchChromium, launchFirefox);
  });

  after(() => cleanup.run());

  it('Firefox types the code Chromium shows; the same numbers, then the same SAS, and files arrive intact', async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A', server.origin), (p) => p.close());
      const b = local.track(await firefox.newPeer('B', server.origin), (p) => p.close());
      const { numbers, sas } = await pairByCode(a, b, server.origin);
      assert.equal(numbers[0], numbers[1], 'both screens ask about the same number');
      assert.equal(sas[0], sas[1], 'and show the same verification code once paired');
      await sendAndVerify(a, b, files.files);
      assert.equal((await listDevices(a)).length, 1, 'A remembers B');
      assert.equal((await listDevices(b)).length, 1, 'B remembers A');
      // While paired, another pairing can start: back home, where a new code is shown.
      await a.click('#pair-another');
      await a.waitVisible('#home');
      assert.notEqual(await showCode(a), undefined);
    } finally {
      await local.run();
    }
  });

  it('"They differ" pairs nothing: that side says numbers-differ, the other peer-left', async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A', server.origin), (p) => p.close());
      const b = local.track(await firefox.newPeer('B', server.origin), (p) => p.close());
      await Promise.all([a.goto(`${server.origin}/`), b.goto(`${server.origin}/`)]);
      await typeCode(b, await showCode(a));
      await Promise.all([readNumbers(a, [b]), readNumbers(b, [a])]);
      await answerNumbers(b, false);
      await Promise.all([waitError(b, 'numbers-differ', { also: [a] }), waitError(a, 'peer-left', { also: [b] })]);
      assert.equal((await listDevices(a)).length, 0, 'A remembers nobody');
      assert.equal((await listDevices(b)).length, 0, 'B remembers nobody');
    } finally {
      await local.run();
    }
  });

  it('Cancel on the code screen goes home and nobody can use that code any more', async () => {
    const local = new Cleanup();
    try {
      const a = local.track(await chromium.newPeer('A', server.origin), (p) => p.close());
      const b = local.track(await firefox.newPeer('B', server.origin), (p) => p.close());
      await Promise.all([a.goto(`${server.origin}/`), b.goto(`${server.origin}/`)]);
      const code = await showCode(a);
      await a.click('#cancel-code');
      await a.waitVisible('#home');
      await a.waitAttr('#status', 'data-state', 'idle');
      await typeCode(b, code);
      await waitError(b, 'code-unknown', { also: [a] });
    } finally {
      await local.run();
    }
  });

  it('a code that is not 8 digits is bad-code; one nobody shows is code-unknown', async () => {
    const local = new Cleanup();
    try {
      const b = local.track(await firefox.newPeer('B', server.origin), (p) => p.close());
      await b.goto(`${server.origin}/`);
      await typeCode(b, '1234 567');
      await b.waitAttr('#error', 'data-code', 'bad-code');
      await b.goto(`${server.origin}/`);
      await typeCode(b, '1234-5678');
      await waitError(b, 'code-unknown');
    } finally {
      await local.run();
    }
  });

  for (const [body, expect] of /** @type {const} */ ([['code-key', 'numbers differ'], ['code-open', 'verify-failed']])) {
    it(`a key substituted in ${body} is caught: ${expect}, and nothing is paired`, async () => {
      const local = new Cleanup();
      try {
        const proxy = local.track(await startTamperProxy(server.origin, { kind: 'code-key', body }), (p) => p.stop());
        const a = local.track(await chromium.newPeer('A', proxy.origin), (p) => p.close());
        const b = local.track(await chromium.newPeer('B', proxy.origin), (p) => p.close());
        await Promise.all([a.goto(`${proxy.origin}/`), b.goto(`${proxy.origin}/`)]);
        await typeCode(b, await showCode(a));
        if (body === 'code-key') {
          const [na, nb] = await Promise.all([readNumbers(a, [b]), readNumbers(b, [a])]);
          assert.notEqual(na, nb, 'the two screens show different numbers');
          await answerNumbers(a, false);
          await waitError(a, 'numbers-differ', { also: [b] });
        } else {
          await waitError(b, 'verify-failed', { also: [a] });
        }
        assert.equal(proxy.rewrites.length, 1, `the proxy rewrote the ${body}: ${proxy.rewrites.join('; ')}`);
        assert.equal((await listDevices(a)).length, 0, 'A remembers nobody');
        assert.equal((await listDevices(b)).length, 0, 'B remembers nobody');
      } finally {
        await local.run();
      }
    });
  }
});
