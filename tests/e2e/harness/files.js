/**
 * @file Test files on disk: a temp directory with the three sizes every transfer test sends
 * (0 bytes, 1 byte, 64 MiB of random bytes), their SHA-256, and hashing of files in node.
 */

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where failing tests leave screenshots and the like (git-ignored). */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

export const MiB = 1024 * 1024;

/**
 * @typedef {object} TestFile
 * @property {string} name
 * @property {string} path
 * @property {number} size
 * @property {string} sha256 hex
 */

/**
 * Writes files of the given sizes (random content) into a fresh temp directory.
 * @param {{ name: string, size: number }[]} specs
 * @returns {{ dir: string, files: TestFile[], remove: () => void }}
 */
export function makeFiles(specs) {
  const dir = mkdtempSync(join(tmpdir(), 'pairwise-e2e-'));
  const files = specs.map(({ name, size }) => writeRandomFile(dir, name, size));
  return { dir, files, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Writes `size` random bytes to `dir/name`, hashing them on the way.
 * @param {string} dir
 * @param {string} name
 * @param {number} size
 * @returns {TestFile}
 */
export function writeRandomFile(dir, name, size) {
  const path = join(dir, name);
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < size; ) {
      const chunk = randomBytes(Math.min(4 * MiB, size - done));
      writeSync(fd, chunk);
      hash.update(chunk);
      done += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return { name, path, size, sha256: hash.digest('hex') };
}

/** The three files every transfer test sends; `prefix` keeps names distinct per direction. */
export function standardFiles(prefix = '') {
  return makeFiles([
    { name: `${prefix}empty.bin`, size: 0 },
    { name: `${prefix}one-byte.bin`, size: 1 },
    { name: `${prefix}random-64MiB.bin`, size: 64 * MiB },
  ]);
}

/** @param {string} path @returns {Promise<{ sha256: string, size: number }>} */
export function hashFile(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(path)
      .on('data', (d) => {
        hash.update(d);
        size += d.length;
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), size }));
  });
}
