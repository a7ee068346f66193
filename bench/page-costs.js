/**
 * @file What each step of a browser transfer costs on its own (issue 5: where the CPU of
 * Pairwise Chromium → Chromium goes): one Chromium page runs each operation over `--mib` MiB
 * the way the app does it (256 KiB records, the app's own modules where they exist) and this
 * prints the wall time and the CPU-seconds of the renderer by thread, and of the other
 * Chromium processes, read from /proc (only processes this run started). CPU-seconds are work,
 * not time: they compare even on a shared machine.
 *
 *   PAIRWISE_BIN=... tests/e2e/netns.sh node bench/page-costs.js [--mib 256] [--only encrypt,decrypt]
 */

import { parseArgs } from 'node:util';
import { launchChromiumProfile } from '../tests/e2e/harness/browsers.js';
import { makeFiles, MiB } from '../tests/e2e/harness/files.js';
import { startServer } from '../tests/e2e/harness/server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSnapshot, cpuDiff, printCpu } from './proc-cpu.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, only: { type: 'string', default: '' } } });
const SIZE = Number(values.mib) * MiB;

/** Runs in the page: one named operation over `size` bytes. @param {{ op: string, size: number }} a */
async function inPage({ op, size }) {
  const REC = 256 * 1024;
  const n = Math.ceil(size / REC);
  const { sealFramed, openRecord } = await import('/lib/proto/record.js');
  const { ResumeChain } = await import('/lib/proto/resume.js');
  const w = /** @type {any} */ (window);
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const plain = new Uint8Array(REC - 17);
  crypto.getRandomValues(plain.subarray(0, 65536));
  plain[0] = 0;
  const t0 = performance.now();
  switch (op) {
    case 'alloc-256k': {
      // A fresh 256 KiB buffer per record, touched once (what decrypt output costs the GC).
      let x = 0;
      for (let i = 0; i < n; i++) {
        const b = new Uint8Array(REC);
        b[i % REC] = 1;
        x += b[0];
      }
      w.sink = x;
      break;
    }
    case 'encrypt-seq': {
      for (let i = 0; i < n; i++) await sealFramed(key, i, plain);
      break;
    }
    case 'encrypt-4': {
      /** @type {Promise<unknown>[]} */
      const q = [];
      for (let i = 0; i < n; i++) {
        q.push(sealFramed(key, i, plain));
        if (q.length >= 4) await q.shift();
      }
      await Promise.all(q);
      break;
    }
    case 'decrypt-seq': {
      const recs = [];
      for (let i = 0; i < 8; i++) recs.push(await sealFramed(key, i, plain));
      const tOpen = performance.now();
      for (let i = 0; i < n; i++) await openRecord(key, i % 8, recs[i % 8]);
      return performance.now() - tOpen;
    }
    case 'sha-chain': {
      const chain = await ResumeChain.start(new Uint8Array(16), 0);
      for (let i = 0; i < n; i++) await chain.update(plain);
      await chain.finish();
      break;
    }
    case 'blob-read-1m':
    case 'blob-read-4m':
    case 'blob-read-16m': {
      // The sender's reads: File.slice(...).arrayBuffer() per block, the next one ahead.
      const input = /** @type {HTMLInputElement} */ (document.querySelector('#bench-file'));
      const file = /** @type {File} */ (input.files?.[0]);
      const B = Number(/\d+/.exec(op)?.[0]) * 1024 * 1024;
      let next = file.slice(0, B).arrayBuffer();
      for (let at = 0; at < file.size; at += B) {
        const buf = await next;
        if (at + B < file.size) next = file.slice(at + B, Math.min(at + 2 * B, file.size)).arrayBuffer();
        w.sink = buf.byteLength;
      }
      break;
    }
    case 'blob-stream': {
      // The same bytes through File.stream() (chunks as the browser sends them).
      const input = /** @type {HTMLInputElement} */ (document.querySelector('#bench-file'));
      const file = /** @type {File} */ (input.files?.[0]);
      const reader = file.stream().getReader();
      let chunks = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks++;
        w.sink = value.byteLength;
      }
      w.chunks = chunks;
      break;
    }
    case 'worker-hop': {
      // One 256 KiB buffer moved to a worker and back per record (the OPFS sink's round trip).
      const src = 'onmessage = (e) => postMessage(e.data, [e.data.buf]);';
      const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
      for (let i = 0; i < n; i++) {
        const buf = new ArrayBuffer(REC);
        await new Promise((resolve) => {
          worker.onmessage = resolve;
          worker.postMessage({ buf }, [buf]);
        });
      }
      worker.terminate();
      break;
    }
    default:
      throw new Error(`unknown op ${op}`);
  }
  return performance.now() - t0;

}

const OPS = ['alloc-256k', 'encrypt-seq', 'encrypt-4', 'decrypt-seq', 'sha-chain', 'blob-read-1m', 'blob-read-4m', 'blob-read-16m', 'blob-stream', 'worker-hop'];
const ops = values.only ? values.only.split(',') : OPS;
const files = makeFiles([{ name: 'bench.bin', size: SIZE }]);
const server = await startServer();
const dir = mkdtempSync(join(tmpdir(), 'pairwise-costs-'));
const browser = await launchChromiumProfile(dir, server.origin);
try {
  const page = await browser.page('P');
  await page.goto(`${server.origin}/healthz`);
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'bench-file';
    document.body.append(input);
  });
  await page.page.setInputFiles('#bench-file', files.files[0].path);
  // Warm up WebCrypto and the modules.
  await page.evaluate(inPage, { op: 'encrypt-seq', size: 4 * MiB });
  for (const op of ops) {
    const before = cpuSnapshot();
    const ms = await page.evaluate(inPage, { op, size: SIZE });
    printCpu(`${op}: ${values.mib} MiB in ${(ms / 1000).toFixed(2)} s`, cpuDiff(before, cpuSnapshot()));
  }
} finally {
  await browser.close();
  await server.stop();
  files.remove();
  rmSync(dir, { recursive: true, force: true });
}
