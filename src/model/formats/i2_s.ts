/**
 * I2_S (bitnet.cpp id 36, FORMATS.md §2.5), canonical "x86" 128-element layout: the flattened tensor
 * (n = rows · cols elements, n a multiple of 128) is cut into 128-element blocks of 32 bytes; element j
 * of block k is in byte 32k + (j mod 32) at bits (6 − 2·⌊j/32⌋)..(7 − 2·⌊j/32⌋) (MSB first), code
 * = T + 1. After the n/4 code bytes: the f32 scale (LE) and 28 padding bytes (total n/4 + 32).
 */
import { BitNetError } from '../../errors.js';
import type { TernaryMatrix } from '../tensor.js';
import {
  code3Error, expectLength, gatherCodes, leWords, perTensorTernary, spreadCodes, ternaryRowBytes, wordsToBytes, writeU32,
} from './ternary.js';

export const I2_S_BLOCK = 128;

export function i2sNbytes(n: number): number {
  return Math.floor(n / 4) + 32;
}

function checkShape(rows: number, cols: number): number {
  const n = rows * cols;
  if (n % I2_S_BLOCK !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `I2_S needs an element count that is a multiple of 128, got ${rows}x${cols}`);
  return n;
}

/** Decodes an I2_S tensor into the canonical layout with a per-tensor scale. */
export function decodeI2_S(bytes: Uint8Array, rows: number, cols: number): TernaryMatrix {
  const n = checkShape(rows, cols);
  expectLength('I2_S', bytes, i2sNbytes(n));
  const words = leWords(bytes, n / 16);
  const out = new Uint32Array(n / 16);
  let invalid = 0;
  // Block k = words 8k..8k+7 (byte 32k+4q+lane ↔ word 8k+q). Output byte 32k+8g+q gathers group g of
  // word q, so output word 8k+2g+h packs groups g of input words 8k+4h .. 8k+4h+3.
  for (let base = 0; base < n / 16; base += 8) {
    for (let j = 0; j < 8; j++) {
      const w = words[base + j]!;
      invalid |= w & (w >>> 1);
    }
    for (let g = 0; g < 4; g++) {
      const shift = 6 - 2 * g;
      for (let h = 0; h < 2; h++) {
        const i = base + 4 * h;
        out[base + 2 * g + h] =
          gatherCodes((words[i]! >>> shift) & 0x03030303) |
          (gatherCodes((words[i + 1]! >>> shift) & 0x03030303) << 8) |
          (gatherCodes((words[i + 2]! >>> shift) & 0x03030303) << 16) |
          (gatherCodes((words[i + 3]! >>> shift) & 0x03030303) << 24);
      }
    }
  }
  if ((invalid & 0x55555555) !== 0) throw code3Error('I2_S', 'code bytes');
  const flat = wordsToBytes(out);
  const scale = new DataView(bytes.buffer, bytes.byteOffset + n / 4, 4).getFloat32(0, true);
  if (!Number.isFinite(scale)) throw new BitNetError('BAD_TENSOR_DATA', `I2_S tensor has a non-finite scale ${scale}`);
  // `flat` is the canonical packing of the flattened tensor; it equals the row layout when cols % 4 == 0.
  const packed = cols % 4 === 0 ? flat : repackRows(flat, rows, cols);
  return perTensorTernary(rows, cols, packed, scale, 'I2_S');
}

/** Canonical flat packing (no row padding) → canonical rows with padding. */
function repackRows(flat: Uint8Array, rows: number, cols: number): Uint8Array {
  const rb = ternaryRowBytes(cols);
  const out = new Uint8Array(rows * rb).fill(0x55);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const code = (flat[i >> 2]! >> ((i & 3) * 2)) & 3;
      const o = r * rb + (c >> 2);
      const s = (c & 3) * 2;
      out[o] = (out[o]! & ~(3 << s)) | (code << s);
    }
  }
  return out;
}

/** Canonical rows → flat packing of the flattened tensor. */
function flattenRows(m: TernaryMatrix): Uint8Array {
  if (m.cols % 4 === 0) return m.packed;
  const rb = ternaryRowBytes(m.cols);
  const out = new Uint8Array((m.rows * m.cols) / 4);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) {
      const i = r * m.cols + c;
      out[i >> 2] |= ((m.packed[r * rb + (c >> 2)]! >> ((c & 3) * 2)) & 3) << ((i & 3) * 2);
    }
  }
  return out;
}

/**
 * Encodes a canonical matrix with a per-tensor scale as I2_S (scale stored as f32, 28 zero bytes).
 * @throws BitNetError BAD_INPUT when the matrix has block scales (I2_S has one scale per tensor).
 */
export function encodeI2_S(m: TernaryMatrix): Uint8Array {
  const n = checkShape(m.rows, m.cols);
  if (m.blockScales) throw new BitNetError('BAD_INPUT', 'I2_S stores one scale per tensor; the matrix has block scales');
  const flat = flattenRows(m);
  const out = new Uint8Array(i2sNbytes(n));
  for (let k = 0; k < n / 128; k++) {
    for (let q = 0; q < 8; q++) {
      let w = 0;
      for (let g = 0; g < 4; g++) w |= spreadCodes(flat[32 * k + 8 * g + q]!) << (6 - 2 * g);
      writeU32(out, 32 * k + 4 * q, w);
    }
  }
  new DataView(out.buffer).setFloat32(n / 4, m.scale, true);
  return out;
}
