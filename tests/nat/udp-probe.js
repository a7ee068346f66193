/**
 * @file A tiny UDP probe for the lab's self-check (lab.test.js), run inside a namespace with
 * `ip netns exec NS node udp-probe.js ...`:
 *
 *   node udp-probe.js echo PORT MS                 prints "ready" once bound, then answers every
 *                                                  datagram with its sender's "ADDR:PORT" (what a
 *                                                  NAT mapped it to), for at most MS ms
 *   node udp-probe.js ask LOCALPORT MS HOST:PORT…  from one socket bound to LOCALPORT, sends to
 *                                                  each target and prints one JSON line:
 *                                                  {"HOST:PORT": "seen-as ADDR:PORT" | null, ...}
 */

import { createSocket } from 'node:dgram';

const [mode, a, b, ...targets] = process.argv.slice(2);
const sock = createSocket('udp4');

if (mode === 'echo') {
  sock.on('message', (_msg, from) => sock.send(`${from.address}:${from.port}`, from.port, from.address));
  sock.bind(Number(a), () => {
    console.log('ready');
    setTimeout(() => sock.close(), Number(b));
  });
} else if (mode === 'ask') {
  /** @type {Record<string, string | null>} */
  const seen = Object.fromEntries(targets.map((t) => [t, null]));
  sock.on('message', (msg, from) => (seen[`${from.address}:${from.port}`] = msg.toString()));
  sock.bind(Number(a), () => {
    for (const t of targets) {
      const [host, port] = t.split(':');
      sock.send('probe', Number(port), host);
    }
    setTimeout(() => {
      console.log(JSON.stringify(seen));
      sock.close();
    }, Number(b));
  });
} else {
  console.error('usage: see the top of udp-probe.js');
  process.exit(2);
}
