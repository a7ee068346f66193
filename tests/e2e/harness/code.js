/**
 * @file Pairing by code through the UI (docs/protocol.md §2.1): show a code, type it, read the
 * numbers each screen asks about, answer them.
 */

import { T, waitPaired } from './app.js';

/** @typedef {import('./peer.js').Peer} Peer */
/** @typedef {import('./peer.js').Witness} Witness */

/**
 * Clicks "Pair with a code" and reads the code from the screen.
 * @param {Peer} peer
 * @returns {Promise<string>} the code as shown ("4821 9377")
 */
export async function showCode(peer) {
  await peer.click('#code-button', { timeout: T.ui });
  const code = await peer.waitUntil(
    '#pair-code to show a code',
    () => {
      const t = (document.querySelector('#pair-code')?.textContent ?? '').trim();
      return /^\d{4} \d{4}$/.test(t) ? t : null;
    },
    undefined,
    { timeout: T.ui },
  );
  await peer.waitAttr('#status', 'data-state', 'waiting', { timeout: T.ui });
  return code;
}

/**
 * Types `code` under "Have a code?" and submits it.
 * @param {Peer} peer
 * @param {string} code
 */
export async function typeCode(peer, code) {
  await peer.fill('#code-input', code);
  await peer.click('#code-join');
}

/**
 * Waits until the screen asks to compare numbers; returns the number as shown ("482 193").
 * @param {Peer} peer
 * @param {Witness[]} [also]
 */
export function readNumbers(peer, also = []) {
  return peer.waitUntil(
    '#compare-number to show six digits',
    () => {
      const box = document.querySelector('#compare');
      const t = (document.querySelector('#compare-number')?.textContent ?? '').trim();
      return box && box.getClientRects().length > 0 && /^\d{3} \d{3}$/.test(t) ? t : null;
    },
    undefined,
    { timeout: T.pair, also },
  );
}

/**
 * Answers the comparison.
 * @param {Peer} peer
 * @param {boolean} same
 */
export async function answerNumbers(peer, same) {
  await peer.click(same ? '#numbers-match' : '#numbers-differ');
}

/**
 * Pairs `initiator` (shows the code) with `responder` (types it), both people saying the
 * numbers match; returns the numbers and the SAS both show.
 * @param {Peer} initiator
 * @param {Peer} responder
 * @param {string} origin
 */
export async function pairByCode(initiator, responder, origin) {
  await Promise.all([initiator.goto(`${origin}/`), responder.goto(`${origin}/`)]);
  const code = await showCode(initiator);
  await typeCode(responder, code);
  const [a, b] = await Promise.all([readNumbers(initiator, [responder]), readNumbers(responder, [initiator])]);
  await Promise.all([answerNumbers(initiator, true), answerNumbers(responder, true)]);
  const [sasA, sasB] = await Promise.all([waitPaired(initiator, [responder]), waitPaired(responder, [initiator])]);
  return { code, numbers: [a, b], sas: [sasA, sasB] };
}
