/**
 * @file Transfers this device partly received and keeps to continue (`lib/storage/resume-store.js`,
 * `docs/protocol.md` §11.3), listed when the app starts (after a reload, or a tab closed
 * mid-transfer) so the user sees what is kept and why storage is used. A row goes when its
 * sender offers the transfer again (the live transfer row takes over) or when the user
 * discards it (its bytes are removed).
 */

/** @import { PartialRecord } from '../lib/storage/resume-store.js' */

import { keptBytes } from '../lib/storage/resume-store.js';
import { byId, el } from './dom.js';
import { bytes } from './format.js';

/**
 * @typedef {object} KeptActions
 * @property {(peer: string) => string} deviceName the sending device's name as shown here
 * @property {(record: PartialRecord) => Promise<void>} discard removes a kept transfer
 */

/**
 * Lists the kept transfers that hold bytes.
 * @param {PartialRecord[]} records
 * @param {KeptActions} actions
 */
export function showKept(records, actions) {
  const list = byId('kept');
  for (const r of records) {
    const files = Object.values(r.files).filter((f) => f.offset > 0);
    if (files.length === 0 || list.querySelector(`li[data-transfer-id="${CSS.escape(r.id)}"]`)) continue;
    const kept = keptBytes(r);
    const first = files[0]?.path ?? '';
    const more = files.length > 1 ? ` and ${files.length - 1} more` : '';
    const device = actions.deviceName(r.peer);
    const li = el('li', 'kept');
    li.dataset.transferId = r.id;
    const what = el('span', 'kept-what', `${first}${more} from ${device}`);
    const stats = el('span', 'stats', `${bytes(kept)} kept; it continues when ${device} sends it again`);
    const discard = el('button', 'kept-discard secondary', 'Discard');
    discard.type = 'button';
    discard.addEventListener('click', () => {
      discard.disabled = true;
      actions.discard(r).then(() => removeRow(li), () => (discard.disabled = false));
    });
    li.append(what, el('br'), stats, el('br'), discard);
    list.append(li);
  }
  byId('kept-section').hidden = list.childElementCount === 0;
}

/**
 * The transfer `id` is live again (offered anew): its kept row goes.
 * @param {string | null | undefined} id
 */
export function dropKept(id) {
  if (!id) return;
  const li = byId('kept').querySelector(`li[data-transfer-id="${CSS.escape(id)}"]`);
  if (li) removeRow(li);
}

/** @param {Element} li */
function removeRow(li) {
  li.remove();
  byId('kept-section').hidden = byId('kept').childElementCount === 0;
}
