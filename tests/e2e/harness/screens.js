/**
 * @file Pictures of whole screens for the picture tour (`tests/e2e/tour.test.js`, docs/tour.md):
 * one screen taken at a phone and a desktop viewport, each in the light and the dark colour
 * scheme, after checking that the screen's key element is on it. Every PNG is read back and must
 * be a real image of the viewport's size in the asked-for scheme, so a blank or wrongly sized
 * picture fails the test instead of reaching the docs. Chromium only (playwright's
 * `setViewportSize` and `emulateMedia`); it does not decide what is on a screen, the test does.
 */

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';

/** @typedef {import('./peer.js').Peer} Peer */

/** The viewports of the tour: a common phone (CSS pixels at scale 1) and a laptop window. */
export const VIEWPORTS = /** @type {const} */ ([
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
]);

export const SCHEMES = /** @type {const} */ (['light', 'dark']);

/**
 * Width and height from a PNG's IHDR chunk (the first chunk, right after the signature).
 * @param {Buffer} png
 * @returns {{ width: number, height: number }}
 */
export function pngSize(png) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(png.length > 24 && png.subarray(0, 8).equals(signature), 'not a PNG (signature)');
  assert.equal(png.toString('latin1', 12, 16), 'IHDR', 'not a PNG (no IHDR first)');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Takes `screen` on `peer` in every viewport and scheme and writes
 * `DIR/STEM-VIEWPORT-SCHEME.png`; returns the file names in that order.
 * @param {Peer} peer a Chromium page showing the screen
 * @param {string} dir
 * @param {string} stem e.g. `04-compare`
 * @param {string} key selector of the element this screen is about; it must be in view
 * @param {(png: Buffer) => void} [check] a further check of each picture (e.g. a QR code in it)
 * @returns {Promise<string[]>}
 */
export async function shootScreen(peer, dir, stem, key, check = () => {}) {
  assert.equal(peer.kind, 'chromium', 'viewports and colour schemes are set through playwright');
  const page = /** @type {import('playwright-core').Page} */ (peer.page);
  await peer.waitVisible(key);
  const names = [];
  for (const vp of VIEWPORTS) {
    await page.setViewportSize({ width: vp.width, height: vp.height });
    // From the top, as a person arrives; scrolled only if the key element is below the fold.
    await page.evaluate(() => scrollTo(0, 0));
    await page.locator(key).first().scrollIntoViewIfNeeded();
    for (const scheme of SCHEMES) {
      await page.emulateMedia({ colorScheme: scheme });
      const seen = await page.evaluate((s) => {
        const e = [...document.querySelectorAll(s)].find((x) => x.getClientRects().length > 0);
        const r = e?.getBoundingClientRect();
        return {
          inView: !!r && r.width > 0 && r.bottom > 0 && r.top < innerHeight,
          width: innerWidth,
          dark: matchMedia('(prefers-color-scheme: dark)').matches,
        };
      }, key);
      assert.ok(seen.inView, `${stem}: ${key} is in view at ${vp.name} ${scheme}`);
      assert.equal(seen.width, vp.width, `${stem}: the page is laid out ${vp.width} px wide`);
      assert.equal(seen.dark, scheme === 'dark', `${stem}: the page sees prefers-color-scheme: ${scheme}`);
      const png = await page.screenshot({ timeout: 30_000 });
      assertPicture(png, vp, scheme, `${stem} ${vp.name} ${scheme}`);
      check(png);
      const name = `${stem}-${vp.name}-${scheme}.png`;
      writeFileSync(join(dir, name), png);
      names.push(name);
    }
  }
  return names;
}

/**
 * A picture of the whole viewport, not blank, whose page background is light or dark as asked.
 * @param {Buffer} png
 * @param {{ width: number, height: number }} vp
 * @param {'light' | 'dark'} scheme
 * @param {string} what
 */
function assertPicture(png, vp, scheme, what) {
  assert.deepEqual(pngSize(png), { width: vp.width, height: vp.height }, `${what}: the PNG has the viewport's size`);
  const img = PNG.sync.read(png);
  // The top left corner is page background (the body has a margin); its luminance says the scheme.
  const [r, g, b] = img.data.subarray(0, 3);
  const luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  assert.ok(scheme === 'dark' ? luma < 80 : luma > 175, `${what}: background rgb(${r}, ${g}, ${b}) is not ${scheme}`);
  // Text and buttons: a screen of one or two colours is blank, whatever the app meant to show.
  const colours = new Set();
  for (let i = 0; i < img.data.length && colours.size < 16; i += 4 * 97) colours.add(img.data.readUInt32BE(i));
  assert.ok(colours.size >= 16, `${what}: the picture is nearly blank (${colours.size} colours sampled)`);
}
