/**
 * @file Short texts (§11.2) on screen: the form that sends one, and the list of texts sent and
 * received, each with a Copy button. Texts from the other device are shown as text only: a link
 * is not opened or made clickable by itself.
 */

import { byId, el } from './dom.js';

/**
 * Adds a text to `#texts`.
 * @param {string} text
 * @param {'sent' | 'received'} direction
 */
export function showText(text, direction) {
  byId('texts-section').hidden = false;
  const item = el('li', `text ${direction}`);
  item.dataset.direction = direction;
  const body = el('pre', 'text-body', text);
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
