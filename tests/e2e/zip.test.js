/**
 * @file A received folder handed over as one zip: the real `pairwise` binary sends a folder of
 * about 200 files in nested folders (an empty file, a 3 MiB one, a UTF-8 name) to Chromium, which
 * receives it into OPFS; the folder is listed as one entry (its per-file links still there), a
 * click on "Download folder (.zip)" writes the zip and starts a real download, and the saved
 * zip, tested and extracted by CPython's `zipfile` and tested by `unzip -t`, holds exactly the
 * sent tree with equal SHA-256 for every file. "Save folder to…" needs a directory picker,
 * which a headless browser cannot answer: `web/test/save-folder.test.js` covers it.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { T, waitPaired, waitTransfer } from './harness/app.js';
import { launchChromium } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { runCli } from './harness/cli.js';
import { startServer } from './harness/server.js';

const FOLDER = 'Fotos Zoë 2026';

describe('a received folder as one zip download', { timeout: 600_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let chromium;

  /** @param {string} prefix */
  const tempDir = (prefix) => cleanup.track(mkdtempSync(join(tmpdir(), prefix)), (d) => rmSync(d, { recursive: true, force: true }));

  before(async () => {
    server = cleanup.track(await startServer(), (s) => s.stop());
    chromium = cleanup.track(await launchChromium(), (b) => b.close());
  });

  after(() => cleanup.run());

  /**
   * The folder to send: 200 small random files in nested folders plus three special ones.
   * @returns {{ root: string, want: Map<string, string> }} its path; "/"-path -> SHA-256
   */
  const makeTree = () => {
    const root = join(tempDir('zip-src-'), FOLDER);
    /** @type {Map<string, string>} */
    const want = new Map();
    /** @param {string} rel @param {Uint8Array} bytes */
    const put = (rel, bytes) => {
      mkdirSync(join(root, dirname(rel)), { recursive: true });
      writeFileSync(join(root, rel), bytes);
      want.set(`${FOLDER}/${rel}`, createHash('sha256').update(bytes).digest('hex'));
    };
    for (let i = 0; i < 200; i++) put(`day-${i % 10}/part-${i % 4}/photo-${String(i).padStart(3, '0')}.jpg`, randomBytes((i * 137) % 20_000));
    put('empty.txt', new Uint8Array(0));
    put('video/clip.mp4', randomBytes(3 * 1024 * 1024 + 1));
    put('notes/日本 🎉.txt', new TextEncoder().encode('こんにちは\n'));
    return { root, want };
  };

  it('the CLI sends a folder of 203 files to Chromium; its zip download holds the tree byte for byte, and after a reload it is one entry again', { timeout: 480_000 }, async () => {
    const { root, want } = makeTree();
    const run = cleanup.track(runCli(['send', '--server', server.origin, root]), (r) => r.kill());
    const b = await chromium.newPeer('B (chromium)', server.origin);
    await b.goto(await run.link());
    await waitPaired(b, [run]);
    await b.waitVisible('#incoming', { timeout: T.ui, also: [run] });
    await b.click('#accept-button');
    await waitTransfer(b, 'receive', 'done', [run]);
    const { code, signal } = await run.exited;
    assert.equal(code, 0, `pairwise exited with ${code ?? signal}.\nstderr:\n${run.stderr()}`);

    const folder = `#received li.folder[data-folder=${JSON.stringify(FOLDER)}]`;
    assert.equal(await b.count('#received li.folder'), 1, 'one entry for the folder');
    assert.equal(await b.count(`${folder} a.download[data-path]`), want.size, 'the per-file links stay, inside the folder entry');
    const zipLink = `a.folder-zip[data-folder=${JSON.stringify(FOLDER)}]`;
    await b.waitAttr(zipLink, 'data-state', 'idle', { timeout: T.ui });

    const dir = tempDir('zip-dl-');
    const [download] = await Promise.all([b.page.waitForEvent('download', { timeout: T.transfer }), b.click(zipLink)]);
    assert.equal(await download.failure(), null, 'the download completes');
    assert.equal(download.suggestedFilename(), `${FOLDER}.zip`);
    const saved = join(dir, 'folder.zip');
    await download.saveAs(saved);
    assert.equal(await b.attr(zipLink, 'data-state'), 'ready');
    assert.match((await b.attr(zipLink, 'href')) ?? '', /^blob:/);

    // The zip lives in OPFS next to the received files (cleared with them at the next start).
    const zipsInOpfs = await b.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('incoming');
      /** @type {string[]} */
      const names = [];
      for await (const name of /** @type {any} */ (dir).keys()) if (name.startsWith('zip-')) names.push(name);
      return names.length;
    });
    assert.equal(zipsInOpfs, 1, 'one zip written into OPFS incoming/');

    // Independent readers: unzip tests every CRC; CPython tests and extracts.
    assert.match(execFileSync('unzip', ['-t', saved], { encoding: 'utf8' }), /No errors detected/);
    const out = join(dir, 'out');
    execFileSync('python3', ['-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nz.extractall(sys.argv[2])', saved, out]);
    const got = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(out, join(e.parentPath ?? e.path, e.name)).split(sep).join('/'));
    assert.deepEqual(got.sort(), [...want.keys()].sort(), 'the extracted tree');
    for (const [rel, sha] of want) {
      assert.equal(createHash('sha256').update(readFileSync(join(out, ...rel.split('/')))).digest('hex'), sha, rel);
    }
    // After a reload the kept folder is one entry again (it came back as 203 loose links),
    // complete, with its zip to write.
    await b.page.reload();
    await b.waitUntil('the folder listed again', (sel) => !!document.querySelector(sel), folder, { timeout: T.ui });
    assert.equal(await b.count('#received li.folder'), 1, 'one entry for the folder after a reload');
    assert.equal(await b.count(`${folder} a.download[data-path]`), want.size, 'its files inside it');
    assert.equal(await b.count('#received > li:not(.folder)'), 0, 'no loose file');
    await b.waitAttr(zipLink, 'data-state', 'idle', { timeout: T.ui });
    await b.close();
  });
});
