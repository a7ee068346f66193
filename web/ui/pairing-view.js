/**
 * @file The pairing screens: home, the QR code with its link, status, verification code and
 * error sentence. Shows state; the wiring lives in `app.js`.
 */

import { encodeQr } from '../lib/formats/qr.js';
import { showCode, showNumber } from '../lib/proto/code.js';
import { sentence } from '../lib/proto/errors.js';
import { drawQr } from './qr-canvas.js';
import { byId } from './dom.js';
import { sasGroups } from './format.js';

const STATUS_TEXT = /** @type {Record<string, string>} */ ({
  idle: 'Not paired',
  waiting: 'Waiting for the other device…',
  connecting: 'Connecting…',
  paired: 'Paired',
  error: 'Not connected',
  ended: 'Pairing done: the device is remembered under "Your devices"',
});

/** Remembered devices, and how many are online: what the idle status line says. */
const devices = { known: 0, online: 0 };

/**
 * The idle line: "Not paired" only when no device is remembered; otherwise how many are online
 * (it said "Not paired" while a remembered device was online and sending).
 * @returns {string}
 */
function idleText() {
  if (devices.known === 0) return STATUS_TEXT.idle;
  if (devices.online === 0) return devices.known === 1 ? 'Your device is offline' : 'None of your devices is online';
  return devices.online === 1 ? '1 device online' : `${devices.online} devices online`;
}

/**
 * Sets the status line and its `data-state`.
 * @param {string} state idle|waiting|connecting|paired|error|ended
 */
export function showStatus(state) {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = state === 'idle' ? idleText() : (STATUS_TEXT[state] ?? state);
}

/**
 * How many devices are remembered and online, for the idle status line.
 * @param {number} known
 * @param {number} online
 */
export function showDeviceCount(known, online) {
  devices.known = known;
  devices.online = online;
  if (byId('status').dataset.state === 'idle') showStatus('idle');
}

/**
 * Shows the QR code and link of a new pairing.
 * @param {string} link
 */
export function showPairing(link) {
  byId('home').hidden = true;
  byId('pairing').hidden = false;
  byId('pair-link', HTMLInputElement).value = link;
  drawQr(byId('qr', HTMLCanvasElement), encodeQr(link));
}

/**
 * Shows the code of a new pairing by code.
 * @param {string} code 8 digits
 */
export function showPairingCode(code) {
  byId('home').hidden = true;
  byId('code-pairing').hidden = false;
  byId('pair-code').textContent = showCode(code);
}

/**
 * Asks whether the other screen shows the same number (pairing by code); `answer` gets the
 * person's reply once, and the question goes away.
 * @param {string} number six digits
 * @param {(yes: boolean) => void} answer
 */
export function askNumbers(number, answer) {
  byId('home').hidden = true;
  byId('code-pairing').hidden = true;
  const box = byId('compare');
  box.hidden = false;
  byId('compare-number').textContent = showNumber(number);
  const yes = byId('numbers-match', HTMLButtonElement);
  const no = byId('numbers-differ', HTMLButtonElement);
  /** @param {boolean} said */
  const reply = (said) => {
    yes.onclick = null;
    no.onclick = null;
    yes.disabled = true;
    no.disabled = true;
    if (!said) box.hidden = true;
    answer(said);
  };
  yes.disabled = false;
  no.disabled = false;
  yes.onclick = () => reply(true);
  no.onclick = () => reply(false);
}

/**
 * Shows the paired screen with the verification code.
 * @param {string} sas six digits
 */
export function showPaired(sas) {
  byId('home').hidden = true;
  byId('pairing').hidden = true;
  byId('code-pairing').hidden = true;
  byId('compare').hidden = true;
  byId('paired').hidden = false;
  byId('sas').textContent = sasGroups(sas);
  showStatus('paired');
}

/**
 * Shows an error sentence from the catalogue; the code is kept in `data-code`.
 * @param {string} code
 */
export function showError(code) {
  // A pairing that failed asks nothing more: no code to type, no numbers to compare.
  byId('code-pairing').hidden = true;
  byId('compare').hidden = true;
  const box = byId('error');
  box.dataset.code = code;
  box.textContent = sentence(code);
  box.hidden = false;
}

/**
 * Shows a problem of this device alone (not a protocol failure, so not in the catalogue).
 * @param {string} text a sentence that says what happened and what to do
 */
export function showProblem(text) {
  const box = byId('error');
  box.dataset.code = 'local';
  box.textContent = text;
  box.hidden = false;
}

/**
 * The pairing session ended after its device was remembered: back to the home screen, where
 * the device is listed (its own sessions continue there).
 */
export function showPairingEnded() {
  byId('paired').hidden = true;
  byId('pairing').hidden = true;
  byId('home').hidden = false;
  showStatus('ended');
}

/**
 * Back to the home screen, from a pairing shown (its QR code or code, cancelled) or made
 * ("Pair another device": that device's session goes on under "Your devices").
 */
export function showHome() {
  for (const id of ['pairing', 'code-pairing', 'compare', 'paired']) byId(id).hidden = true;
  byId('home').hidden = false;
  byId('error').hidden = true;
  showStatus('idle');
}

/** Hides the home screen (a link was opened). */
export function hideHome() {
  byId('home').hidden = true;
}
