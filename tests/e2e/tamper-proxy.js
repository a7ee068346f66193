/**
 * @file A malicious signaling server for tests: an HTTP + WebSocket proxy in front of the real
 * `pairwise serve` that forwards every HTTP request and every `/ws` WebSocket, and rewrites
 * relayed signaling frames (docs/protocol.md §4) on their way from a client to the server:
 *
 * - `{ kind: 'hello-key', role, field }`: in the `hello` sent by `role` (initiator|responder),
 *   replaces `identity` or `ephemeral` with another valid P-256 public key (uncompressed,
 *   base64url without padding), as a server substituting keys would;
 * - `{ kind: 'code-key', body }`: in the `code-key` or `code-open` of a pairing by code,
 *   replaces the `ephemeral` key with a random valid P-256 key (the numbers then differ, or the
 *   commitment fails).
 * - `{ kind: 'sdp-fingerprint', sdp }`: in the `offer` or `answer`, flips one hex digit of the
 *   `a=fingerprint:` line(s), as a server redirecting the DTLS connection would.
 *
 * `rewrites` lists what was changed, so a test can check that the attack really happened;
 * `setAttack` changes the attack for frames from then on (e.g. pair unharmed, then attack the
 * reconnections). Only ever listens on and connects to 127.0.0.1.
 */

import { createECDH } from 'node:crypto';
import { createServer, request } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';

/**
 * @typedef {{ kind: 'hello-key', role: 'initiator' | 'responder', field: 'identity' | 'ephemeral' }
 *   | { kind: 'sdp-fingerprint', sdp: 'offer' | 'answer' }
 *   | { kind: 'code-key', body: 'code-key' | 'code-open' }
 *   | { kind: 'late-error', code: string }
 *   | { kind: 'drop-confirm' } | { kind: 'dup-confirm' } | { kind: 'inject-after' }
 *   | { kind: 'none' }} Attack
 * `late-error`: once a client relayed a candidate after its own `confirm` (the session is
 * verified by then), the proxy answers it with a forged server `error` frame of `code`.
 * `drop-confirm` / `dup-confirm`: the first `confirm` any client relays is dropped / sent twice.
 * `inject-after`: like `late-error`, but the forged frames are a relayed `hello` (the other
 * client's, replayed) and a `peer-joined`, as a server trying to restart a verified session.
 */

/** @returns {string} a fresh valid P-256 public key, 65-byte uncompressed, base64url without padding */
export function randomP256PublicKey() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return ecdh.getPublicKey(undefined, 'uncompressed').toString('base64url');
}

/**
 * Flips one hex digit (the last one) of every `a=fingerprint:` line, keeping its case and format.
 * @param {string} sdp
 * @returns {{ sdp: string, changed: string[] }}
 */
export function flipFingerprint(sdp) {
  /** @type {string[]} */
  const changed = [];
  const out = sdp.replace(/^(a=fingerprint:\S+ )([0-9A-Fa-f:]+)/gm, (_, head, hex) => {
    const i = hex.length - 1;
    const c = hex[i];
    const flipped = (parseInt(c, 16) ^ 0x1).toString(16);
    const next = c === c.toUpperCase() ? flipped.toUpperCase() : flipped;
    const line = `${head}${hex.slice(0, i)}${next}`;
    changed.push(`${head}${hex} -> ${line}`);
    return line;
  });
  return { sdp: out, changed };
}

/**
 * Applies `attack` to one client-to-server frame.
 * @param {Attack} attack
 * @param {any} frame parsed JSON
 * @returns {string | null} a description of the rewrite, or null if the frame was left alone
 */
export function tamper(attack, frame) {
  if (!frame || frame.type !== 'relay' || typeof frame.body !== 'object' || frame.body === null) return null;
  const body = frame.body;
  if (attack.kind === 'hello-key' && body.kind === 'hello' && body.role === attack.role && attack.field in body) {
    const before = body[attack.field];
    body[attack.field] = randomP256PublicKey();
    return `hello(${attack.role}).${attack.field}: ${before} -> ${body[attack.field]}`;
  }
  if (attack.kind === 'code-key' && body.kind === attack.body && 'ephemeral' in body) {
    const before = body.ephemeral;
    body.ephemeral = randomP256PublicKey();
    return `${attack.body}.ephemeral: ${before} -> ${body.ephemeral}`;
  }
  if (attack.kind === 'sdp-fingerprint' && body.kind === attack.sdp && typeof body.sdp === 'string') {
    const { sdp, changed } = flipFingerprint(body.sdp);
    if (changed.length === 0) return null;
    body.sdp = sdp;
    return `${attack.sdp} ${changed.join('; ')}`;
  }
  return null;
}

/**
 * Starts the proxy on 127.0.0.1 (ephemeral port).
 * @param {string} upstream origin of the real server, e.g. `http://127.0.0.1:43210`
 * @param {Attack} attack
 * @returns {Promise<{ origin: string, rewrites: string[], frames: string[], setAttack: (a: Attack) => void, stop: () => Promise<void> }>}
 */
