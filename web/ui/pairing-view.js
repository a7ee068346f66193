/**
 * @file The pairing screens: home, the QR code with its link, status, verification code and
 * error sentence. Shows state; the wiring lives in `app.js`.
 */

import { encodeQr } from '../lib/formats/qr.js';
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

/**
 * Sets the status line and its `data-state`.
 * @param {string} state idle|waiting|connecting|paired|error|ended
 */
export function showStatus(state) {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = STATUS_TEXT[state] ?? state;
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
 * Shows the paired screen with the verification code.
 * @param {string} sas six digits
 */
export function showPaired(sas) {
  byId('home').hidden = true;
  byId('pairing').hidden = true;
  byId('paired').hidden = false;
  byId('sas').textContent = sasGroups(sas);
  showStatus('paired');
}

/**
 * Shows an error sentence from the catalogue; the code is kept in `data-code`.
 * @param {string} code
 */
export function showError(code) {
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

/** Hides the home screen (a link was opened). */
export function hideHome() {
  byId('home').hidden = true;
}
