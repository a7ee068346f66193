/**
 * @file The picture tour (docs/tour.md): drives the real app through the real server in one
 * Chromium, two pages ("Ana's laptop" A, "Ben's phone" B), through every screen a person meets,
 * and takes each at a phone (390×844) and a desktop (1280×800) viewport, light and dark, into
 * `tests/e2e/artifacts/tour/` with an `index.md` listing them. The flow: home with nothing
 * paired, a link that is not valid (the error sentence), A's QR code (cancelled), A's code typed
 * on B, the number both compare, paired with the verification code, B's offer prompt, A's
 * finished transfers, B's received files and folder, both reloaded with each other listed online,
 * and Forget's question on A. Each picture first needs its screen's key element in view, and each
 * PNG is read back (size, colour scheme, not blank; the QR code decodes from the phone picture),
 * so the tour cannot silently show the wrong screen or nothing. Every screen must be described
 * in docs/tour.md. With `PAIRWISE_TOUR_DOCS=1` the phone pictures of the screens docs/tour.md
 * shows are also copied to docs/tour/ (each must stay under 60 KB).
 */

import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { T, chooseFiles, showPairingCode, waitError, waitOfferFrom, waitPaired, waitReceived } from './harness/app.js';
import { launchChromium, launchAll } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { answerNumbers, readNumbers, showCode, typeCode } from './harness/code.js';
import { setOwnName, waitOneOnline } from './harness/devices.js';
import { ARTIFACTS, makeFiles, writeRandomFile } from './harness/files.js';
import { decodeQrPng } from './harness/qr.js';
import { shootScreen } from './harness/screens.js';
import { ROOT, startServer } from './harness/server.js';

/** Where the pictures go (git-ignored: CI makes them on every run). */
const DIR = join(ARTIFACTS, 'tour');
/** The few phone pictures docs/tour.md shows from the repository (see the file header). */
const DOCS_DIR = join(ROOT, 'docs', 'tour');
const DOCS_SCREENS = ['05-compare', '07-offer', '09-received', '10-devices'];
const DOCS_MAX_BYTES = 60 * 1024;

/** Every screen of the tour, in the order a person meets them (index.md's titles). */
const SCREENS = {
  '01-home': 'Home, nothing paired yet',
  '02-error': 'An error sentence (a pairing link that is not valid)',
  '03-qr': 'Pair a device: the QR code',
  '04-code': 'Pair with a code (no camera)',
  '05-compare': 'Compare the number on both screens',
  '06-paired': 'Paired, with the verification code',
  '07-offer': 'An incoming offer',
  '08-transfers': 'Transfers done (the sender)',
  '09-received': 'Received files and a folder',
  '10-devices': 'Home with a remembered device online',
  '11-forget': "Forget's question",
};

