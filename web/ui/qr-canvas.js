/**
 * @file Draws an encoded QR symbol (from `lib/formats/qr.js`) onto a canvas: dark modules on white with a
 * quiet zone, whole device pixels per module so edges stay crisp when scanned off a screen.
 */

/**
 * Sizes `canvas` to the symbol plus quiet zone and draws it.
 * The canvas gets `width = height = (size + 2 * margin) * scale` pixels; CSS may scale it further
 * (use `image-rendering: pixelated` to keep it sharp).
 * @param {HTMLCanvasElement} canvas
 * @param {{size: number, modules: Uint8Array}} qr row-major modules, 1 = dark
 * @param {{scale?: number, margin?: number}} [opts] pixels per module (default 6), quiet zone in
 *   modules (default 4, the standard's minimum)
 */
export function drawQr(canvas, qr, opts = {}) {
  const scale = Math.max(1, Math.floor(opts.scale ?? 6));
  const margin = Math.max(0, Math.floor(opts.margin ?? 4));
  const side = (qr.size + 2 * margin) * scale;
  canvas.width = side;
  canvas.height = side;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('canvas 2d context unavailable');
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, side, side);
  ctx.fillStyle = '#000000';
  for (let r = 0; r < qr.size; r += 1) {
    // One rectangle per horizontal run of dark modules: fewer calls, no seams between modules.
    let c = 0;
    while (c < qr.size) {
      if (!qr.modules[r * qr.size + c]) {
        c += 1;
        continue;
      }
      const start = c;
      while (c < qr.size && qr.modules[r * qr.size + c]) c += 1;
      ctx.fillRect((start + margin) * scale, (r + margin) * scale, (c - start) * scale, scale);
    }
  }
}