export async function startTamperProxy(upstream, attack) {
  let current = attack;
  const up = new URL(upstream);
  if (up.hostname !== '127.0.0.1') throw new Error(`tamper proxy only talks to 127.0.0.1, not ${up.hostname}`);
  /** @type {string[]} */
  const rewrites = [];
  /** @type {string[]} frames seen, in order, for failure messages */
  const frames = [];
  /** @type {Set<WebSocket>} */
  const sockets = new Set();
  /** The last hello frame each client relayed, as text (what `inject-after` replays). @type {Map<number, string>} */
  const hellos = new Map();
  const firstConfirm = { done: false };
  let connections = 0;

  const server = createServer((req, res) => {
    const fwd = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    fwd.on('error', (e) => {
      res.writeHead(502).end(String(e));
    });
    req.pipe(fwd);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    if (!req.url?.startsWith('/ws')) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (client) => {
      const n = connections++;
      // Same-origin as far as the real server can tell: it compares Origin with Host.
      const server = new WebSocket(`ws://${up.host}${req.url}`, { origin: upstream, maxPayload: 1 << 20 });
      sockets.add(client);
      sockets.add(server);
      /** @type {Array<[WebSocket.RawData, boolean]>} */
      const pending = [];
      let confirmed = false;
      let forged = false;
      /** @param {string} text @param {string} what */
      const forge = (text, what) => {
        setTimeout(() => client.readyState === WebSocket.OPEN && client.send(text), 0);
        rewrites.push(`${what} to c${n} after its confirm`);
        frames.push(`s->c${n} ${what} (FORGED)`);
      };
      const toServer = (/** @type {WebSocket.RawData} */ data, /** @type {boolean} */ isBinary) => {
        let out = data;
        if (!isBinary) {
          const text = data.toString();
          try {
            const frame = JSON.parse(text);
            const what = tamper(current, frame);
            if (what) {
              rewrites.push(what);
              out = Buffer.from(JSON.stringify(frame));
            }
            frames.push(`c${n}->s ${frame.type}${frame.body?.kind ? `/${frame.body.kind}` : ''}${what ? ' (REWRITTEN)' : ''}`);
            const kind = frame.type === 'relay' ? frame.body?.kind : undefined;
            if (kind === 'hello') hellos.set(n, text);
            if (kind === 'confirm' && !firstConfirm.done && (current.kind === 'drop-confirm' || current.kind === 'dup-confirm')) {
              firstConfirm.done = true;
              const dup = current.kind === 'dup-confirm';
              rewrites.push(`${dup ? 'duplicated' : 'dropped'} the confirm of c${n}`);
              frames.push(`c${n}->s confirm ${dup ? 'SENT TWICE' : 'DROPPED'}`);
              if (!dup) return;
              server.send(out, { binary: isBinary });
            }
            if (kind === 'confirm') confirmed = true;
            if (confirmed && !forged && kind === 'candidate') {
              if (current.kind === 'late-error') {
                forged = true;
                forge(JSON.stringify({ type: 'error', code: current.code, message: 'forged' }), `forged error ${current.code}`);
              } else if (current.kind === 'inject-after') {
                const other = [...hellos].find(([c]) => c !== n)?.[1];
                if (other) {
                  forged = true;
                  forge(other, 'forged relay/hello');
                  forge(JSON.stringify({ type: 'peer-joined' }), 'forged peer-joined');
                }
              }
            }
          } catch {
            frames.push(`c${n}->s (not JSON, ${text.length} chars)`);
          }
        }
        server.send(out, { binary: isBinary });
      };
      client.on('message', (data, isBinary) => {
        if (server.readyState === WebSocket.OPEN) toServer(data, isBinary);
        else pending.push([data, isBinary]);
      });
      server.on('open', () => {
        for (const [d, b] of pending.splice(0)) toServer(d, b);
      });
      server.on('message', (data, isBinary) => {
        if (!isBinary) {
          try {
            const f = JSON.parse(data.toString());
            frames.push(`s->c${n} ${f.type}${f.body?.kind ? `/${f.body.kind}` : ''}${f.code ? ` ${f.code}` : ''}`);
          } catch {}
        }
        if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      });
      const closeCode = (/** @type {number} */ c) => (c >= 3000 || (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ? c : 1000);
      client.on('close', (code, reason) => {
        sockets.delete(client);
        if (server.readyState === WebSocket.CONNECTING) server.terminate();
        else server.close(closeCode(code), reason);
      });
      server.on('close', (code, reason) => {
        sockets.delete(server);
        client.close(closeCode(code), reason);
      });
      client.on('error', () => server.terminate());
      server.on('error', () => client.terminate());
    });
  });

  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    origin: `http://127.0.0.1:${addr.port}`,
    rewrites,
    frames,
    setAttack(a) {
      current = a;
    },
    async stop() {
      for (const s of sockets) s.terminate();
      wss.close();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(() => r(undefined)));
    },
  };
}
