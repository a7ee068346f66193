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
 * Formats the 6-digit verification code as two groups, e.g. `123 456`.
 * @param {string} sas
 * @returns {string}
 */
export function sasGroups(sas) {
  return `${sas.slice(0, 3)} ${sas.slice(3)}`;
}
