/**
 * @file Short texts (§11.2) on screen: the form that sends one, and the list of texts sent and
 * received, each with a Copy button. Texts from the other device are shown as text: markup is
 * never interpreted, and only `http:` and `https:` addresses become links (opened in a new tab,
 * `rel="noopener noreferrer"`, so the page they open cannot reach this one); nothing is opened by
 * itself.
 */

import { byId, el } from './dom.js';

/** An http(s) address in running text; trailing punctuation is the sentence's, not the link's. */
const ADDRESS = /https?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

/**
 * `text` as text nodes and links for its http(s) addresses.
 * @param {string} text
 * @returns {(Text | HTMLAnchorElement)[]}
 */
export function linkified(text) {
  /** @type {(Text | HTMLAnchorElement)[]} */
  const out = [];
  let at = 0;
  for (const m of text.matchAll(ADDRESS)) {
    const address = m[0].replace(TRAILING, '');
    /** @type {URL | null} */
    let url = null;
    try {
      url = new URL(address);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) continue;
    const start = /** @type {number} */ (m.index);
    if (start > at) out.push(document.createTextNode(text.slice(at, start)));
    const a = el('a', 'text-link', address);
    a.href = url.href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    out.push(a);
    at = start + address.length;
  }
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

/**
 * Adds a text to `#texts`.
 * @param {string} text
 * @param {'sent' | 'received'} direction
 */
export function showText(text, direction) {
  byId('texts-section').hidden = false;
  const item = el('li', `text ${direction}`);
  item.dataset.direction = direction;
  const body = el('pre', 'text-body');
  body.append(...linkified(text));
  const copy = el('button', 'secondary copy-text', 'Copy');
  copy.type = 'button';
  copy.addEventListener('click', () => {
    navigator.clipboard?.writeText(text).catch(() => {});
  });
  item.append(el('span', 'hint', direction === 'sent' ? 'You sent' : 'Received'), body, copy);
  byId('texts').prepend(item);
}

/**
 * Wires `#text-form`: `send` is called with the text as typed (blank texts are not sent).
 * @param {(text: string) => void} send
 */
export function wireTextForm(send) {
  const form = byId('text-form', HTMLFormElement);
  const input = byId('text-input', HTMLTextAreaElement);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (text.trim() === '') return;
    input.value = '';
    send(text);
  });
}
