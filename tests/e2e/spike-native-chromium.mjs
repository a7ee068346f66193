/**
 * @file Spike (not part of the suite: *.mjs, not *.test.js): interop of the native WebRTC peer
 * (`crates/pairwise-cli/src/peer`, webrtc-rs 0.21) with real headless Chromium, both directions.
 *
 *   cargo build --release -p pairwise-cli --example native_peer_spike
 *   tests/e2e/netns.sh node tests/e2e/spike-native-chromium.mjs [MiB=64] [msgBytes=262144] [extra native args...]
 *   PAIRWISE_SPIKE_BROWSER=firefox tests/e2e/netns.sh node tests/e2e/spike-native-chromium.mjs ...  (Firefox ESR)
 *
 * 1. Chromium offers (creates the `pairwise` channel), native answers; Chromium sends MiB of
 *    random data in msgBytes messages with bufferedAmount flow control; native counts and hashes.
 * 2. Native offers, Chromium answers; native sends MiB; Chromium counts and hashes.
 * SDPs go without candidates; candidates trickle both ways as RTCIceCandidateInit JSON, relayed
 * by this script over the native example's stdin/stdout JSON lines. SHA-256 must match.
 */

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { launch } from './harness/browsers.js';
import { ROOT, startServer } from './harness/server.js';

const MIB = Number(process.argv[2] ?? 64);
const MSG = Number(process.argv[3] ?? 262144);
const EXTRA = process.argv.slice(4);
/** PAIRWISE_SPIKE_BROWSER=firefox runs the same against Firefox ESR. */
const KIND = process.env.PAIRWISE_SPIKE_BROWSER === 'firefox' ? 'firefox' : 'chromium';
/** PAIRWISE_SPIKE_IDLE_SECS=N keeps the open channel idle N s before sending (ICE consent check). */
const IDLE_MS = Number(process.env.PAIRWISE_SPIKE_IDLE_SECS ?? 0) * 1000;
const idle = () => (IDLE_MS ? new Promise((r) => setTimeout(r, IDLE_MS)) : Promise.resolve());
const TOTAL = MIB * 1024 * 1024;
const NATIVE = process.env.PAIRWISE_SPIKE_BIN ?? join(ROOT, 'target', 'release', 'examples', 'native_peer_spike');

