/**
 * @file A tiny static HTTP server on 127.0.0.1 for the harness self-check: serves web/ at `/` and
 * tests/e2e/fixture/ at `/fixture/`, so the fixture page can use the app's own QR encoder.
 */

import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { ROOT } from './server.js';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json' };

/** @returns {Promise<{ origin: string, stop: () => Promise<void> }>} */
export function startStatic() {
  const server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let base = join(ROOT, 'web');
    if (path.startsWith('/fixture/')) {
      base = join(ROOT, 'tests', 'e2e', 'fixture');
      path = path.slice('/fixture'.length);
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (!file.startsWith(base)) return void res.writeHead(403).end();
    try {
      if (!statSync(file).isFile()) throw new Error();
    } catch {
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': TYPES[/** @type {keyof TYPES} */ (extname(file))] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        origin: `http://127.0.0.1:${addr.port}`,
        stop: () => new Promise((r) => server.close(() => r())),
      });
    }),
  );
}
