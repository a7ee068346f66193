/**
 * @file Number formatting for people: byte counts, rates and durations.
 */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/**
 * Formats a byte count in decimal units, e.g. `64.0 MB`.
 * @param {number} n
 * @returns {string}
 */
export function bytes(n) {
  let i = 0;
  while (n >= 1000 && i < UNITS.length - 1) {
    n /= 1000;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${UNITS[i]}`;
}

/**
 * Formats a transfer rate, e.g. `21.4 MB/s`.
 * @param {number} perSecond
 * @returns {string}
 */
export function rate(perSecond) {
  return `${bytes(Math.round(perSecond))}/s`;
}

/**
 * The time left for `remaining` bytes at `perSecond`, for people: `about 2 h 05 min left`,
 * `about 3 min left`, `under a minute left`; empty while the rate is unknown.
 * @param {number} remaining bytes
 * @param {number} perSecond
 * @returns {string}
 */
export function timeLeft(remaining, perSecond) {
  if (!(perSecond > 0) || !Number.isFinite(remaining) || remaining <= 0) return '';
  const secs = remaining / perSecond;
  if (secs < 60) return 'under a minute left';
  const mins = Math.round(secs / 60);
  if (mins < 60) return `about ${mins} min left`;
  return `about ${Math.floor(mins / 60)} h ${String(mins % 60).padStart(2, '0')} min left`;
}

/**
 * Formats the 6-digit verification code as two groups, e.g. `123 456`.
 * @param {string} sas
 * @returns {string}
 */
export function sasGroups(sas) {
  return `${sas.slice(0, 3)} ${sas.slice(3)}`;
}
