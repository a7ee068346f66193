/**
 * @file Resume (`docs/protocol.md` §11.3) between two Chromium processes with persistent
 * profiles, through the real server. A 256 MiB random file goes from A to B:
 * 1. at about half, A's browser is closed entirely: B's row shows what it kept and that the
 *    transfer continues when A is back, with no download link; B's tab reloads and lists the
 *    kept transfer (file, device, bytes kept); A is relaunched on its profile, both reconnect
 *    with no QR code, A chooses the same file for B, the transfer continues and the kept row goes;
 * 2. at about half, B's tab reloads while A stays open: A offers the file again by itself once B
 *    is back, and B continues from what it kept across the reload;
 * 3. the file A chooses again differs in its first half: the proof fails and the file is sent
 *    from 0; B ends with the new bytes;
 * 4. B discards a kept transfer: its row and its bytes in OPFS go, and the same file offered
 *    again is a new transfer (B is asked, everything is sent).
 * Each time the real download's SHA-256 is checked, and the bytes sent again are measured from
 * the rows' `data-chunk-bytes` (file bytes that went over the link in each session): resending
 * must stay under 10 % of the file.
 */

import assert from 'node:assert/strict';
import { closeSync, openSync, utimesSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { T, acceptOffer, downloadAndHash, pair, waitReceived } from './harness/app.js';
import { profileDevice } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { entry, setOwnName, waitOneOnline } from './harness/devices.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { startServer } from './harness/server.js';

/** @typedef {import('./harness/peer.js').Peer} Peer */

const SIZE = 256 * MiB;

/**
 * Opens the device's browser on the app.
 * @param {ReturnType<typeof profileDevice>} dev
 * @param {string} origin
 */
async function openApp(dev, origin) {
  const page = await dev.open();
  await page.goto(`${origin}/`);
  return page;
}

/**
 * The transfer rows of one direction, newest first: state, text and chunk bytes.
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 */
function rows(peer, direction) {
  return peer.evaluate(
    (d) =>
      [...document.querySelectorAll(`#transfers li.transfer[data-direction=${d}]`)].map((li) => ({
        state: li.getAttribute('data-state') ?? '',
        text: li.textContent ?? '',
        chunkBytes: Number(li.getAttribute('data-chunk-bytes')),
        resumed: li.getAttribute('data-resumed'),
      })),
    direction,
  );
}

/**
 * Waits until the newest row of `direction` moved at least `bytes` file bytes.
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @param {number} bytes
 * @param {Peer[]} also
 */
function waitChunkBytes(peer, direction, bytes, also) {
  return peer.waitUntil(
    `newest ${direction} row past ${bytes} bytes`,
    ({ d, n }) => Number(document.querySelector(`#transfers li.transfer[data-direction=${d}]`)?.getAttribute('data-chunk-bytes') ?? 0) >= n,
    { d: direction, n: bytes },
    { timeout: T.transfer, interval: 100, also },
  );
}

/**
 * Waits until the newest row of `direction` reaches `state`.
 * @param {Peer} peer
 * @param {'send' | 'receive'} direction
 * @param {string} state
 * @param {Peer[]} also
 */
function waitNewest(peer, direction, state, also) {
  return peer.waitUntil(
    `newest ${direction} row data-state=${state}`,
    ({ d, s }) => document.querySelector(`#transfers li.transfer[data-direction=${d}]`)?.getAttribute('data-state') === s,
    { d: direction, s: state },
    {
      timeout: T.transfer,
      interval: 250,
      also,
      probe: ({ d }) => document.querySelector(`#transfers li.transfer[data-direction=${d}]`)?.getAttribute('data-state'),
      failIf: (/** @type {any} */ got) => (['error', 'cancelled', 'declined'].includes(got) ? `the row reached data-state=${got}` : null),
    },
  );
}

/** @param {number} n */
const mb = (n) => `${(n / MiB).toFixed(1)} MiB`;

/**
 * Bytes in the page's Origin Private File System, every file in every folder.
 * @param {Peer} peer
 * @returns {Promise<number>}
 */
function opfsBytes(peer) {
  return peer.evaluate(async () => {
    /** @param {FileSystemDirectoryHandle} dir @returns {Promise<number>} */
    const sum = async (dir) => {
      let n = 0;
      // @ts-ignore: async iteration of a directory handle (Chromium)
      for await (const h of dir.values()) n += h.kind === 'file' ? (await h.getFile()).size : await sum(h);
      return n;
    };
    return sum(await navigator.storage.getDirectory());
  });
}

describe('resume: Chromium to Chromium, 256 MiB, interrupted at half', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {ReturnType<typeof profileDevice>} */ let devA;
  /** @type {ReturnType<typeof profileDevice>} */ let devB;
  /** @type {Peer} */ let a;
  /** @type {Peer} */ let b;
  /** @type {import('./harness/files.js').TestFile} */ let file;
  const ids = { a: '', b: '' };

  before(async () => {
    file = cleanup.track(makeFiles([{ name: 'big-256MiB.bin', size: SIZE }]), (f) => f.remove()).files[0];
    server = cleanup.track(await startServer(), (s) => s.stop());
    devA = profileDevice(cleanup, 'A', server.origin);
    devB = profileDevice(cleanup, 'B', server.origin);
    [a, b] = await Promise.all([openApp(devA, server.origin), openApp(devB, server.origin)]);
    await setOwnName(a, 'Alice laptop');
    await pair(a, b, server.origin);
    [ids.a, ids.b] = await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
  });

  after(() => cleanup.run());

  it("A's browser closes at half: B keeps it; A reopened, the same file chosen again continues; bytes equal, < 10 % sent again", async () => {
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [file.path]);
    // B does not accept without asking: the first offer is accepted by hand, the resumed one not.
    await acceptOffer(b, [file.name], [a]);
    await waitChunkBytes(b, 'receive', SIZE / 2, [a]);
    await devA.close();
    await waitNewest(b, 'receive', 'interrupted', []);
    // The row says what is kept and when it continues; nothing is handed over.
    await b.waitUntil('kept bytes on the row', () => /kept; it continues when .+ is back/.test(document.querySelector('#transfers li.transfer')?.textContent ?? ''), undefined, { timeout: T.ui });
    const [first] = await rows(b, 'receive');
    assert.equal(await b.count('#received a.download'), 0, 'an interrupted file has no download link');
    assert.match(first.text, /Interrupted — [\d.]+ [KMG]?B of 268\.4 MB kept; it continues when Alice laptop is back/);
    assert.ok(first.chunkBytes >= SIZE / 2 && first.chunkBytes < SIZE, `session 1 moved ${first.chunkBytes}`);

    // B reloads while A is away: the kept transfer is listed (what, from whom, how much).
    await b.page.reload();
    await b.waitVisible('#kept li.kept', { timeout: T.ui });
    const kept = await b.evaluate(() => [...document.querySelectorAll('#kept li.kept')].map((li) => li.textContent));
    assert.equal(kept.length, 1, `one kept transfer: ${kept}`);
    const m = /^big-256MiB\.bin from Alice laptop([\d.]+) MB kept; it continues when Alice laptop sends it againDiscard$/.exec(kept[0] ?? '');
    assert.ok(m, `the kept row: ${kept[0]}`);
    assert.ok(Number(m[1]) * 1e6 <= first.chunkBytes + 1e5 && Number(m[1]) * 1e6 >= SIZE / 4, `kept ${m[1]} MB of ${first.chunkBytes} received`);

    a = await openApp(devA, server.origin);
    await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [file.path]);
    await Promise.all([waitNewest(b, 'receive', 'done', [a]), waitNewest(a, 'send', 'done', [b]), waitReceived(b, [file.name], [a])]);
    assert.equal(await b.isVisible('#incoming'), false, 'B was not asked');
    assert.equal(await b.count('#kept li'), 0, 'the kept row went when the transfer went on');
    assert.equal((await rows(b, 'receive'))[0].resumed, 'true');
    const got = await downloadAndHash(b, file.name);
    assert.equal(got.size, SIZE);
    assert.equal(got.sha256, file.sha256, 'the resumed file is the sent file');
    const [second] = await rows(b, 'receive');
    const resent = first.chunkBytes + second.chunkBytes - SIZE;
    console.log(`# A closed (and B reloaded): session 1 ${mb(first.chunkBytes)}, session 2 ${mb(second.chunkBytes)}, sent again ${mb(resent)}`);
    assert.ok(second.chunkBytes < SIZE / 2 + SIZE / 10, `session 2 moved ${second.chunkBytes} bytes: it did not resume`);
    assert.ok(resent < SIZE / 10, `sent again ${resent} bytes, 10 % is ${SIZE / 10}`);
  });

  /** B's tab reloads at half while A sends; A offers again by itself and B continues. @param {string} what */
  const reloadAtHalf = async (what) => {
    const sentBefore = (await rows(a, 'send')).length;
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [file.path]);
    await a.waitUntil('a new send row', (n) => document.querySelectorAll('#transfers li.transfer[data-direction=send]').length > n, sentBefore, { timeout: T.ui });
    await acceptOffer(b, [file.name], [a]);
    await waitChunkBytes(b, 'receive', SIZE / 2, [a]);
    await b.page.reload();
    await waitNewest(a, 'send', 'interrupted', [b]);
    const [first] = await rows(a, 'send');
    // A offers again without being asked once B is back ("Resuming …"), and B continues.
    await a.waitUntil('a resuming row', () => /^Resuming /.test(document.querySelector('#transfers li.transfer[data-direction=send] .label')?.textContent ?? ''), undefined, { timeout: T.pair, also: [b] });
    await Promise.all([waitNewest(a, 'send', 'done', [b]), waitReceived(b, [file.name], [a])]);
    assert.equal(await b.isVisible('#incoming'), false, 'B was not asked again');
    const got = await downloadAndHash(b, file.name);
    assert.equal(got.sha256, file.sha256, 'the resumed file is the sent file');
    const [second] = await rows(a, 'send');
    // The interrupted row says its send continued (it kept saying "it is offered again when …
    // is back" after the resumed send was done).
    const after = await rows(a, 'send');
    assert.match(after[1].text, /continued in a new row above/, 'the old row says the send continued');
    assert.ok(!after.some((r) => /offered again when/.test(r.text)), 'no row still waits for B');
    const resent = first.chunkBytes + second.chunkBytes - SIZE;
    console.log(`# ${what}: session 1 ${mb(first.chunkBytes)}, session 2 ${mb(second.chunkBytes)}, sent again ${mb(resent)}`);
    assert.ok(first.chunkBytes >= SIZE / 2, `session 1 sent ${first.chunkBytes}`);
    assert.ok(resent < SIZE / 10, `sent again ${resent} bytes, 10 % is ${SIZE / 10}`);
  };

  it("B's tab reloads at half: A offers the file again by itself, B continues; bytes equal, < 10 % sent again", () => reloadAtHalf('B reloaded'));

  it('a file changed in its first half is sent from 0 (the proof fails); B gets the new bytes', async () => {
    // A second file, offered, interrupted at half; then its first MiB changes (same size and
    // time, so the same offer id) and A chooses it again.
    const other = cleanup.track(makeFiles([{ name: 'changed-64MiB.bin', size: 64 * MiB }]), (f) => f.remove()).files[0];
    const mtime = Math.floor(Date.now() / 1000) - 60;
    utimesSync(other.path, mtime, mtime);
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [other.path]);
    await acceptOffer(b, [other.name], [a]);
    await waitChunkBytes(b, 'receive', 40 * MiB, [a]);
    await devA.close();
    await waitNewest(b, 'receive', 'interrupted', []);
    const fd = openSync(other.path, 'r+');
    writeSync(fd, randomBytes(MiB), 0, MiB, 0);
    closeSync(fd);
    utimesSync(other.path, mtime, mtime);
    const changed = await hashFile(other.path);
    assert.notEqual(changed.sha256, other.sha256);
    a = await openApp(devA, server.origin);
    await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [other.path]);
    await Promise.all([waitNewest(a, 'send', 'done', [b]), waitNewest(b, 'receive', 'done', [a]), waitReceived(b, [other.name], [a])]);
    const got = await downloadAndHash(b, other.name);
    assert.equal(got.sha256, changed.sha256, 'B has the new bytes, not a splice');
    const [second] = await rows(b, 'receive');
    assert.equal(second.resumed, 'true', 'B knew the transfer and claimed what it kept');
    assert.equal(second.chunkBytes, 64 * MiB, 'sent from 0');
  });

  it('a kept transfer discarded on B: its row and bytes go, and the same file offered again is new', async () => {
    const third = cleanup.track(makeFiles([{ name: 'discard-64MiB.bin', size: 64 * MiB }]), (f) => f.remove()).files[0];
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [third.path]);
    await acceptOffer(b, [third.name], [a]);
    await waitChunkBytes(b, 'receive', 40 * MiB, [a]);
    await devA.close();
    await waitNewest(b, 'receive', 'interrupted', []);
    await b.page.reload();
    await b.waitVisible('#kept li.kept', { timeout: T.ui });
    const before = await opfsBytes(b);
    await b.click('#kept li.kept .kept-discard');
    await b.waitUntil('the kept row gone', () => document.querySelectorAll('#kept li').length === 0 && !!document.querySelector('#kept-section')?.hidden, undefined, { timeout: T.ui });
    const freed = before - (await opfsBytes(b));
    assert.ok(freed >= 32 * MiB, `discarding freed ${mb(freed)} of OPFS`);

    a = await openApp(devA, server.origin);
    await Promise.all([waitOneOnline(a, [b]), waitOneOnline(b, [a])]);
    await a.setInputFiles(`${entry(ids.a)} input.device-files`, [third.path]);
    // Nothing is kept, so B is asked again, and the whole file comes.
    await acceptOffer(b, [third.name], [a]);
    await Promise.all([waitNewest(a, 'send', 'done', [b]), waitNewest(b, 'receive', 'done', [a]), waitReceived(b, [third.name], [a])]);
    const [row] = await rows(b, 'receive');
    assert.notEqual(row.resumed, 'true', 'nothing was claimed');
    assert.equal(row.chunkBytes, 64 * MiB, 'sent from 0');
    assert.equal((await downloadAndHash(b, third.name)).sha256, third.sha256);
  });

  it('the same over four lanes (protocol §12): A, at ?lanes=4, sends over lanes in both sessions; bytes equal, < 10 % sent again', async () => {
    await a.goto(`${server.origin}/?lanes=4`);
    await waitOneOnline(a, [b]);
    await reloadAtHalf('B reloaded, A over lanes');
    // The sessions did use lanes: A logs what each channel carried when a session's lanes close.
    const lines = a.logs.filter((l) => l.includes('chunks per channel'));
    assert.ok(lines.length >= 1, `A logged no lanes.\n${await a.diagnose()}`);
    const chunks = /** @type {number[]} */ (JSON.parse(/** @type {RegExpExecArray} */ (/: (\[[\d,]*\])/.exec(lines[0]))[1]));
    assert.ok(chunks.length === 5 && chunks.filter((n) => n > 0).length >= 3, `chunks per channel of the first session: ${JSON.stringify(chunks)}`);
  });
});
