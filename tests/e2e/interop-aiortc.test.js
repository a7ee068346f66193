/**
 * @file An independent peer (tests/interop/peer.py: Python, aiortc, written from
 * docs/protocol.md alone) against the real CLI and the real web app in Chromium, through the real
 * server. Its SDP carries three a=fingerprint: lines (sha-256, sha-384, sha-512, as aiortc
 * writes them), the case where a stack that re-serialises the SDP keeps another first line
 * (§5.1). Each transfer is checked by SHA-256 on the receiving side, and both sides must show
 * the same verification code.
 *
 * The peer runs in a Python venv with tests/interop/requirements.txt installed:
 * PAIRWISE_INTEROP_PYTHON, by default tests/interop/.venv/bin/python (which .ci/run makes). Without it the first test fails, saying why.
 */

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acceptOffer, assertReceivedIntact, chooseFiles, showPairingCode, waitError, waitPaired, waitReceived, waitTransfer } from './harness/app.js';
import { launchChromium } from './harness/browsers.js';
import { Cleanup } from './harness/cleanup.js';
import { runCli } from './harness/cli.js';
import { hashFile, makeFiles, MiB } from './harness/files.js';
import { ROOT } from './harness/server.js';
import { startServer } from './harness/server.js';

const PYTHON = process.env.PAIRWISE_INTEROP_PYTHON ?? join(ROOT, 'tests', 'interop', '.venv', 'bin', 'python');
const PEER = join(ROOT, 'tests', 'interop', 'peer.py');

/**
 * @typedef {object} PeerRun
 * @property {() => string} stdout
 * @property {() => string} stderr
 * @property {Promise<{ code: number | null, signal: string | null }>} exited
 * @property {(timeoutMs?: number) => Promise<string>} link the `LINK <url>` it printed
 * @property {(timeoutMs?: number) => Promise<string>} sas the `SAS 123 456` it printed ("123 456")
 * @property {() => void} kill
 * @property {() => string} diagnose
 */

/**
 * Starts `python peer.py ARGS...`.
 * @param {string[]} args
 * @returns {PeerRun}
 */
function runPeer(args) {
  const child = spawn(PYTHON, [PEER, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let done = false;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  /** @type {Promise<{ code: number | null, signal: string | null }>} */
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // A missing interpreter: no exit event, only this one.
    child.once('error', (e) => {
      err += `\nspawn ${PYTHON}: ${e.message}`;
      resolve({ code: null, signal: 'spawn-error' });
    });
  }).then((r) => ((done = true), r));
  const diagnose = () =>
    `--- aiortc peer: peer.py ${args.join(' ')} (${done ? 'ended' : 'still running'}) ---\nstdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-6000)}`;
  /** @param {RegExp} re @param {string} what @param {number} timeoutMs */
  const line = async (re, what, timeoutMs) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const m = re.exec(out);
      if (m) return m[1];
      if (done) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the aiortc peer printed no ${what}.\n${diagnose()}`);
  };
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    link: (timeoutMs = 30_000) => line(/^LINK (\S+)$/m, 'LINK line', timeoutMs),
    sas: (timeoutMs = 60_000) => line(/^SAS (\d{3} \d{3})$/m, 'SAS line', timeoutMs),
    kill() {
      if (!done && child.pid) process.kill(child.pid, 'SIGKILL');
    },
    diagnose,
  };
}

/** @param {PeerRun} run @param {{ diagnose(): string | Promise<string> }[]} [also] */
async function peerExitsOk(run, also = []) {
  const { code, signal } = await run.exited;
  if (code === 0) return;
  const others = (await Promise.all(also.map((w) => w.diagnose()))).join('\n');
  assert.fail(`the aiortc peer exited with ${code ?? signal}.\n${run.diagnose()}\n${others}`);
}

/** @param {import('./harness/cli.js').CliRun} run @param {PeerRun} peer */
async function cliExitsOk(run, peer) {
  const { code, signal } = await run.exited;
  assert.equal(code, 0, `pairwise exited with ${code ?? signal}.\n${run.diagnose()}\n${peer.diagnose()}`);
}

/** The verification code the CLI printed, as "123 456". @param {string} text */
function cliSas(text) {
  const m = /Verification code: (\d{3} \d{3})/.exec(text);
  assert.ok(m, `the CLI printed no verification code:\n${text.slice(-3000)}`);
  return m[1];
}

/**
 * What every case checks of the peer's own account: its SDP carried the three fingerprint lines
 * this file is about, and it saw nothing the spec rules out without an error code (it logs
 * those as `DRIFT …`: candidates before its confirm, a first record other than `device`, …),
 * and the other side ended its candidates with the null one.
 * PAIRWISE_INTEROP_VERBOSE=1 prints its whole log.
 * @param {PeerRun} peer
 */
function assertPeerAccount(peer) {
  if (process.env.PAIRWISE_INTEROP_VERBOSE) console.log(peer.diagnose());
  assert.match(peer.stderr(), /(offer|answer) carries 3 fingerprint line\(s\)/, `the peer's SDP did not carry 3 fingerprint lines.\n${peer.diagnose()}`);
  assert.doesNotMatch(peer.stderr(), /DRIFT/, `the peer saw the other side stray from docs/protocol.md.\n${peer.diagnose()}`);
  // §4.2: the other side ends its candidates with one null candidate (the CLI sent none before session 12).
  assert.match(peer.stderr(), /final null candidate arrived/, `the other side sent no final null candidate.\n${peer.diagnose()}`);
}

