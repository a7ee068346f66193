/**
 * @file Files shared to the app ("Share -> Pairwise") that wait for a paired device: how many,
 * their names and sizes. `#shared[data-count]` is part of the UI contract the end-to-end tests
 * read.
 */

import { byId, el } from './dom.js';
import { bytes } from './format.js';

/**
 * Shows the shared files that will be sent once a device is paired.
 * @param {File[]} files
 */
export function showShared(files) {
  const box = byId('shared');
  box.dataset.count = String(files.length);
  byId('shared-text').textContent =
    files.length === 0
      ? 'Nothing to send arrived with the share. Pair a device, then choose the files here.'
      : `${files.length === 1 ? 'This file' : `These ${files.length} files`} will be sent to the device you pair with:`;
  const list = byId('shared-files');
  list.replaceChildren(...files.map((f) => el('li', 'shared-file', `${f.name} (${bytes(f.size)})`)));
  box.hidden = false;
}

/** Hides the list once the files are on their way (their progress rows take over). */
export function hideShared() {
  byId('shared').hidden = true;
}
