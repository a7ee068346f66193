/**
 * @file The error catalogue of protocol v1 (`docs/protocol.md` §9): one code per failure the user
 * can meet, each with the sentence the UI shows, and `ProtocolError`, the only error type the
 * protocol modules throw. Mirrors `crates/pairwise-proto/src/error.rs`; the order and text are
 * checked against `testdata/vectors/errors.json`.
 */

/** @import { ErrorCode } from '../../types/protocol.js' */

/**
 * Code -> user sentence, in the order of §9.
 * @type {Readonly<Record<ErrorCode, string>>}
 */
export const ERRORS = Object.freeze({
  'bad-link': 'This pairing link is not valid. Ask the other device for a new QR code.',
  'room-full': 'This pairing link was already used. Ask the other device for a new QR code.',
  'bad-code': 'That is not a pairing code: it has 8 digits, like 4821 9377. Check it and type it again.',
  'code-unknown': 'No device is showing this code. Check the digits, or ask the other device for a new code.',
  'code-used': 'This code was already used by another device. Ask the other device for a new code.',
  'numbers-differ':
    'The numbers on the two screens did not match, so the devices were not paired: someone may be in between. Start again with a new code.',
  'link-expired':
    'This pairing link has expired: the device that showed it is no longer waiting. Ask it for a new QR code.',
  'peer-left': 'The other device left. Open Pairwise on both devices again to continue (pair again if they are not paired).',
  'verify-failed':
    'Could not verify the other device: the connection may have been tampered with. Pair again.',
  'peer-misbehaved':
    'The other device sent something invalid, so the connection was closed. Pair again.',
  'record-rejected':
    'A piece of data failed its integrity check, so the connection was closed; the file being received then was not saved (files completed before it are kept). Try sending again.',
  'bad-name': 'The other device offered a file with an unsafe name, so it was refused.',
  'name-refused':
    'The other device refused a file name it cannot use (a reserved or unsafe name there). Rename the file and send again.',
  'peer-refused':
    'The other device ended the session because of an error on its side (it could not use what this device sent). Try again; if it happens again, update Pairwise on both devices.',
  incomplete:
    'The connection ended before the transfer finished; incomplete files were not saved. Try sending again.',
  cancelled: 'The transfer was cancelled.',
  declined: 'The other device declined the files.',
  'signaling-lost': 'Lost the connection to the server. Check the network and reload the page.',
  'connect-failed':
    "Could not connect to the other device, directly or through the server's relay. Check that both are online and try again.",
  'no-route':
    'Could not connect the two devices: their networks allow no direct connection, and this server offers no relay to pass the files through. Put both on the same network, or ask whoever runs the server to enable its relay.',
  'unknown-device':
    "The other device says it does not recognise this device's key (was it reset, or its key file replaced?). The server could have sent that answer, so the device stays paired here; if the other device was reset, pair again with a QR code.",
  'key-changed':
    'The paired device came back with a different key (was it reset, or restored on another device?), so it was not let in. If it is yours, forget it here and pair again with a QR code.',
  forgotten: 'The other device has forgotten this one. Pair again with a QR code to send files.',
  'bad-message': 'The message could not be read.',
  'too-large': 'The message is too large.',
  'not-joined': 'Join a room first.',
  'no-peer': 'Nobody else is in the room yet.',
  'rate-limited':
    'The server is refusing new sessions from this network for a minute (too many in a short time). Try again in a minute.',
});

/**
 * How a live session ends without anything having failed: the peer left or the path was lost.
 * The page shows these as a session that is over, not as an error (a remembered device's row,
 * the pairing view); every other code is a failure with its sentence.
 */
export const SESSION_OVER = Object.freeze(new Set(['peer-left', 'connect-failed']));

/**
 * Failures a side finds in what the peer sent, and tells it about with `close {"code": …}`
 * before it closes (§6.1); others (the channel closed, the network failed) it cannot or need not.
 */
export const REFUSALS = Object.freeze(new Set(['bad-name', 'peer-misbehaved', 'record-rejected']));

/**
 * What a peer's `close` code means here (§6.1): `name-refused` for its `bad-name`, otherwise
 * `peer-refused`.
 * @param {ErrorCode} peerCode
 * @returns {ErrorCode}
 */
export function refusedAs(peerCode) {
  return peerCode === 'bad-name' ? 'name-refused' : 'peer-refused';
}

/** Shown for a code that is not in the catalogue (e.g. a newer server's). */
const UNKNOWN = 'Something went wrong. Pair again.';

/**
 * The user sentence for `code`; a generic sentence for a code outside the catalogue.
 * @param {string} code
 * @returns {string}
 */
export function sentence(code) {
  return Object.hasOwn(ERRORS, code) ? ERRORS[/** @type {ErrorCode} */ (code)] : UNKNOWN;
}

/** A protocol failure with its catalogue code; `message` is for developers, never for users. */
export class ProtocolError extends Error {
  /**
   * @param {ErrorCode | string} code a catalogue code (§9)
   * @param {string} [detail] what exactly went wrong, for logs and tests
   */
  constructor(code, detail) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'ProtocolError';
    /** The catalogue code (§9). */
    this.code = code;
  }
}
