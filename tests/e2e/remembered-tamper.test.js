/**
 * @file A malicious signaling server cannot fake a remembered device's presence or get between
 * two remembered devices. Two Chromium processes pair through the tamper proxy
 * (tamper-proxy.js) unharmed; then, with the proxy (a) substituting the ephemeral key in the
 * initiator's reconnection `hello` and (b) flipping a digit of the DTLS fingerprint in the
 * reconnection offer, both pages are reloaded: each must show `verify-failed` on its entry for
 * the other and never `online`. Once the proxy stops tampering, the two find each other again
 * (the links retry on their own) and a file goes through intact.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, pair, waitReceived } from './harness/app.js';
import { launchChromium, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { entry, listDevices, waitDeviceError, waitOneOnline } from './harness/devices.js';
import { makeFiles } from './harness/files.js';
import { startServer } from './harness/server.js';
import { startTamperProxy } from './tamper-proxy.js';

/** How long both entries are watched for a (wrong) `online` after the failure showed. */
const QUIET_MS = 3000;

/** @type {Array<{ name: string, attack: import('./tamper-proxy.js').Attack }>} */
const ATTACKS = [
  { name: "substituted ephemeral key in the initiator's hello", attack: { kind: 'hello-key', role: 'initiator', field: 'ephemeral' } },
  { name: 'rewritten DTLS fingerprint in the offer SDP', attack: { kind: 'sdp-fingerprint', sdp: 'offer' } },
];

describe('remembered devices through a tampering server', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {Awaited<ReturnType<typeof startTamperProxy>>} */ let proxy;
  /** @type {import('./harness/peer.js').Peer} */ let a;
  /** @type {import('./harness/peer.js').Peer} */ let b;
  /** @type {ReturnType<typeof makeFiles>} */ let files;
  const ids = { a: '', b: '' };

  before(async () => {
    files = cleanup.track(makeFiles([{ name: 'after-the-attack.bin', size: 100_000 }]), (f) => f.remove());
    const server = cleanup.track(await startServer(), (s) => s.stop());
    proxy = cleanup.track(await startTamperProxy(server.origin, { kind: 'none' }), (p) => p.stop());
    const [ba, bb] = await launchAll(cleanup, launchChromium, launchChromium);
    a = await ba.newPeer('A', proxy.origin);
    b = await bb.newPeer('B', proxy.origin);
    await pair(a, b, proxy.origin);
    [ids.a, ids.b] = await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
  });

  after(() => cleanup.run());

  for (const { name, attack } of ATTACKS) {
    it(`${name}: both entries show verify-failed and neither goes online`, async () => {
      const before = proxy.rewrites.length;
      proxy.setAttack(attack);
      await Promise.all([a.goto(`${proxy.origin}/`), b.goto(`${proxy.origin}/`)]);
      try {
        await Promise.all([waitDeviceError(a, ids.a, 'verify-failed', [b]), waitDeviceError(b, ids.b, 'verify-failed', [a])]);
      } catch (e) {
        throw new Error(`${/** @type {Error} */ (e).message}\n--- proxy ---\nrewrites: ${JSON.stringify(proxy.rewrites.slice(before))}\nframes: ${proxy.frames.slice(-40).join(', ')}`);
      }
      assert.ok(proxy.rewrites.length > before, 'the proxy must actually have rewritten a frame');
      const deadline = Date.now() + QUIET_MS;
      while (Date.now() < deadline) {
        for (const [p, id] of /** @type {const} */ ([[a, ids.a], [b, ids.b]])) {
          const [d] = await listDevices(p);
          assert.equal(d.id, id);
          assert.equal(d.presence, 'offline', `${p.name} must not show the other online:\n${await p.diagnose()}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    });
  }

  it('once the server stops tampering, the two reconnect on their own and a file arrives intact', async () => {
    proxy.setAttack({ kind: 'none' });
    await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
    const file = files.files[0];
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [file.path]);
    await acceptOffer(b, [file.name], [a]);
    await waitReceived(b, [file.name], [a]);
    await assertReceivedIntact(b, [file]);
  });
});