describe('an independent aiortc peer with the CLI and Chromium', { timeout: 900_000 }, () => {
  const cleanup = new Cleanup();
  /** @type {import('./harness/server.js').Server} */ let server;
  /** @type {import('./harness/browsers.js').Browser} */ let chromium;
  /** @type {ReturnType<typeof makeFiles>} */ let files;
  /** A file the refusing receiver below is offered. @type {ReturnType<typeof makeFiles>} */ let refused;
  /** Why the peer cannot run here (no venv, no aiortc), or null: every case fails with it. */
  /** @type {string | null} */ let noPeer = null;
  const requirePeer = () => {
    if (noPeer) assert.fail(noPeer);
  };

  /** @param {string} prefix */
  const tempDir = (prefix) => cleanup.track(mkdtempSync(join(tmpdir(), prefix)), (d) => rmSync(d, { recursive: true, force: true }));
  /** @param {string[]} args */
  const peer = (args) => cleanup.track(runPeer(args), (r) => r.kill());

  /**
   * Asserts that `dir` holds exactly `expected`, byte for byte.
   * @param {string} dir
   * @param {import('./harness/files.js').TestFile[]} expected
   */
  const assertDirHolds = async (dir, expected) => {
    assert.deepEqual(readdirSync(dir).sort(), expected.map((f) => f.name).sort(), `files in ${dir}`);
    for (const f of expected) {
      const got = await hashFile(join(dir, f.name));
      assert.equal(got.size, f.size, `${f.name}: size`);
      assert.equal(got.sha256, f.sha256, `${f.name}: SHA-256`);
    }
  };

  before(async () => {
    const probe = spawnSync(PYTHON, ['-c', 'import aiortc, websockets, cryptography; print(aiortc.__version__)'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      noPeer =
        `no usable Python with aiortc at ${PYTHON} (set PAIRWISE_INTEROP_PYTHON; pip install -r tests/interop/requirements.txt).\n` +
        `error: ${probe.error?.message ?? '(none)'}\nstderr:\n${probe.stderr}`;
    }
    // 20 MiB is past the 16 MiB transfer window (§11.4): the sender must see `progress` to finish.
    files = cleanup.track(
      makeFiles([
        { name: 'interop-empty.bin', size: 0 },
        { name: 'interop-one-byte.bin', size: 1 },
        { name: 'interop-random-20MiB.bin', size: 20 * MiB },
      ]),
      (f) => f.remove(),
    );
    refused = cleanup.track(makeFiles([{ name: 'refused-here.txt', size: 1000 }]), (f) => f.remove());
    server = cleanup.track(await startServer(), (s) => s.stop());
    chromium = cleanup.track(await launchChromium(), (b) => b.close());
  });

  after(() => cleanup.run());

  it('the peer runs (venv with aiortc) and agrees with testdata/vectors', () => {
    requirePeer();
    const self = spawnSync(PYTHON, [join(ROOT, 'tests', 'interop', 'selftest.py')], { encoding: 'utf8' });
    assert.equal(self.status, 0, `tests/interop/selftest.py failed:\n${self.stdout}\n${self.stderr}`);
  });

  it('aiortc sends to the CLI (pairwise receive LINK): files land intact, same code on both', { timeout: 240_000 }, async () => {
    requirePeer();
    const sender = peer(['send', '--server', server.origin, ...files.files.map((f) => f.path)]);
    const link = await sender.link();
    const dir = tempDir('interop-cli-in-');
    const receiver = cleanup.track(runCli(['receive', '--yes', link, '--dir', dir]), (r) => r.kill());
    await cliExitsOk(receiver, sender);
    await peerExitsOk(sender, [receiver]);
    await assertDirHolds(dir, files.files);
    assert.equal(cliSas(receiver.stderr() + receiver.stdout()), await sender.sas(), 'both sides show the same verification code');
    assertPeerAccount(sender);
  });

  it('the CLI sends to aiortc (pairwise send FILE, peer.py receive LINK): files land intact, same code on both', { timeout: 240_000 }, async () => {
    requirePeer();
    const sender = cleanup.track(runCli(['send', '--server', server.origin, ...files.files.map((f) => f.path)]), (r) => r.kill());
    const dir = tempDir('interop-aiortc-in-');
    const receiver = peer(['receive', '--out', dir, await sender.link()]);
    await peerExitsOk(receiver, [sender]);
    await cliExitsOk(sender, receiver);
    await assertDirHolds(dir, files.files);
    assert.equal(cliSas(sender.stderr() + sender.stdout()), await receiver.sas(), 'both sides show the same verification code');
    assertPeerAccount(receiver);
  });

  it('Chromium shows the code, aiortc opens the link and receives what Chromium sends', { timeout: 240_000 }, async () => {
    requirePeer();
    const a = await chromium.newPeer('A', server.origin);
    await a.goto(server.origin);
    const link = await showPairingCode(a);
    const dir = tempDir('interop-chromium-to-aiortc-');
    const receiver = peer(['receive', '--out', dir, link]);
    const sas = await waitPaired(a, [receiver]);
    assert.equal(await receiver.sas(), sas, 'both sides show the same verification code');
    await chooseFiles(a, files.files.map((f) => f.path));
    await peerExitsOk(receiver, [a]);
    await waitTransfer(a, 'send', 'done', [receiver]);
    await assertDirHolds(dir, files.files);
    assertPeerAccount(receiver);
    await a.close();
  });

  it('aiortc shows the link, Chromium opens it, accepts and receives intact', { timeout: 240_000 }, async () => {
    requirePeer();
    const sender = peer(['send', '--server', server.origin, ...files.files.map((f) => f.path)]);
    const link = await sender.link();
    const b = await chromium.newPeer('B', server.origin);
    await b.goto(link);
    const sas = await waitPaired(b, [sender]);
    assert.equal(await sender.sas(), sas, 'both sides show the same verification code');
    await acceptOffer(b, files.files.map((f) => f.name), [sender]);
    await waitReceived(b, files.files.map((f) => f.name), [sender]);
    await assertReceivedIntact(b, files.files);
    await peerExitsOk(sender, [b]);
    assertPeerAccount(sender);
    await b.close();
  });

  // Offers no honest sender makes (protocol §7, §11.1): each must be refused with `bad-name`,
  // said on the receiving screen or terminal, with nothing shown as offered and nothing saved.
  const hostileOffers = [
    ['a name with a right-to-left override (shown as invoiceexe.txt)', { files: [{ name: 'invoice\u202etxt.exe', size: 1, type: '' }] }],
    ['a folder named ..', { files: [{ name: 'a.txt', size: 1, type: '', dir: ['ok', '..'] }] }],
    ['a file 33 folders deep', { files: [{ name: 'a.txt', size: 1, type: '', dir: Array(33).fill('d') }] }],
  ];

  for (const [what, manifest] of hostileOffers) {
    it(`Chromium refuses ${what}: it says bad-name and lists nothing`, { timeout: 240_000 }, async () => {
      requirePeer();
      const sender = peer(['send', '--server', server.origin, '--offer-json', JSON.stringify(manifest)]);
      const b = await chromium.newPeer('B', server.origin);
      await b.goto(await sender.link());
      // The offer follows the pairing at once: the page may show the error before `paired`.
      await waitError(b, 'bad-name', { also: [sender] });
      assert.match(sender.stdout(), /^SAS \d{3} \d{3}$/m, 'the two paired before the offer');
      const seen = await b.evaluate(() => ({
        offered: !(/** @type {HTMLElement} */ (document.querySelector('#incoming')).hidden),
        received: document.querySelectorAll('#received a').length,
      }));
      assert.deepEqual(seen, { offered: false, received: 0 }, 'no offer shown, nothing received');
      const { code } = await sender.exited;
      assert.notEqual(code, 0, `the hostile sender's run should end with the session.\n${sender.diagnose()}`);
      // The page told the sender why (§6.1): a refusal, not a device that left.
      assert.match(sender.stdout(), /^ERROR name-refused /m, `the sender should hear close {"code":"bad-name"}.\n${sender.diagnose()}`);
      await b.close();
    });

    it(`the CLI refuses ${what}: it exits with the bad-name sentence and saves nothing`, { timeout: 240_000 }, async () => {
      requirePeer();
      const sender = peer(['send', '--server', server.origin, '--offer-json', JSON.stringify(manifest)]);
      const dir = tempDir('interop-hostile-');
      const receiver = cleanup.track(runCli(['receive', '--yes', await sender.link(), '--dir', dir]), (r) => r.kill());
      const { code } = await receiver.exited;
      assert.notEqual(code, 0, `pairwise receive accepted a hostile offer.\n${receiver.diagnose()}`);
      assert.match(receiver.stderr(), /offered a file with an unsafe name/, `the CLI should say why.\n${receiver.diagnose()}`);
      assert.deepEqual(readdirSync(dir), [], 'nothing saved');
      await sender.exited;
      assert.match(sender.stdout(), /^ERROR name-refused /m, `the sender should hear close {"code":"bad-name"}.\n${sender.diagnose()}`);
    });
  }

  // §9 precedence: a record that fails authentication in the middle of a file is
  // `record-rejected`, not `incomplete` (the CLI used to close the transfer first and report the
  // close), and nothing of the file is kept. The peer breaks one record's tag after 1 MiB.
  it('the CLI gets a record that fails authentication mid-file: record-rejected, nothing saved', { timeout: 240_000 }, async () => {
    requirePeer();
    const big = files.files[2];
    const sender = peer(['send', '--server', server.origin, '--corrupt-after', String(MiB), big.path]);
    const dir = tempDir('interop-bad-record-');
    const receiver = cleanup.track(runCli(['receive', '--yes', await sender.link(), '--dir', dir]), (r) => r.kill());
    const { code } = await receiver.exited;
    assert.notEqual(code, 0, `pairwise receive kept going after a bad record.\n${receiver.diagnose()}`);
    assert.match(receiver.stderr(), /failed its integrity check/, `the CLI should say record-rejected.\n${receiver.diagnose()}`);
    assert.deepEqual(readdirSync(dir), [], 'nothing saved');
    await sender.exited;
    assert.match(sender.stdout(), /^ERROR peer-refused /m, `the sender should hear close {"code":"record-rejected"}.\n${sender.diagnose()}`);
  });

  it('Chromium gets a record that fails authentication mid-file: record-rejected, nothing received', { timeout: 240_000 }, async () => {
    requirePeer();
    const big = files.files[2];
    const sender = peer(['send', '--server', server.origin, '--corrupt-after', String(MiB), big.path]);
    const b = await chromium.newPeer('B', server.origin);
    await b.goto(await sender.link());
    await acceptOffer(b, [big.name], [sender]);
    await waitError(b, 'record-rejected', { also: [sender] });
    assert.equal(await b.evaluate(() => document.querySelectorAll('#received a').length), 0, 'nothing received');
    await sender.exited;
    assert.match(sender.stdout(), /^ERROR peer-refused /m, `the sender should hear close {"code":"record-rejected"}.\n${sender.diagnose()}`);
    await b.close();
  });

  // The other way round (§6.1): a receiver that refuses an offer says so in `close
  // {"code":"bad-name"}` (the aiortc peer with --refuse, as a device whose rules forbid a name
  // these allow would), and the sender's own screen says `name-refused`, not `peer-left`.
  it('Chromium sends, the receiver refuses the name: the sending page says name-refused', { timeout: 240_000 }, async () => {
    requirePeer();
    const a = await chromium.newPeer('A', server.origin);
    await a.goto(server.origin);
    const link = await showPairingCode(a);
    const receiver = peer(['receive', '--out', tempDir('interop-refuse-'), '--refuse', 'bad-name', link]);
    await waitPaired(a, [receiver]);
    await chooseFiles(a, refused.files.map((f) => f.path));
    await waitError(a, 'name-refused', { also: [receiver] });
    const text = await a.evaluate(() => document.querySelector('#error')?.textContent ?? '');
    assert.match(text, /refused a file name it cannot use/);
    await receiver.exited;
    assert.match(receiver.stdout(), /^ERROR bad-name /m, receiver.diagnose());
    await a.close();
  });

  it('the CLI sends, the receiver refuses the name: pairwise send exits with the name-refused sentence', { timeout: 240_000 }, async () => {
    requirePeer();
    const sender = cleanup.track(runCli(['send', '--server', server.origin, ...refused.files.map((f) => f.path)]), (r) => r.kill());
    const receiver = peer(['receive', '--out', tempDir('interop-refuse-cli-'), '--refuse', 'bad-name', await sender.link()]);
    const { code } = await sender.exited;
    assert.equal(code, 1, `pairwise send should fail.\n${sender.diagnose()}\n${receiver.diagnose()}`);
    // The sentence, and the peer's own code in the detail.
    assert.match(sender.stderr(), /refused a file name it cannot use.*\(the other device ended the session: bad-name\)/, sender.diagnose());
    assert.doesNotMatch(sender.stderr(), /The other device left/, sender.diagnose());
    await receiver.exited;
  });
});
