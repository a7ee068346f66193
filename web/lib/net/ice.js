/**
 * @file ICE servers from the signaling server (`docs/protocol.md` §4.1) and the transport policy.
 * The server is untrusted: its list is a hint, checked and capped like the Rust twin
 * (`usable_ice_servers` in `crates/pairwise-proto/src/signal.rs`), pinned by
 * `testdata/vectors/ice.json`. A bad entry is skipped, never an error: at worst the devices
 * connect only where a direct path exists.
 */

import { MAX_ICE_SERVERS, MAX_ICE_URL_BYTES, MAX_ICE_URLS } from '../proto/limits.js';

const utf8 = new TextEncoder();

/** @param {unknown} v */
const shortString = (v) => typeof v === 'string' && utf8.encode(v).length <= MAX_ICE_URL_BYTES;

/**
 * The first MAX_ICE_SERVERS usable entries of a `joined` frame's `ice`, as `RTCIceServer`s.
 * @param {unknown} ice
 * @returns {RTCIceServer[]}
 */
export function usableIceServers(ice) {
  if (!Array.isArray(ice)) return [];
  /** @type {RTCIceServer[]} */
  const out = [];
  for (const entry of ice) {
    if (out.length >= MAX_ICE_SERVERS) break;
    const server = usable(entry);
    if (server) out.push(server);
  }
  return out;
}

/**
 * @param {any} e
 * @returns {RTCIceServer | null}
 */
function usable(e) {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return null;
  if (Object.keys(e).some((k) => !['urls', 'username', 'credential'].includes(k))) return null;
  // A null field counts as absent, as in the Rust client (serde's `Option`).
  const urls = e.urls;
  const username = e.username ?? undefined;
  const credential = e.credential ?? undefined;
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_ICE_URLS) return null;
  if (username !== undefined && typeof username !== 'string') return null;
  if (credential !== undefined && typeof credential !== 'string') return null;
  const hasCredentials = shortString(username) && shortString(credential);
  for (const u of urls) {
    if (!shortString(u)) return null;
    const turn = u.startsWith('turn:') || u.startsWith('turns:');
    if (!u.startsWith('stun:') && !(turn && hasCredentials)) return null;
  }
  /** @type {RTCIceServer} */
  const server = { urls: [...urls] };
  if (username !== undefined) server.username = username;
  if (credential !== undefined) server.credential = credential;
  return server;
}

/**
 * The page's ICE transport policy: `relay` when its address says `?ice=relay` (tests force the
 * relay with it; a person may use it to keep their address from the other device), else `all`.
 * @param {string} [search] `location.search`
 * @returns {RTCIceTransportPolicy}
 */
export function iceTransportPolicy(search = globalThis.location?.search ?? '') {
  return new URLSearchParams(search).get('ice') === 'relay' ? 'relay' : 'all';
}
