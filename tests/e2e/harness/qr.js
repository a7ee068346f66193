/**
 * @file Reads a QR code the way a phone camera would: from a screenshot of the element (PNG),
 * decoded to RGBA pixels with `pngjs` and to text with `jsqr`. A failed decode saves the image
 * under tests/e2e/artifacts/ for inspection.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { ARTIFACTS } from './files.js';

/**
 * @param {Buffer} png
 * @param {string} [label] file name stem used when the decode fails
 * @returns {string} the decoded text
 */
export function decodeQrPng(png, label = 'qr') {
  const img = PNG.sync.read(png);
  const pixels = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const code = jsQR(pixels, img.width, img.height, { inversionAttempts: 'attemptBoth' });
  if (!code) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${label}-${Date.now()}.png`);
    writeFileSync(file, png);
    throw new Error(`no QR code found in a ${img.width}x${img.height} screenshot (saved to ${file})`);
  }
  return code.data;
}

/**
 * Screenshots `selector` in `peer` and decodes the QR code in it.
 * @param {import('./peer.js').Peer} peer
 * @param {string} [selector]
 */
export async function readQr(peer, selector = '#qr') {
  const png = await peer.screenshot(selector);
  return decodeQrPng(png, `qr-${peer.kind}`);
}
