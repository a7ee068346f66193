/**
 * @file Firefox's WebDriver BiDi socket, brought out of a lab namespace over stdio. Firefox only
 * offers BiDi on a WebSocket (`--remote-debugging-port`), which listens on 127.0.0.1 of the
 * namespace it runs in, out of reach of the test process in the root namespace. This runs inside
 * the same namespace (`ip netns exec NS node bidi-bridge.js ws://127.0.0.1:PORT/session`),
 * connects to that socket and relays messages: each stdin message (terminated by a NUL byte)
 * goes to the socket, each socket message comes out on stdout followed by a NUL byte, as
 * Chromium's `--remote-debugging-pipe` frames CDP. `browser-lab.js` (`launchFirefoxIn`) hands
 * puppeteer-core a transport over these pipes. No network is used outside the namespace; the
 * bridge exits when stdin closes or the socket does.
 */

import WebSocket from 'ws';

const url = process.argv[2];
if (!url || !/^ws:\/\/127\.0\.0\.1:\d+\//.test(url)) {
  process.stderr.write('usage: node bidi-bridge.js ws://127.0.0.1:PORT/session\n');
  process.exit(2);
}

const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
/** @type {string[]} messages from stdin before the socket opened */
const early = [];
let pending = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (/** @type {string} */ chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\0'); end >= 0; end = pending.indexOf('\0')) {
    const message = pending.slice(0, end);
    pending = pending.slice(end + 1);
    if (ws.readyState === WebSocket.OPEN) ws.send(message);
    else early.push(message);
  }
});
process.stdin.on('end', () => ws.close());

ws.on('open', () => {
  for (const m of early.splice(0)) ws.send(m);
});
ws.on('message', (/** @type {Buffer} */ data) => {
  process.stdout.write(`${data.toString()}\0`);
});
ws.on('error', (/** @type {Error} */ e) => {
  process.stderr.write(`bidi-bridge: ${e.message}\n`);
  process.exit(1);
});
ws.on('close', () => process.exit(0));
