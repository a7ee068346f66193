/**
 * @file The "Your devices" list on the home screen: this device's own name (editable) and one
 * entry per paired device (`li.device[data-device-id][data-presence]`) with its name, a rename
 * field, "Accept files without asking", "Send files" (while online; files dropped on the entry
 * go the same way) and "Forget" (which asks first), plus its last error as a catalogue sentence. Device names come from other devices: shown as text only.
 * Shows state; the wiring lives in `app.js`.
 */

/** @import { DeviceView } from '../lib/net/devices.js' */

import { droppedFiles } from '../lib/files/dropped.js';
import { isDeviceName } from '../lib/proto/device.js';
import { sentence } from '../lib/proto/errors.js';
import { byId, el } from './dom.js';

/**
 * What the person can do to a device.
 * @typedef {object} DeviceActions
 * @property {(id: string, name: string) => void} rename
 * @property {(id: string, on: boolean) => void} autoAccept
 * @property {(id: string, files: File[]) => void} send
 * @property {(id: string) => void} forget
 */

/** @type {Map<string, { li: HTMLLIElement, update: (d: DeviceView) => void }>} */
const entries = new Map();

/**
 * Draws the list: entries are kept by device id and updated in place.
 * @param {DeviceView[]} devices
 * @param {DeviceActions} actions
 */
export function showDevices(devices, actions) {
  const list = byId('devices');
  const seen = new Set();
  for (const d of devices) {
    seen.add(d.id);
    let entry = entries.get(d.id);
    if (!entry) {
      entry = createEntry(d.id, actions);
      entries.set(d.id, entry);
    }
    entry.update(d);
    list.append(entry.li);
  }
  for (const [id, entry] of entries) {
    if (seen.has(id)) continue;
    entry.li.remove();
    entries.delete(id);
  }
  byId('devices-empty').hidden = devices.length > 0;
  byId('devices-section').hidden = false;
}

/**
 * Shows this device's own name and saves edits.
 * @param {string} name
 * @param {(name: string) => void} save
 */
export function showOwnName(name, save) {
  const input = byId('own-name', HTMLInputElement);
  input.value = name;
  const button = byId('own-name-save', HTMLButtonElement);
  button.onclick = () => {
    const next = input.value.trim();
    if (isDeviceName(next)) save(next);
    else input.value = name;
  };
}

/**
 * A sentence about a device that is no longer in the list (e.g. it forgot this one).
 * @param {string} code a catalogue code, or an app code with its own `text`
 * @param {string} name the device's name
 * @param {string} [text] instead of the catalogue sentence
 */
export function showDeviceNotice(code, name, text = sentence(code)) {
  const box = byId('devices-notice');
  box.dataset.code = code;
  box.textContent = name ? `${name}: ${text}` : text;
  box.hidden = false;
}

/**
 * @param {string} id
 * @param {DeviceActions} actions
 */
function createEntry(id, actions) {
  const li = el('li', 'device');
  li.dataset.deviceId = id;
  const name = el('span', 'device-name');
  const presence = el('span', 'presence');
  const head = el('div', 'device-head');
  head.append(name, presence);

  const renameInput = el('input', 'device-rename-input');
  renameInput.setAttribute('aria-label', 'New name for this device');
  renameInput.placeholder = 'New name';
  const renameButton = el('button', 'device-rename secondary', 'Rename');
  renameButton.type = 'button';
  renameButton.addEventListener('click', () => {
    const next = renameInput.value.trim();
    if (isDeviceName(next)) actions.rename(id, next);
    renameInput.value = '';
  });

  const auto = el('input', 'device-auto-accept');
  auto.type = 'checkbox';
  auto.addEventListener('change', () => actions.autoAccept(id, auto.checked));
  const autoLabel = el('label', 'device-auto');
  autoLabel.append(auto, ' Accept files without asking');

  const files = el('input', 'device-files picker');
  files.type = 'file';
  files.multiple = true;
  files.addEventListener('change', () => {
    const chosen = [...(files.files ?? [])];
    files.value = '';
    if (chosen.length > 0) actions.send(id, chosen);
  });
  const sendLabel = el('label', 'device-send pick');
  sendLabel.append('Send files', files);

  // Forgetting cannot be undone (pairing again needs both devices and a QR code or a code),
  // so the button asks first, in place.
  const forget = el('button', 'device-forget secondary', 'Forget');
  forget.type = 'button';
  const ask = el('span', 'device-forget-ask');
  ask.hidden = true;
  const askText = el('span', 'device-forget-question');
  const yes = el('button', 'device-forget-yes danger', 'Forget');
  yes.type = 'button';
  const no = el('button', 'device-forget-no secondary', 'Keep');
  no.type = 'button';
  ask.append(askText, ' ', yes, ' ', no);
  forget.addEventListener('click', () => {
    askText.textContent = `Forget ${name.textContent}? Sending to it again needs a new pairing.`;
    forget.hidden = true;
    ask.hidden = false;
    no.focus();
  });
  no.addEventListener('click', () => {
    ask.hidden = true;
    forget.hidden = false;
  });
  yes.addEventListener('click', () => actions.forget(id));

  // Files dropped on an online device's entry are sent to it, like "Send files".
  let online = false;
  li.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = online ? 'copy' : 'none';
    li.classList.toggle('over', online);
  });
  li.addEventListener('dragleave', () => li.classList.remove('over'));
  li.addEventListener('drop', (ev) => {
    ev.preventDefault();
    li.classList.remove('over');
    if (!online || !ev.dataTransfer) return;
    droppedFiles(ev.dataTransfer).then(
      (chosen) => chosen.length > 0 && actions.send(id, chosen),
      () => {},
    );
  });

  const error = el('p', 'device-error');
  error.setAttribute('role', 'status');
  error.hidden = true;

  const tools = el('div', 'device-tools');
  tools.append(renameInput, renameButton, autoLabel, sendLabel, forget, ask);
  li.append(head, tools, error);

  /** @param {DeviceView} d */
  const update = (d) => {
    li.dataset.presence = d.online ? 'online' : 'offline';
    name.textContent = d.name;
    presence.textContent = d.online ? 'Online' : 'Offline';
    auto.checked = d.autoAccept;
    online = d.online;
    files.disabled = !d.online;
    // An offline device's "Send files" must not look like it does something.
    sendLabel.classList.toggle('disabled', !d.online);
    sendLabel.setAttribute('aria-disabled', String(!d.online));
    sendLabel.title = d.online ? '' : 'Files can be sent while the device is online';
    if (d.error && !d.online) {
      error.dataset.code = d.error;
      error.textContent = sentence(d.error);
      error.hidden = false;
    } else {
      delete error.dataset.code;
      error.textContent = '';
      error.hidden = true;
    }
  };
  return { li, update };
}
