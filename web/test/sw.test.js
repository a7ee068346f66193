/**
 * @file The service worker (`sw.js`), run in a `vm` context with in-memory Cache Storage and a
 * scripted network: it precaches exactly the files the server ships, drops old shell caches,
 * serves the network first and the cache only offline, leaves other requests alone, and keeps
 * shared files in the form `lib/files/share-inbox.js` takes them out again.
 */

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import vm from 'node:vm';
import { SHARE_CACHE, openedByShare, takeSharedFiles } from '../lib/files/share-inbox.js';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const ORIGIN = 'https://192.168.1.20:8443';

/** @param {RequestInfo | URL} req */
const keyOf = (req) => new URL(typeof req === 'string' || req instanceof URL ? req : req.url, ORIGIN).href;

/** An in-memory Cache (the parts sw.js and share-inbox.js use). */
class FakeCache {
  /** @type {Map<string, Response>} */
  entries = new Map();
  /** @param {(r: Request) => Promise<Response>} fetcher */
  constructor(fetcher) {
    this.fetcher = fetcher;
  }
  /** @param {RequestInfo} req @param {Response} res */
  async put(req, res) {
    this.entries.set(keyOf(req), res);
  }
  /** @param {RequestInfo} req */
  async match(req) {
    return this.entries.get(keyOf(req))?.clone();
  }
  async keys() {
    return [...this.entries.keys()].map((k) => new Request(k));
  }
  /** @param {RequestInfo} req */
  async delete(req) {
    return this.entries.delete(keyOf(req));
  }
  /** @param {Request[]} reqs */
  async addAll(reqs) {
    for (const r of reqs) {
      const res = await this.fetcher(r);
      if (!res.ok) throw new TypeError(`addAll: ${r.url} answered ${res.status}`);
      await this.put(r, res);
    }
  }
}

/** An in-memory CacheStorage. */
class FakeCacheStorage {
  /** @type {Map<string, FakeCache>} */
  caches = new Map();
  /** @param {(r: Request) => Promise<Response>} fetcher */
  constructor(fetcher) {
    this.fetcher = fetcher;
  }
  /** @param {string} name */
  async open(name) {
    if (!this.caches.has(name)) this.caches.set(name, new FakeCache(this.fetcher));
    return /** @type {FakeCache} */ (this.caches.get(name));
  }
  /** @param {string} name */
  async has(name) {
    return this.caches.has(name);
  }
  async keys() {
    return [...this.caches.keys()];
  }
  /** @param {string} name */
  async delete(name) {
    return this.caches.delete(name);
  }
  /** @param {RequestInfo} req @param {{ cacheName?: string }} [opts] */
  async match(req, opts = {}) {
    const names = opts.cacheName ? [opts.cacheName] : [...this.caches.keys()];
    for (const n of names) {
      const hit = await this.caches.get(n)?.match(req);
      if (hit) return hit;
    }
    return undefined;
  }
}

/**
 * Loads sw.js with a scripted network. `network.online = false` makes every fetch fail.
 */
function loadWorker() {
  const network = { online: true, version: 'v1' };
  /** @param {any} req */
  const fetcher = async (req) => {
    const url = keyOf(req);
    if (!network.online) throw new TypeError('Failed to fetch');
    if (new URL(url).pathname === '/healthz') return new Response('ok\n');
    return new Response(`${network.version} ${new URL(url).pathname}`, { status: 200 });
  };
  const storage = new FakeCacheStorage(fetcher);
  /** @type {Record<string, (ev: any) => void>} */
  const handlers = {};
  const self = {
    location: new URL(`${ORIGIN}/sw.js`),
    /** @param {string} type @param {(ev: any) => void} fn */
    addEventListener: (type, fn) => (handlers[type] = fn),
    skipWaiting: async () => {},
  };
  class BaseRequest extends Request {
    /** @param {any} input @param {RequestInit} [init] */
    constructor(input, init) {
      super(typeof input === 'string' ? new URL(input, ORIGIN) : input, init);
    }
  }
  const context = vm.createContext({ self, caches: storage, fetch: fetcher, Request: BaseRequest, Response, URL, File, Headers });
  vm.runInContext(readFileSync(join(WEB, 'sw.js'), 'utf8'), context, { filename: 'sw.js' });
  /** @param {string} type @param {object} [fields] */
  const dispatch = async (type, fields = {}) => {
    /** @type {Promise<unknown>[]} */
    const waits = [];
    /** @type {Promise<Response> | undefined} */
    let response;
    handlers[type]({
      ...fields,
      waitUntil: (/** @type {Promise<unknown>} */ p) => waits.push(p),
      respondWith: (/** @type {Promise<Response>} */ p) => (response = p),
    });
    const res = response ? await response : undefined;
    await Promise.all(waits);
    return res;
  };
  return {
    network,
    storage,
    dispatch,
    // Copied into this realm's Array, so deepEqual compares values only.
    shell: /** @type {string[]} */ ([...vm.runInContext('SHELL', context)]),
    shellCache: /** @type {string} */ (vm.runInContext('SHELL_CACHE', context)),
  };
}

