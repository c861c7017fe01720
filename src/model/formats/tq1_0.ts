/**
 * TQ1_0 (ggml id 34, FORMATS.md §2.4): 256-element blocks of 54 bytes: `qs[48]` (5 trits per byte),
 * `qh[4]` (4 trits per byte), f16 `d`. Trit t means value (t − 1) · d, i.e. the trit is the canonical
 * code. A byte stores `ceil(v · 256 / 243)` of the base-3 number v (digit 0 most significant); digit n
 * is recovered as `(((b · 3^n) mod 256) · 3) >> 8`.
 *
 * Element mapping: qs[0..31] digit n → 32n + m; qs[32..47] → 160 + 16n + m; qh[0..3] digit n (0..3)
 * → 240 + 4n + m.
 */
import { BitNetError } from '../../errors.js';
import type { TernaryMatrix } from '../tensor.js';
import { f16ToF32, f32ToF16 } from './f16.js';
import { blockScaleOf, expectLength, fromBlockScales, ternaryRowBytes } from './ternary.js';

export const TQ1_0_BLOCK = 256;
export const TQ1_0_BYTES = 54;
const POW3 = [1, 3, 9, 27, 81];

/** Digit n (0 = most significant) of a packed trit byte. */
export function tritAt(b: number, n: number): number {
  return (((b * POW3[n]!) & 0xff) * 3) >> 8;
}

/** Packs 5 trits (t0 most significant) into one byte. */
export function packTrits5(t0: number, t1: number, t2: number, t3: number, t4: number): number {
  const v = t0 * 81 + t1 * 27 + t2 * 9 + t3 * 3 + t4;
  return Math.floor((v * 256 + 242) / 243);
}

const GROUPS: ReadonlyArray<readonly [number, number, number, number, number]> = [
  // [byte offset, byte count, digits, element base, stride]
  [0, 32, 5, 0, 32],
  [32, 16, 5, 160, 16],
  [48, 4, 4, 240, 4],
];

function checkCols(cols: number): void {
  if (cols % TQ1_0_BLOCK !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `TQ1_0 needs a row length that is a multiple of 256, got ${cols}`);
}

export function decodeTQ1_0(bytes: Uint8Array, rows: number, cols: number): TernaryMatrix {
  checkCols(cols);
  const bpr = cols / TQ1_0_BLOCK;
  expectLength('TQ1_0', bytes, rows * bpr * TQ1_0_BYTES);
  const rb = ternaryRowBytes(cols);
  const packed = new Uint8Array(rows * rb);
  const scales = new Float32Array(rows * bpr);
  const codes = new Uint8Array(256);
  for (let blk = 0; blk < rows * bpr; blk++) {
    const src = blk * TQ1_0_BYTES;
    for (const [off, count, digits, base, stride] of GROUPS) {
      for (let m = 0; m < count; m++) {
        const b = bytes[src + off + m]!;
        for (let n = 0; n < digits; n++) codes[base + stride * n + m] = tritAt(b, n);
      }
    }
    const dst = Math.floor(blk / bpr) * rb + (blk % bpr) * 64;
    for (let i = 0; i < 64; i++) {
      packed[dst + i] = codes[4 * i]! | (codes[4 * i + 1]! << 2) | (codes[4 * i + 2]! << 4) | (codes[4 * i + 3]! << 6);
    }
    scales[blk] = f16ToF32(bytes[src + 52]! | (bytes[src + 53]! << 8));
  }
  return fromBlockScales(rows, cols, packed, scales, TQ1_0_BLOCK, 'TQ1_0');
}

/**
 * Encodes a canonical matrix as TQ1_0 (scales as in encodeTQ2_0: f16 of the block/tensor scale, 0 for
 * all-zero blocks, whose trits are then all 1).
 */
export function encodeTQ1_0(m: TernaryMatrix): Uint8Array {
  checkCols(m.cols);
  const bpr = m.cols / TQ1_0_BLOCK;
  const rb = ternaryRowBytes(m.cols);
  const out = new Uint8Array(m.rows * bpr * TQ1_0_BYTES);
  const codes = new Uint8Array(256);
  for (let blk = 0; blk < m.rows * bpr; blk++) {
    const r = Math.floor(blk / bpr);
    const b = blk % bpr;
    const src = r * rb + b * 64;
    let allZero = true;
    for (let i = 0; i < 256; i++) {
      const c = (m.packed[src + (i >> 2)]! >> ((i & 3) * 2)) & 3;
      if (c === 3) throw new BitNetError('BAD_INPUT', 'TQ1_0 encode: canonical code 3 in input');
      codes[i] = c;
      if (c !== 1) allZero = false;
    }
    let d = allZero ? 0 : f32ToF16(blockScaleOf(m, r, b));
    if (d === 0x8000) d = 0;
    if (d === 0) codes.fill(1);
    const dst = blk * TQ1_0_BYTES;
    for (const [off, count, digits, base, stride] of GROUPS) {
      for (let j = 0; j < count; j++) {
        let v = 0;
        for (let n = 0; n < 5; n++) v = v * 3 + (n < digits ? codes[base + stride * n + j]! : 0);
        out[dst + off + j] = Math.floor((v * 256 + 242) / 243);
      }
    }
    out[dst + 52] = d & 0xff;
    out[dst + 53] = d >> 8;
  }
  return out;
}
