/**
 * @file The service worker: lets the installed app start offline, and receives files shared
 * to it ("Share -> Pairwise", the manifest's `share_target`). A classic script, no imports
 * (module service workers are not everywhere yet); checked by `tsc -p web/tsconfig.sw.json`
 * and by `web/test/sw.test.js`, which runs it against in-memory caches.
 *
 * - install: precaches the app shell ({@link SHELL}: every file the server ships) into a cache
 *   whose name changes whenever the list does; activates at once.
 * - activate: deletes the shell caches of earlier versions (never the share cache).
 * - fetch, app files and page loads: network first, so a new deployment is never served stale;
 *   the cache answers only when the network fails (offline). Everything else (`/ws`,
 *   `/healthz`, other origins) is left to the browser.
 * - fetch, `POST /share`: keeps the shared files in the share cache (the contract with
 *   `lib/files/share-inbox.js`: cache name, headers) and answers 303 to `/?share=1`, where the app
 *   queues them for the next pairing. Without this worker the server answers 303 to `/`.
 */

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/** Every file the server ships (see `crates/pairwise-server/src/assets.rs`), by URL path. */
const SHELL = [
  '/',
  '/app.js',
  '/style.css',
  '/manifest.webmanifest',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/lib/app/controller.js',
  '/lib/proto/b64.js',
  '/lib/proto/bytes.js',
  '/lib/proto/code.js',
  '/lib/net/connection.js',
  '/lib/net/device-link.js',
  '/lib/proto/device.js',
  '/lib/net/devices.js',
  '/lib/files/dropped.js',
  '/lib/proto/errors.js',
  '/lib/transfers/file-transfer.js',
  '/lib/files/folder-sink.js',
  '/lib/proto/flow.js',
  '/lib/files/folder-zip.js',
  '/lib/proto/handshake.js',
  '/lib/net/ice.js',
  '/lib/storage/idb.js',
  '/lib/transfers/incoming.js',
  '/lib/proto/session/io.js',
  '/lib/proto/key-schedule.js',
  '/lib/proto/keys.js',
  '/lib/proto/lane-pace.js',
  '/lib/net/lane-sender.js',
  '/lib/net/lanes-taken.js',
  '/lib/proto/lanes.js',
  '/lib/proto/limits.js',
  '/lib/proto/link.js',
  '/lib/proto/manifest.js',
  '/lib/proto/name.js',
  '/lib/files/opfs-worker.js',
  '/lib/transfers/outgoing.js',
  '/lib/net/peer.js',
  '/lib/proto/transfer/receiver.js',
  '/lib/proto/transfer/rules.js',
  '/lib/proto/transfer/sender.js',
  '/lib/formats/qr.js',
  '/lib/proto/record.js',
  '/lib/storage/received-store.js',
  '/lib/proto/remembered.js',
  '/lib/storage/resume-store.js',
  '/lib/proto/resume.js',
  '/lib/files/save-folder.js',
  '/lib/net/secure-channel.js',
  '/lib/net/session-driver.js',
  '/lib/proto/session.js',
  '/lib/files/share-inbox.js',
  '/lib/net/signaling.js',
  '/lib/files/sink.js',
  '/lib/storage/store.js',
  '/lib/proto/strict-json.js',
  '/lib/transfers/transfer-progress.js',
  '/lib/proto/transfer.js',
  '/lib/files/zip-worker.js',
  '/lib/formats/zip.js',
  '/ui/devices-view.js',
  '/ui/dom.js',
  '/ui/format.js',
  '/ui/kept-view.js',
  '/ui/pairing-view.js',
  '/ui/qr-canvas.js',
  '/ui/received-folders.js',
  '/ui/received-kept.js',
  '/ui/share-view.js',
  '/ui/text-view.js',
  '/ui/transfer-view.js',
];

const SHELL_PREFIX = 'pairwise-shell-';
/** The shell cache of this version: named after the list, so a new list starts afresh. */
const SHELL_CACHE = `${SHELL_PREFIX}${hash(SHELL.join('\n'))}`;

/** Shared files wait here for the page (same values as `lib/files/share-inbox.js`). */
const SHARE_CACHE = 'pairwise-share';
const NAME_HEADER = 'x-pairwise-name';
const SHARE_LANDING = '/?share=1';

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'no-cache' })));
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(SHELL_PREFIX) && name !== SHELL_CACHE) await caches.delete(name);
      }
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  if (request.method === 'POST' && url.pathname === '/share') {
    event.respondWith(receiveShare(request));
    return;
  }
  if (request.method !== 'GET') return;
  if (request.mode === 'navigate') {
    // Any page of the app is index.html; only "/" itself is kept (not, say, /healthz).
    event.respondWith(networkFirst(event, '/', url.pathname === '/'));
  } else if (SHELL.includes(url.pathname)) {
    event.respondWith(networkFirst(event, url.pathname, true));
  }
});

/**
 * The network's answer (kept in the shell cache when `keep` and it is a 200), or the cached
 * `key` when the network fails.
 * @param {FetchEvent} event
 * @param {string} key
 * @param {boolean} keep
 * @returns {Promise<Response>}
 */
async function networkFirst(event, key, keep) {
  try {
    const response = await fetch(event.request);
    if (keep && response.ok) {
      const copy = response.clone();
      event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put(key, copy)));
    }
    return response;
  } catch (error) {
    const cached = await caches.match(key, { cacheName: SHELL_CACHE });
    if (cached) return cached;
    throw error;
  }
}

/**
 * Keeps the shared files for the page and sends the browser to the app. Shared text or a link
 * without files becomes a small text file, so it can be sent like one.
 * @param {Request} request
 * @returns {Promise<Response>}
 */
async function receiveShare(request) {
  try {
    const form = await request.formData();
    const cache = await caches.open(SHARE_CACHE);
    const stamp = Date.now();
    let i = 0;
    for (const file of sharedFiles(form)) {
      const headers = {
        'content-type': file.type || 'application/octet-stream',
        [NAME_HEADER]: encodeURIComponent(file.name),
      };
      await cache.put(`/__shared/${stamp}-${i++}`, new Response(file, { headers }));
    }
  } catch {
    // Nothing kept: the app says nothing arrived and offers the file picker.
  }
  return Response.redirect(new URL(SHARE_LANDING, sw.location.href).href, 303);
}

/**
 * The files of a share target form (`files`), or its text as one text file.
 * @param {FormData} form
 * @returns {File[]}
 */
function sharedFiles(form) {
  const files = /** @type {File[]} */ (form.getAll('files').filter((v) => typeof v !== 'string'));
  if (files.length > 0) return files;
  const text = ['title', 'text', 'url']
    .map((k) => form.get(k))
    .filter((v) => typeof v === 'string' && v.trim() !== '')
    .join('\n');
  return text ? [new File([`${text}\n`], 'shared-text.txt', { type: 'text/plain' })] : [];
}

/**
 * A short stable name for a string (FNV-1a, 32 bits, hex).
 * @param {string} s
 * @returns {string}
 */
function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