/** Starts the native example; returns a line-message queue and a writer. */
function startNative(args) {
  const child = spawn(NATIVE, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  /** @type {any[]} */
  const queue = [];
  /** @type {((v: any) => void) | null} */
  let waiter = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (waiter) {
      const w = waiter;
      waiter = null;
      w(msg);
    } else queue.push(msg);
  });
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    /** @returns {Promise<any>} next message from native */
    next() {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve) => (waiter = resolve));
    },
    /** @param {any} msg */
    write(msg) {
      child.stdin.write(`${JSON.stringify(msg)}\n`);
    },
    async stop() {
      child.stdin.end(`${JSON.stringify({ type: 'quit' })}\n`);
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** In-page helpers, installed once per page. `window.toNode` is exposed by the script. */
function installPageHelpers() {
  const w = /** @type {any} */ (window);
  w.spike = {
    pc: /** @type {RTCPeerConnection | null} */ (null),
    dc: /** @type {RTCDataChannel | null} */ (null),
    data: /** @type {Uint8Array | null} */ (null),
    setup() {
      const pc = new RTCPeerConnection();
      w.spike.pc = pc;
      pc.onicecandidate = (e) => w.toNode({ type: 'candidate', candidate: e.candidate ? e.candidate.toJSON() : null });
      pc.onconnectionstatechange = () => w.toNode({ type: 'state', state: pc.connectionState });
      return pc;
    },
    async makeData(total) {
      const data = new Uint8Array(total);
      for (let off = 0; off < total; off += 65536) crypto.getRandomValues(data.subarray(off, Math.min(total, off + 65536)));
      w.spike.data = data;
      const sha = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
      return [...sha].map((b) => b.toString(16).padStart(2, '0')).join('');
    },
    async offer() {
      const pc = w.spike.setup();
      const dc = pc.createDataChannel('pairwise', { ordered: true });
      dc.binaryType = 'arraybuffer';
      w.spike.dc = dc;
      dc.onopen = () => w.toNode({ type: 'dc-open', maxMessageSize: pc.sctp?.maxMessageSize });
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription?.sdp;
    },
    async answer(sdp, expect) {
      const pc = w.spike.setup();
      pc.ondatachannel = (e) => {
        const dc = e.channel;
        dc.binaryType = 'arraybuffer';
        w.spike.dc = dc;
        const chunks = [];
        let got = 0;
        let first = 0;
        w.toNode({ type: 'dc-open', label: dc.label, ordered: dc.ordered, maxMessageSize: pc.sctp?.maxMessageSize });
        dc.onmessage = async (m) => {
          if (!first) first = performance.now();
          chunks.push(m.data);
          got += m.data.byteLength;
          if (got >= expect) {
            const secs = (performance.now() - first) / 1000;
            const buf = await new Blob(chunks).arrayBuffer();
            const sha = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
            w.toNode({
              type: 'received',
              bytes: got,
              messages: chunks.length,
              secs,
              mbps: got / secs / 1e6,
              sha256: [...sha].map((b) => b.toString(16).padStart(2, '0')).join(''),
            });
          }
        };
      };
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription?.sdp;
    },
    async accept(sdp) {
      await w.spike.pc.setRemoteDescription({ type: 'answer', sdp });
    },
    async candidate(c) {
      await w.spike.pc.addIceCandidate(c);
    },
    /** Sends spike.data in `msg`-byte messages with bufferedAmount flow control (4 MiB high, 1 MiB low). */
    async send(msg) {
      const dc = w.spike.dc;
      const data = w.spike.data;
      dc.bufferedAmountLowThreshold = 1 << 20;
      const t0 = performance.now();
      for (let off = 0; off < data.length; off += msg) {
        if (dc.bufferedAmount > 4 << 20) {
          await new Promise((r) => (dc.onbufferedamountlow = r));
        }
        dc.send(data.subarray(off, Math.min(data.length, off + msg)));
      }
      return (performance.now() - t0) / 1000;
    },
  };
}

/** Relays browser events (page -> node) into a queue. */
function pageInbox() {
  /** @type {any[]} */
  const queue = [];
  /** @type {Array<{pred: (m: any) => boolean, resolve: (m: any) => void}>} */
  const waiters = [];
  return {
    /** @param {any} msg */
    push(msg) {
      const i = waiters.findIndex((w) => w.pred(msg));
      if (i >= 0) waiters.splice(i, 1)[0].resolve(msg);
      else queue.push(msg);
    },
    /** @param {(m: any) => boolean} pred */
    take(pred) {
      const i = queue.findIndex(pred);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]);
      return new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

function withTimeout(p, ms, what) {
  return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))]);
}

/**
 * Pumps native -> browser messages (candidates, sdp) until `until(msg)` says stop; browser
 * candidates are forwarded to native by the page callback.
 */
async function relayNative(native, peer, until) {
  for (;;) {
    const msg = await native.next();
    if (msg.type === 'candidate') {
      if (msg.candidate) await peer.evaluate((c) => /** @type {any} */ (window).spike.candidate(c), msg.candidate);
    } else if (until(msg)) return msg;
    else if (msg.type === 'failed' || msg.type === 'error') throw new Error(`native: ${JSON.stringify(msg)}`);
    else console.log('native:', JSON.stringify(msg));
  }
}

