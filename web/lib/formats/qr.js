/**
 * @file QR Code Model 2 encoder (ISO/IEC 18004), written for this project: no DOM, no dependencies.
 * It owns the whole pipeline from text to module matrix: UTF-8 byte-mode segment, smallest version
 * (1..40) for the error-correction level, padding, Reed-Solomon over GF(256) per block, block
 * interleaving, function patterns, zig-zag data placement, format/version information and mask
 * selection by the standard's four penalty rules. Drawing lives in `ui/qr-canvas.js`.
 *
 * Checked against shared vectors made with the Rust `qrcode` crate (testdata/vectors/qr.json).
 */

/** @typedef {'L'|'M'|'Q'|'H'} Ecl */

/**
 * An encoded symbol: `modules[row * size + col]` is 1 for dark, 0 for light (no quiet zone).
 * @typedef {object} QrCode
 * @property {number} version 1..40
 * @property {Ecl} ecl
 * @property {number} mask 0..7, the data mask pattern used
 * @property {number} size modules per side, `4 * version + 17`
 * @property {Uint8Array} modules row-major, length `size * size`
 */

// Per ECL, indexed by version (entry 0 unused): EC codewords per block, and number of blocks.
// Values from the standard's table of error correction characteristics.
/** @type {Record<Ecl, number[]>} */
const EC_PER_BLOCK = {
  L: [0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  M: [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
  Q: [0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
  H: [0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
};
/** @type {Record<Ecl, number[]>} */
const BLOCKS = {
  L: [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
  M: [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
  Q: [0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
  H: [0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
};
/** Format-information ECL bits (L=01, M=00, Q=11, H=10). */
const ECL_BITS = { L: 1, M: 0, Q: 3, H: 2 };

const MAX_VERSION = 40;

// ---- GF(256) with the QR primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 ----

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i += 1) {
  EXP[i] = x;
  LOG[x] = i;
  x <<= 1;
  if (x & 0x100) x ^= 0x11d;
}
for (let i = 255; i < 512; i += 1) EXP[i] = EXP[i - 255];

/** @param {number} a @param {number} b */
const gfMul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

/** @type {Map<number, Uint8Array>} */
const generators = new Map();

/**
 * Generator polynomial (x - a^0)(x - a^1)...(x - a^(n-1)), leading 1 omitted, highest power first.
 * @param {number} n
 */
function generator(n) {
  let g = generators.get(n);
  if (g) return g;
  let poly = [1];
  for (let i = 0; i < n; i += 1) {
    const next = new Array(poly.length + 1).fill(0);
    for (let j = 0; j < poly.length; j += 1) {
      next[j] ^= poly[j];
      next[j + 1] ^= gfMul(poly[j], EXP[i]);
    }
    poly = next;
  }
  g = Uint8Array.from(poly.slice(1));
  generators.set(n, g);
  return g;
}

/**
 * Reed-Solomon EC codewords: the remainder of data(x) * x^n divided by the generator.
 * @param {Uint8Array} data
 * @param {number} n
 */
function rsRemainder(data, n) {
  const g = generator(n);
  const rem = new Uint8Array(n);
  for (const byte of data) {
    const factor = byte ^ rem[0];
    rem.copyWithin(0, 1);
    rem[n - 1] = 0;
    for (let i = 0; i < n; i += 1) rem[i] ^= gfMul(g[i], factor);
  }
  return rem;
}

// ---- Symbol geometry ----

/**
 * Centre coordinates of alignment patterns (both axes) for a version.
 * @param {number} version
 * @returns {number[]}
 */
function alignmentCenters(version) {
  if (version === 1) return [];
  const size = 4 * version + 17;
  const count = Math.floor(version / 7) + 2;
  // Even spacing from the last centre back towards 6; version 32 is the standard's exception.
  const step = version === 32 ? 26 : Math.ceil((size - 13) / (count - 1) / 2) * 2;
  const out = [6];
  for (let i = count - 2; i >= 0; i -= 1) out.push(size - 7 - i * step);
  return out;
}

/**
 * A symbol under construction: module values plus which ones are function patterns.
 */
class Grid {
  /** @param {number} version */
  constructor(version) {
    this.version = version;
    this.size = 4 * version + 17;
    this.dark = new Uint8Array(this.size * this.size);
    this.fixed = new Uint8Array(this.size * this.size);
    this.#drawFunctionPatterns();
  }

  /** @param {number} r @param {number} c @param {boolean|number} on */
  set(r, c, on) {
    const i = r * this.size + c;
    this.dark[i] = on ? 1 : 0;
    this.fixed[i] = 1;
  }

  #drawFunctionPatterns() {
    const { size, version } = this;
    for (let i = 0; i < size; i += 1) {
      this.set(6, i, i % 2 === 0);
      this.set(i, 6, i % 2 === 0);
    }
    // Finder patterns with their light separators.
    for (const [fr, fc] of [[3, 3], [3, size - 4], [size - 4, 3]]) {
      for (let dr = -4; dr <= 4; dr += 1) {
        for (let dc = -4; dc <= 4; dc += 1) {
          const r = fr + dr;
          const c = fc + dc;
          if (r < 0 || r >= size || c < 0 || c >= size) continue;
          const d = Math.max(Math.abs(dr), Math.abs(dc));
          this.set(r, c, d !== 2 && d !== 4);
        }
      }
    }
    const centers = alignmentCenters(version);
    const last = centers.length - 1;
    for (let a = 0; a <= last; a += 1) {
      for (let b = 0; b <= last; b += 1) {
        // Skip the three positions that collide with finder patterns.
        if ((a === 0 && b === 0) || (a === 0 && b === last) || (a === last && b === 0)) continue;
        for (let dr = -2; dr <= 2; dr += 1) {
          for (let dc = -2; dc <= 2; dc += 1) {
            this.set(centers[a] + dr, centers[b] + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1);
          }
        }
      }
    }
    this.drawFormat(0); // reserve the format areas (and the dark module); real bits come later
    if (version >= 7) {
      let rem = version;
      for (let i = 0; i < 12; i += 1) rem = (rem << 1) ^ ((rem >> 11) * 0x1f25);
      const bits = (version << 12) | rem;
      for (let i = 0; i < 18; i += 1) {
        const on = (bits >> i) & 1;
        const a = size - 11 + (i % 3);
        const b = Math.floor(i / 3);
        this.set(a, b, on);
        this.set(b, a, on);
      }
    }
  }

  /**
   * Writes both copies of the 15-bit format information (BCH(15,5), XOR-masked with 0x5412).
   * @param {number} data 5 bits: ECL bits then mask number
   */
  drawFormat(data) {
    const { size } = this;
    let rem = data;
    for (let i = 0; i < 10; i += 1) rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    const bits = ((data << 10) | rem) ^ 0x5412;
    /** @param {number} i */
    const bit = (i) => (bits >> i) & 1;
    for (let i = 0; i <= 5; i += 1) this.set(i, 8, bit(i));
    this.set(7, 8, bit(6));
    this.set(8, 8, bit(7));
    this.set(8, 7, bit(8));
    for (let i = 9; i < 15; i += 1) this.set(8, 14 - i, bit(i));
    for (let i = 0; i < 8; i += 1) this.set(8, size - 1 - i, bit(i));
    for (let i = 8; i < 15; i += 1) this.set(size - 15 + i, 8, bit(i));
    this.set(size - 8, 8, 1); // the dark module
  }

  /** Number of modules left for data and EC codewords (plus remainder bits). */
  dataModules() {
    return this.fixed.reduce((n, f) => n + (f ? 0 : 1), 0);
  }

  /**
   * Places codeword bits in the two-module-wide zig-zag, right to left, skipping column 6.
   * @param {Uint8Array} codewords
   */
  placeData(codewords) {
    const { size } = this;
    let bitIndex = 0;
    let upward = true;
    for (let right = size - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      for (let k = 0; k < size; k += 1) {
        const r = upward ? size - 1 - k : k;
        for (const c of [right, right - 1]) {
          const i = r * size + c;
          if (this.fixed[i]) continue;
          const byte = bitIndex >> 3;
          this.dark[i] = byte < codewords.length ? (codewords[byte] >> (7 - (bitIndex & 7))) & 1 : 0;
          bitIndex += 1;
        }
      }
      upward = !upward;
    }
  }
}

/**
 * Data-mask conditions by pattern number, `r` = row, `c` = column.
 * @type {Array<(r: number, c: number) => boolean>}
 */
const MASKS = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (_r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
];

/**
 * Penalty score of a finished symbol (ISO/IEC 18004 section 7.8.3): N1 runs of five or more,
 * N2 2x2 blocks, N3 finder-like 1:1:3:1:1 patterns with four light modules on either side
 * (outside the symbol counts as light; one penalty per pattern), N4 dark proportion in 5% steps.
 * @param {Uint8Array} m
 * @param {number} size
 */
export function penalty(m, size) {
  let score = 0;
  const finder = [1, 0, 1, 1, 1, 0, 1];
  for (let line = 0; line < 2 * size; line += 1) {
    // Lines 0..size-1 are rows, size..2*size-1 are columns.
    /** @type {(k: number) => number} */
    const at = line < size ? (k) => m[line * size + k] : (k) => m[k * size + (line - size)];
    /** @param {number} k */
    const light = (k) => k < 0 || k >= size || at(k) === 0;
    let run = 1;
    for (let k = 1; k <= size; k += 1) {
      if (k < size && at(k) === at(k - 1)) {
        run += 1;
      } else {
        if (run >= 5) score += run - 2;
        run = 1;
      }
    }
    for (let k = 0; k + 7 <= size; k += 1) {
      if (!finder.every((v, j) => at(k + j) === v)) continue;
      const before = [1, 2, 3, 4].every((d) => light(k - d));
      const after = [0, 1, 2, 3].every((d) => light(k + 7 + d));
      if (before || after) score += 40;
    }
  }
  let darkCount = 0;
  for (let r = 0; r < size; r += 1) {
    for (let c = 0; c < size; c += 1) {
      const v = m[r * size + c];
      darkCount += v;
      if (r + 1 < size && c + 1 < size && v === m[r * size + c + 1] && v === m[(r + 1) * size + c] && v === m[(r + 1) * size + c + 1]) {
        score += 3;
      }
    }
  }
  // k = whole 5% steps away from 50% dark (exact multiples cannot occur: size*size is odd).
  const total = size * size;
  score += 10 * Math.floor(Math.abs(darkCount * 20 - total * 10) / total);
  return score;
}

/** @param {number} version @param {Ecl} ecl */
function dataCapacityBytes(version, ecl) {
  const raw = Math.floor(new Grid(version).dataModules() / 8);
  return raw - EC_PER_BLOCK[ecl][version] * BLOCKS[ecl][version];
}

/** @type {Map<string, number>} */
const capacityCache = new Map();

/**
 * Largest byte-mode payload (in bytes) for a version and ECL.
 * @param {number} version 1..40
 * @param {Ecl} ecl
 * @returns {number}
 */
export function byteCapacity(version, ecl) {
  const key = `${version}${ecl}`;
  let cap = capacityCache.get(key);
  if (cap === undefined) {
    const countBits = version <= 9 ? 8 : 16;
    cap = Math.floor((dataCapacityBytes(version, ecl) * 8 - 4 - countBits) / 8);
    capacityCache.set(key, cap);
  }
  return cap;
}

/**
 * Encodes text as a QR code in byte mode (UTF-8), at the smallest version that fits.
 * @param {string} text
 * @param {{ecl?: Ecl, mask?: number, version?: number}} [opts] `ecl` defaults to 'M';
 *   `mask` (0..7) forces a pattern instead of choosing by penalty; `version` forces a minimum version.
 * @returns {QrCode}
 * @throws {RangeError} if the text does not fit in version 40 at this ECL, or on bad options
 */
export function encodeQr(text, opts = {}) {
  const ecl = opts.ecl ?? 'M';
  if (!(ecl in ECL_BITS)) throw new RangeError(`bad error correction level: ${ecl}`);
  if (opts.mask !== undefined && !(Number.isInteger(opts.mask) && opts.mask >= 0 && opts.mask <= 7)) {
    throw new RangeError(`bad mask: ${opts.mask}`);
  }
  const bytes = new TextEncoder().encode(text);
  let version = opts.version ?? 1;
  while (version <= MAX_VERSION && byteCapacity(version, ecl) < bytes.length) version += 1;
  if (version > MAX_VERSION) {
    throw new RangeError(`QR: ${bytes.length} bytes exceed ${byteCapacity(MAX_VERSION, ecl)} at ECL ${ecl}`);
  }

  // Bit stream: mode 0100, count, bytes, terminator, pad to a byte, then 0xEC/0x11 pad bytes.
  const dataLen = dataCapacityBytes(version, ecl);
  const data = new Uint8Array(dataLen);
  let bitLen = 0;
  /** @param {number} value @param {number} n */
  const put = (value, n) => {
    for (let i = n - 1; i >= 0; i -= 1, bitLen += 1) {
      if ((value >> i) & 1) data[bitLen >> 3] |= 0x80 >> (bitLen & 7);
    }
  };
  put(0b0100, 4);
  put(bytes.length, version <= 9 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, dataLen * 8 - bitLen));
  for (let i = Math.ceil(bitLen / 8), pad = 0xec; i < dataLen; i += 1, pad ^= 0xec ^ 0x11) data[i] = pad;

  // Split into blocks (short ones first), add EC, interleave.
  const grid = new Grid(version);
  const raw = Math.floor(grid.dataModules() / 8);
  const nBlocks = BLOCKS[ecl][version];
  const ecLen = EC_PER_BLOCK[ecl][version];
  const nShort = nBlocks - (raw % nBlocks);
  const shortData = Math.floor(raw / nBlocks) - ecLen;
  /** @type {Uint8Array[]} */
  const dataBlocks = [];
  /** @type {Uint8Array[]} */
  const ecBlocks = [];
  for (let b = 0, off = 0; b < nBlocks; b += 1) {
    const len = shortData + (b < nShort ? 0 : 1);
    const block = data.subarray(off, off + len);
    off += len;
    dataBlocks.push(block);
    ecBlocks.push(rsRemainder(block, ecLen));
  }
  const codewords = new Uint8Array(raw);
  let n = 0;
  for (let i = 0; i <= shortData; i += 1) {
    for (const block of dataBlocks) if (i < block.length) codewords[n++] = block[i];
  }
  for (let i = 0; i < ecLen; i += 1) for (const block of ecBlocks) codewords[n++] = block[i];

  grid.placeData(codewords);
  const unmasked = grid.dark.slice();
  /** @param {number} mask */
  const withMask = (mask) => {
    grid.dark.set(unmasked);
    const fn = MASKS[mask];
    for (let r = 0; r < grid.size; r += 1) {
      for (let c = 0; c < grid.size; c += 1) {
        const i = r * grid.size + c;
        if (!grid.fixed[i] && fn(r, c)) grid.dark[i] ^= 1;
      }
    }
    grid.drawFormat((ECL_BITS[ecl] << 3) | mask);
    return grid.dark.slice();
  };

  let mask = opts.mask ?? -1;
  let modules;
  if (mask >= 0) {
    modules = withMask(mask);
  } else {
    let best = Infinity;
    for (let k = 0; k < 8; k += 1) {
      const candidate = withMask(k);
      const score = penalty(candidate, grid.size);
      if (score < best) {
        best = score;
        mask = k;
        modules = candidate;
      }
    }
  }
  return { version, ecl, mask, size: grid.size, modules: /** @type {Uint8Array} */ (modules) };
}