/** Files under web/ that the server embeds (assets.rs: its include/exclude patterns). */
function shippedPaths() {
  const SHIPPED = /\.(html|js|css|svg|png|webmanifest)$/;
  /** @type {string[]} */
  const out = [];
  /** @param {string} dir */
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const rel = relative(WEB, full).split(sep).join('/');
      if (rel === 'test' || rel === 'node_modules') continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (SHIPPED.test(name) && rel !== 'sw.js') out.push(rel === 'index.html' ? '/' : `/${rel}`);
    }
  };
  walk(WEB);
  return out.sort();
}

test('the shell list is exactly the files the server ships, so the app starts offline', () => {
  const { shell } = loadWorker();
  const shipped = shippedPaths();
  const missing = shipped.filter((p) => !shell.includes(p));
  const extra = shell.filter((p) => !shipped.includes(p));
  assert.deepEqual(missing, [], `add these to SHELL in web/sw.js (the offline app needs them): ${missing.join(', ')}`);
  assert.deepEqual(extra, [], `remove these from SHELL in web/sw.js (they are not shipped): ${extra.join(', ')}`);
});

test('install precaches the shell; activate deletes older shell caches but not shared files', async () => {
  const { storage, dispatch, shell, shellCache } = loadWorker();
  assert.match(shellCache, /^pairwise-shell-[0-9a-f]{8}$/);
  await storage.open('pairwise-shell-00000000');
  await storage.open(SHARE_CACHE);
  await dispatch('install');
  const cached = [...(await storage.open(shellCache)).entries.keys()].map((k) => new URL(k).pathname).sort();
  assert.deepEqual(cached, [...shell].sort());
  await dispatch('activate');
  assert.deepEqual((await storage.keys()).sort(), [SHARE_CACHE, shellCache].sort());
});

test('app files come from the network first (a new deployment is never stale), the cache only offline', async () => {
  const { network, dispatch } = loadWorker();
  await dispatch('install');
  network.version = 'v2';
  const online = await dispatch('fetch', { request: new Request(`${ORIGIN}/app.js`) });
  assert.equal(await online?.text(), 'v2 /app.js');
  network.online = false;
  const offline = await dispatch('fetch', { request: new Request(`${ORIGIN}/app.js`) });
  assert.equal(await offline?.text(), 'v2 /app.js', 'the last network answer was kept');
  // Any page load falls back to the cached app page.
  const page = await dispatch('fetch', { request: { url: `${ORIGIN}/?share=1`, method: 'GET', mode: 'navigate' } });
  assert.equal(await page?.text(), 'v1 /');
  assert.equal(await dispatch('fetch', { request: new Request(`${ORIGIN}/lib/nope.js`) }), undefined, 'unknown paths are left to the browser');
});

test('signaling, health checks and other origins are left to the browser', async () => {
  const { dispatch } = loadWorker();
  for (const url of [`${ORIGIN}/ws`, `${ORIGIN}/healthz`, 'https://example.org/app.js']) {
    assert.equal(await dispatch('fetch', { request: new Request(url) }), undefined, url);
  }
  const other = await dispatch('fetch', { request: new Request(`${ORIGIN}/app.js`, { method: 'PUT', body: 'x' }) });
  assert.equal(other, undefined);
});

test('a share is kept for the page and redirects to /?share=1; the page takes each file once', async () => {
  const { storage, dispatch } = loadWorker();
  const form = new FormData();
  form.append('files', new File([new Uint8Array([1, 2, 3])], 'photo 1.jpg', { type: 'image/jpeg' }));
  form.append('files', new File(['notes'], 'ünïcödé%.txt', { type: 'text/plain' }));
  form.append('title', 'ignored when files come');
  const res = await dispatch('fetch', { request: new Request(`${ORIGIN}/share`, { method: 'POST', body: form }) });
  assert.equal(res?.status, 303);
  const location = res?.headers.get('location') ?? '';
  assert.equal(location, `${ORIGIN}/?share=1`);
  assert.ok(openedByShare(new URL(location).search));

  const files = await takeSharedFiles(/** @type {any} */ (storage));
  assert.deepEqual(
    files.map((f) => [f.name, f.type, f.size]),
    [
      ['photo 1.jpg', 'image/jpeg', 3],
      ['ünïcödé%.txt', 'text/plain', 5],
    ],
  );
  assert.deepEqual([...new Uint8Array(await files[0].arrayBuffer())], [1, 2, 3]);
  assert.deepEqual(await takeSharedFiles(/** @type {any} */ (storage)), [], 'taken once');
});

test('shared text or a link without files becomes a text file', async () => {
  const { storage, dispatch } = loadWorker();
  const form = new FormData();
  form.append('title', 'A page');
  form.append('url', 'https://example.org/x');
  await dispatch('fetch', { request: new Request(`${ORIGIN}/share`, { method: 'POST', body: form }) });
  const [file, ...rest] = await takeSharedFiles(/** @type {any} */ (storage));
  assert.equal(rest.length, 0);
  assert.equal(file.name, 'shared-text.txt');
  assert.equal(await file.text(), 'A page\nhttps://example.org/x\n');
});

test('a page not opened by a share, or without Cache Storage, finds nothing', async () => {
  assert.equal(openedByShare(''), false);
  assert.equal(openedByShare('?share=0'), false);
  assert.deepEqual(await takeSharedFiles(undefined), []);
  assert.deepEqual(await takeSharedFiles(/** @type {any} */ (new FakeCacheStorage(async () => new Response()))), []);
});
