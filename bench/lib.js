/**
 * @file Pieces the benchmarks share: the raw RTCDataChannel ceiling between two Chromium pages,
 * a plain loopback TCP file copy (the physical reference), a process's peak RSS, and pinning a
 * browser to one CPU.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { descendants } from '../tests/e2e/harness/memory.js';

/**
 * Raw data channel between two Chromium pages (of one browser or two), SDP relayed by this
 * process.
 * @param {import('../tests/e2e/harness/peer.js').Peer} a
 * @param {import('../tests/e2e/harness/peer.js').Peer} b
 * @param {number} SIZE bytes to send
 * @param {{ encrypt?: boolean, ahead?: number, acks?: number, iceServers?: RTCIceServer[], pace?: number }} [variant]
 *   experiments around the ceiling: the sender seals each message with AES-GCM first (`encrypt`;
 *   `ahead`: that many sealed in advance instead of one at a time), the receiver sends 9 bytes back
 *   every `acks` bytes (like Pairwise's `progress`); `iceServers` for both connections (default
 *   none: host candidates only, enough on one machine; behind the NAT lab's NATs a STUN server);
 *   `pace` (bytes/s): the sender hands messages out no faster (an experiment: what pacing alone
 *   does for a browser's SCTP on a real link)
 * @returns {Promise<number>} MB/s
 */
export async function rawCeiling(a, b, SIZE, variant = {}) {
  const iceServers = variant.iceServers ?? [];
  const offer = await a.evaluate(async (iceServers) => {
    const pc = new RTCPeerConnection({ iceServers });
    const dc = pc.createDataChannel('raw', { ordered: true });
    dc.binaryType = 'arraybuffer';
    /** @type {any} */ (window).raw = { pc, dc };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => (pc.iceGatheringState === 'complete' ? r(0) : pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r(0))));
    return pc.localDescription?.sdp;
  }, iceServers);
  const answer = await b.evaluate(async ({ sdp, size, acks, iceServers }) => {
    const pc = new RTCPeerConnection({ iceServers });
    const w = /** @type {any} */ (window);
    w.rawDone = new Promise((resolve) => {
      pc.addEventListener('datachannel', (ev) => {
        let got = 0;
        let acked = 0;
        const dc = ev.channel;
        dc.binaryType = 'arraybuffer';
        dc.addEventListener('message', (m) => {
          got += m.data.byteLength;
          if (acks && got - acked >= acks) {
            acked = got;
            dc.send(new Uint8Array(9));
          }
          if (got >= size) resolve(got);
        });
      });
    });
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((r) => (pc.iceGatheringState === 'complete' ? r(0) : pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r(0))));
    w.rawPc = pc;
    return pc.localDescription?.sdp;
  }, { sdp: offer, size: SIZE, acks: variant.acks ?? 0, iceServers });
  await a.evaluate(async (sdp) => {
    const { pc, dc } = /** @type {any} */ (window).raw;
    await pc.setRemoteDescription({ type: 'answer', sdp });
    if (dc.readyState !== 'open') await new Promise((r) => dc.addEventListener('open', r, { once: true }));
  }, answer);
  const done = b.evaluate(() => /** @type {any} */ (window).rawDone);
  const t0 = performance.now();
  await a.evaluate(async ({ size, encrypt, ahead, pace }) => {
    const { dc } = /** @type {any} */ (window).raw;
    const start = performance.now();
    const msg = new Uint8Array(256 * 1024);
    crypto.getRandomValues(msg.subarray(0, 65536));
    dc.bufferedAmountLowThreshold = 1024 * 1024;
    const key = encrypt ? await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']) : null;
    const iv = new Uint8Array(12);
    const plain = msg.subarray(0, msg.length - 16);
    /** @type {Promise<ArrayBuffer>[]} */
    const sealed = [];
    const seal = () => crypto.subtle.encrypt({ name: 'AES-GCM', iv }, /** @type {CryptoKey} */ (key), plain);
    for (let sent = 0; sent < size; sent += msg.length) {
      if (dc.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => dc.addEventListener('bufferedamountlow', r, { once: true }));
      const due = start + (sent / pace) * 1000 - performance.now();
      if (pace && due > 2) await new Promise((r) => setTimeout(r, due));
      if (!key) dc.send(msg);
      else if (ahead === 0) dc.send(await seal());
      else {
        while (sealed.length < ahead) sealed.push(seal());
        dc.send(await /** @type {Promise<ArrayBuffer>} */ (sealed.shift()));
      }
    }
  }, { size: SIZE, encrypt: !!variant.encrypt, ahead: variant.ahead ?? 0, pace: variant.pace ?? 0 });
  assert.ok((await done) >= SIZE);
  const ms = performance.now() - t0;
  await a.evaluate(() => /** @type {any} */ (window).raw.pc.close());
  await b.evaluate(() => /** @type {any} */ (window).rawPc.close());
  return SIZE / 1e6 / (ms / 1000);
}

/** Peak RSS in MiB of `pid`, sampled until it exits (VmHWM is the high-water mark). */
export function watchPeak(/** @type {number} */ pid) {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      clearInterval(timer);
    }
  }, 50);
  return () => (clearInterval(timer), peak);
}

/** Reference: file -> 127.0.0.1 TCP -> file. */
export async function tcpCopy(/** @type {string} */ src, /** @type {string} */ dst) {
  const server = createServer();
  const done = new Promise((resolve, reject) => server.once('connection', (s) => pipeline(s, createWriteStream(dst)).then(resolve, reject)));
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(0)));
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const t0 = performance.now();
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), connect(port, '127.0.0.1'));
  await done;
  const ms = performance.now() - t0;
  server.close();
  return ms;
}


/**
 * Pins a process and its descendants, every thread, to one CPU (`taskset`); processes they
 * fork later (a Chromium zygote's new renderers) inherit it. Models two single-core devices on
 * one machine: each side's work competes only with itself.
 * @param {number} pid
 * @param {number} cpu
 */
export function pinTree(pid, cpu) {
  for (const p of [pid, ...descendants(pid)]) {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(p)], { stdio: 'ignore' });
  }
}
