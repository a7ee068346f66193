/**
 * @file Draws the app icons once (they are committed): `web/icons/icon-192.png` and
 * `icon-512.png` for the web app manifest and home screens, and `icon.svg` for tabs. Two white
 * discs joined by a bar (two devices, one direct link) on the app's blue. The background fills
 * the square and the picture stays inside the central circle of 40% radius, so the same PNGs
 * serve as "maskable" icons. Anti-aliased by 4x4 supersampling; pngjs is a dev dependency.
 *
 *   node scripts/make-icons.js
 */

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'icons');
const BLUE = [0x1f, 0x5f, 0xbf];
const WHITE = [0xff, 0xff, 0xff];
/** Shapes in units of the icon's side. */
const DISCS = [
  { x: 0.32, y: 0.5, r: 0.12 },
  { x: 0.68, y: 0.5, r: 0.12 },
];
const BAR = { x0: 0.32, x1: 0.68, y: 0.5, half: 0.035 };

/** @param {number} x @param {number} y */
function white(x, y) {
  if (DISCS.some((d) => (x - d.x) ** 2 + (y - d.y) ** 2 <= d.r ** 2)) return true;
  return x >= BAR.x0 && x <= BAR.x1 && Math.abs(y - BAR.y) <= BAR.half;
}

/** @param {number} size */
function png(size) {
  const img = new PNG({ width: size, height: size });
  const S = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          if (white((px + (sx + 0.5) / S) / size, (py + (sy + 0.5) / S) / size)) hits++;
        }
      }
      const a = hits / (S * S);
      const i = (py * size + px) * 4;
      for (let c = 0; c < 3; c++) img.data[i + c] = Math.round(BLUE[c] * (1 - a) + WHITE[c] * a);
      img.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(img, { colorType: 2 });
}

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" rx="18" fill="#1f5fbf"/>
<g fill="#fff"><circle cx="32" cy="50" r="12"/><circle cx="68" cy="50" r="12"/><rect x="32" y="46.5" width="36" height="7"/></g>
</svg>
`;

for (const size of [192, 512]) writeFileSync(join(OUT, `icon-${size}.png`), png(size));
writeFileSync(join(OUT, 'icon.svg'), svg);