async function browserOffers(browser, origin) {
  const peer = await browser.newPeer('offerer', origin);
  const inbox = pageInbox();
  const native = startNative(['answer', '--expect', String(TOTAL), ...EXTRA]);
  let nativeReady = false;
  /** @type {any[]} */
  const early = [];
  await peer.page.exposeFunction('toNode', (msg) => {
    if (msg.type === 'candidate') {
      if (!msg.candidate) return;
      if (nativeReady) native.write(msg);
      else early.push(msg);
    } else inbox.push(msg);
  });
  await peer.goto(`${origin}/`);
  await peer.evaluate(installPageHelpers);
  const sha = await peer.evaluate((n) => /** @type {any} */ (window).spike.makeData(n), TOTAL);
  const t0 = Date.now();
  const offer = await peer.evaluate(() => /** @type {any} */ (window).spike.offer());
  native.write({ type: 'offer', sdp: offer });
  const answer = await relayNative(native, peer, (m) => m.type === 'answer');
  await peer.evaluate((sdp) => /** @type {any} */ (window).spike.accept(sdp), answer.sdp);
  nativeReady = true;
  for (const c of early.splice(0)) native.write(c);
  const relay = relayNative(native, peer, (m) => m.type === 'received');
  const open = await withTimeout(inbox.take((m) => m.type === 'dc-open'), 30_000, 'browser channel open');
  console.log(`${KIND}->native: open after ${Date.now() - t0} ms, browser sees maxMessageSize=${open.maxMessageSize}`);
  await idle();
  const sendSecs = await peer.evaluate((m) => /** @type {any} */ (window).spike.send(m), MSG);
  const report = await withTimeout(relay, 300_000, 'native received all');
  const ok = report.sha256 === sha && report.bytes === TOTAL;
  console.log(
    `${KIND}->native ${MIB} MiB in ${MSG} B msgs: ${report.mbps.toFixed(1)} MB/s (native first->last byte ${report.secs.toFixed(2)} s; browser send loop ${sendSecs.toFixed(2)} s) sha ${ok ? 'MATCH' : 'MISMATCH'} udp=${JSON.stringify(report.udp)}`,
  );
  await native.stop();
  await peer.close();
  return ok;
}

async function nativeOffers(browser, origin) {
  const peer = await browser.newPeer('answerer', origin);
  const inbox = pageInbox();
  const native = startNative(['offer', '--send', String(TOTAL), '--msg', String(MSG), '--idle', String(IDLE_MS / 1000), ...EXTRA]);
  let nativeReady = false;
  /** @type {any[]} */
  const early = [];
  await peer.page.exposeFunction('toNode', (msg) => {
    if (msg.type === 'candidate') {
      if (!msg.candidate) return;
      if (nativeReady) native.write(msg);
      else early.push(msg);
    } else inbox.push(msg);
  });
  await peer.goto(`${origin}/`);
  await peer.evaluate(installPageHelpers);
  const t0 = Date.now();
  const offer = await native.next();
  if (offer.type !== 'offer') throw new Error(`expected offer, got ${JSON.stringify(offer)}`);
  const answer = await peer.evaluate(([sdp, n]) => /** @type {any} */ (window).spike.answer(sdp, n), [offer.sdp, TOTAL]);
  native.write({ type: 'answer', sdp: answer });
  nativeReady = true;
  for (const c of early.splice(0)) native.write(c);
  const opened = await withTimeout(relayNative(native, peer, (m) => m.type === 'open'), 30_000, 'native channel open');
  const bopen = await withTimeout(inbox.take((m) => m.type === 'dc-open'), 30_000, 'browser channel open');
  console.log(
    `native->${KIND}: open after ${Date.now() - t0} ms; native maxMessageSize=${opened.maxMessageSize}; browser: label=${bopen.label} ordered=${bopen.ordered} maxMessageSize=${bopen.maxMessageSize}`,
  );
  const sent = await withTimeout(relayNative(native, peer, (m) => m.type === 'sent'), 300_000, 'native sent all');
  const report = await withTimeout(inbox.take((m) => m.type === 'received'), 300_000, 'browser received all');
  const ok = report.sha256 === sent.sha256 && report.bytes === TOTAL;
  console.log(
    `native->${KIND} ${MIB} MiB in ${MSG} B msgs: ${report.mbps.toFixed(1)} MB/s (browser first->last byte ${report.secs.toFixed(2)} s, ${report.messages} msgs; native send loop ${sent.secs.toFixed(2)} s) sha ${ok ? 'MATCH' : 'MISMATCH'} native udp=${JSON.stringify(sent.udp)}`,
  );
  await native.stop();
  await peer.close();
  return ok;
}

const server = await startServer();
const browser = await launch(KIND);
let ok = false;
try {
  const a = await browserOffers(browser, server.origin);
  const b = await nativeOffers(browser, server.origin);
  ok = a && b;
} finally {
  await browser.close();
  await server.stop();
}
console.log(ok ? 'SPIKE OK' : 'SPIKE FAILED');
process.exit(ok ? 0 : 1);