describe('picture tour', { timeout: 300_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/peer.js').Peer} */ let a;
  /** @type {import('./harness/peer.js').Peer} */ let b;
  /** @type {ReturnType<typeof makeFiles>} */ let files;
  /** @type {Map<string, string[]>} screen stem → its pictures */
  const shot = new Map();

  /** @param {import('./harness/peer.js').Peer} peer @param {keyof typeof SCREENS} stem @param {string} key @param {(png: Buffer) => void} [check] */
  const take = async (peer, stem, key, check) => shot.set(stem, await shootScreen(peer, DIR, stem, key, check));

  before(async () => {
    // A stale picture from an earlier run must not pass for one of this run.
    rmSync(DIR, { recursive: true, force: true });
    mkdirSync(DIR, { recursive: true });
    files = cleanup.track(
      makeFiles([
        { name: 'Quarterly report.pdf', size: 180 * 1024 + 11 },
        { name: 'notes.txt', size: 2 * 1024 + 3 },
      ]),
      (f) => f.remove(),
    );
    for (const [sub, name, size] of /** @type {const} */ ([['Holiday/day 1', 'beach.jpg', 96 * 1024], ['Holiday/day 2', 'harbour.jpg', 80 * 1024], ['Holiday', 'route.gpx', 5 * 1024]])) {
      mkdirSync(join(files.dir, sub), { recursive: true });
      writeRandomFile(join(files.dir, sub), name, size);
    }
    server = cleanup.track(await startServer(), (s) => s.stop());
    const [chromium] = await launchAll(cleanup, launchChromium);
    a = await chromium.newPeer('A', server.origin);
    b = await chromium.newPeer('B', server.origin);
  });

  after(() => cleanup.run());

  it('home, an error sentence, the QR code and the code screen', async () => {
    await Promise.all([a.goto(`${server.origin}/`), b.goto(`${server.origin}/`)]);
    await Promise.all([setOwnName(a, "Ana's laptop"), setOwnName(b, "Ben's phone")]);
    await a.waitVisible('#devices-empty');
    await take(a, '01-home', '#pair-button');

    await b.goto(`${server.origin}/#pair=not-a-pairing-link`);
    await waitError(b, 'bad-link');
    await take(b, '02-error', '#error');

    const link = await showPairingCode(a);
    assert.ok(link.startsWith(`${server.origin}/#pair=`));
    // The picture must show a code a phone can scan, not just a canvas.
    await take(a, '03-qr', '#qr', (png) => assert.equal(decodeQrPng(png, 'tour-qr'), link, 'the QR code in the picture encodes the link'));
    await a.click('#cancel-pairing');
    await a.waitVisible('#home');

    await b.goto(`${server.origin}/`);
    const code = await showCode(a);
    await take(a, '04-code', '#pair-code');
    await typeCode(b, code);
  });

  it('the number both compare, then paired with the verification code', async () => {
    const [na, nb] = await Promise.all([readNumbers(a, [b]), readNumbers(b, [a])]);
    assert.equal(na, nb, 'both screens show the same number');
    await take(b, '05-compare', '#compare-number');
    await Promise.all([answerNumbers(a, true), answerNumbers(b, true)]);
    const [sasA, sasB] = await Promise.all([waitPaired(a, [b]), waitPaired(b, [a])]);
    assert.equal(sasA, sasB);
    await take(a, '06-paired', '#sas');
  });

  it('an offer, the finished transfers and the received files and folder', async () => {
    const loose = files.files;
    await chooseFiles(a, loose.map((f) => f.path));
    await waitOfferFrom(b, "Ana's laptop", [a]);
    await take(b, '07-offer', '#accept-button');
    await b.click('#accept-button');
    await waitReceived(b, loose.map((f) => f.name), [a]);

    await a.page.setInputFiles('#folder-input', join(files.dir, 'Holiday'));
    await waitOfferFrom(b, "Ana's laptop", [a]);
    await b.click('#accept-button');
    await b.waitUntil('#received li.folder[data-state=complete]', () => !!document.querySelector('#received li.folder[data-state=complete]'), undefined, {
      timeout: T.transfer,
      also: [a],
    });
    await a.waitUntil(
      "both of A's transfer rows done",
      () => [...document.querySelectorAll('#transfers li.transfer[data-direction=send]')].filter((li) => li.getAttribute('data-state') === 'done').length === 2,
      undefined,
      { timeout: T.transfer, also: [b] },
    );
    await take(a, '08-transfers', '#transfers li.transfer[data-state=done]');
    await take(b, '09-received', '#received li.folder');
  });

  it('after a reload both list the other online; Forget asks first', async () => {
    // B has received files never saved, so its reload asks first; the harness answers "leave".
    await Promise.all([a.goto(`${server.origin}/`), b.goto(`${server.origin}/`)]);
    await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
    await take(a, '10-devices', '#devices li.device[data-presence=online]');
    await a.click('#devices li.device .device-forget');
    await take(a, '11-forget', '#devices li.device .device-forget-ask');
    // "Keep": the question goes and the device stays.
    await a.click('#devices li.device .device-forget-no');
    await waitOneOnline(a, [b]);
  });

  it('every screen has its four pictures, index.md lists them and docs/tour.md describes them', () => {
    assert.deepEqual([...shot.keys()].sort(), Object.keys(SCREENS), 'every screen was taken');
    const rows = Object.entries(SCREENS).map(([stem, title]) => {
      const pics = /** @type {string[]} */ (shot.get(stem));
      assert.equal(pics.length, 4, `${stem}: phone and desktop, light and dark`);
      return `| ${title} | ${pics.map((p) => `[${p.slice(stem.length + 1, -4)}](${p})`).join(' · ')} |`;
    });
    writeFileSync(
      join(DIR, 'index.md'),
      `# Pairwise picture tour\n\nMade by \`tests/e2e/tour.test.js\` on ${new Date().toISOString()}; see docs/tour.md.\n\n` +
        `| screen | pictures |\n| --- | --- |\n${rows.join('\n')}\n\n` +
        Object.keys(SCREENS)
          .map((stem) => `## ${SCREENS[/** @type {keyof typeof SCREENS} */ (stem)]}\n\n![${stem} phone light](${stem}-phone-light.png) ![${stem} phone dark](${stem}-phone-dark.png)\n`)
          .join('\n'),
    );
    const doc = readFileSync(join(ROOT, 'docs', 'tour.md'), 'utf8');
    for (const stem of Object.keys(SCREENS)) assert.ok(doc.includes(`${stem}-`), `docs/tour.md describes ${stem}`);
    if (process.env.PAIRWISE_TOUR_DOCS === '1') {
      mkdirSync(DOCS_DIR, { recursive: true });
      for (const stem of DOCS_SCREENS) {
        for (const scheme of ['light', 'dark']) {
          const name = `${stem}-phone-${scheme}.png`;
          const size = statSync(join(DIR, name)).size;
          assert.ok(size < DOCS_MAX_BYTES, `${name} is ${size} bytes: too big to commit to docs/tour/`);
          copyFileSync(join(DIR, name), join(DOCS_DIR, name));
        }
      }
    }
  });
});
