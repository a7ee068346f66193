/**
 * @file Files shared to the app from another app ("Share -> Pairwise", the web app manifest's
 * `share_target`). The service worker (`sw.js`) receives the shared form, keeps each file in
 * Cache Storage under {@link SHARE_CACHE} and sends the page to `/?share=1`; this module takes
 * them out again, once, as `File`s for the send queue. These constants are the contract with
 * `sw.js`, which cannot import modules (it is a classic script); `test/sw.test.js` checks
 * both sides together.
 *
 * Shell module: touches Cache Storage (passed in, so tests give it an in-memory one), never
 * the DOM or the network.
 */

/** Cache Storage cache holding shared files until the page takes them. */
export const SHARE_CACHE = 'pairwise-share';
/** Header carrying the file name, percent-encoded (names may hold any character). */
export const NAME_HEADER = 'x-pairwise-name';
/** Query of the page the service worker redirects to after a share. */
export const SHARE_QUERY = 'share';

/**
 * Whether the page was opened by the service worker after a share (`?share=1`).
 * @param {string} search `location.search`
 * @returns {boolean}
 */
export function openedByShare(search) {
  return new URLSearchParams(search).get(SHARE_QUERY) === '1';
}

/**
 * Takes every kept shared file out of `storage`, oldest first, and deletes it there.
 * @param {CacheStorage | undefined} storage `globalThis.caches` (absent on insecure pages)
 * @returns {Promise<File[]>}
 */
export async function takeSharedFiles(storage) {
  if (!storage || !(await storage.has(SHARE_CACHE))) return [];
  const cache = await storage.open(SHARE_CACHE);
  /** @type {File[]} */
  const files = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    if (response) files.push(await fileFrom(response));
    await cache.delete(request);
  }
  return files;
}

/**
 * The `File` kept in `response` (by `sw.js`).
 * @param {Response} response
 * @returns {Promise<File>}
 */
export async function fileFrom(response) {
  const raw = response.headers.get(NAME_HEADER) ?? '';
  let name;
  try {
    name = decodeURIComponent(raw);
  } catch {
    name = raw;
  }
  const blob = await response.blob();
  return new File([blob], name || 'shared-file', { type: response.headers.get('content-type') ?? '' });
}
