/**
 * TQ2_0 (ggml id 35, FORMATS.md §2.3): 256-element blocks of 66 bytes: `qs[64]` 2-bit codes then an
 * f16 scale `d`. Byte `qs[32h + m]`, bit pair n (LSB first) holds element `128h + 32n + m`;
 * value = (code − 1) · d. Code 3 is rejected (BAD_TENSOR_DATA).
 */
import { BitNetError } from '../../errors.js';
import type { TernaryMatrix } from '../tensor.js';
import { f16ToF32, f32ToF16 } from './f16.js';
import {
  blockScaleOf, code3Error, expectLength, fromBlockScales, gatherCodes, lanesHaveCode3, readU32, spreadCodes, ternaryRowBytes, writeU32,
} from './ternary.js';

export const TQ2_0_BLOCK = 256;
export const TQ2_0_BYTES = 66;

function checkCols(cols: number): void {
  if (cols % TQ2_0_BLOCK !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `TQ2_0 needs a row length that is a multiple of 256, got ${cols}`);
}

/** Decodes a TQ2_0 tensor of `rows` × `cols` into the canonical layout (scales collapsed when uniform). */
export function decodeTQ2_0(bytes: Uint8Array, rows: number, cols: number): TernaryMatrix {
  checkCols(cols);
  const bpr = cols / TQ2_0_BLOCK;
  expectLength('TQ2_0', bytes, rows * bpr * TQ2_0_BYTES);
  const rb = ternaryRowBytes(cols);
  const packed = new Uint8Array(rows * rb);
  const scales = new Float32Array(rows * bpr);
  for (let blk = 0; blk < rows * bpr; blk++) {
    const src = blk * TQ2_0_BYTES;
    const dst = Math.floor(blk / bpr) * rb + (blk % bpr) * 64;
    scales[blk] = f16ToF32(bytes[src + 64]! | (bytes[src + 65]! << 8));
    for (let h = 0; h < 2; h++) {
      for (let m = 0; m < 32; m += 4) {
        const w = readU32(bytes, src + 32 * h + m);
        for (let n = 0; n < 4; n++) {
          const x = (w >>> (2 * n)) & 0x03030303;
          if (lanesHaveCode3(x)) throw code3Error('TQ2_0', `block ${blk}`);
          packed[dst + 32 * h + 8 * n + (m >> 2)] = gatherCodes(x);
        }
      }
    }
  }
  return fromBlockScales(rows, cols, packed, scales, TQ2_0_BLOCK, 'TQ2_0');
}

/**
 * Encodes a canonical matrix as TQ2_0. Each block stores its scale (block scale, or the per-tensor
 * scale) rounded to f16; a block whose codes are all zero, or whose f16 scale is 0, stores d = 0 and
 * all-zero codes, exactly as ggml's reference quantizer does for `T · s` input.
 */
export function encodeTQ2_0(m: TernaryMatrix): Uint8Array {
  checkCols(m.cols);
  const bpr = m.cols / TQ2_0_BLOCK;
  const rb = ternaryRowBytes(m.cols);
  const out = new Uint8Array(m.rows * bpr * TQ2_0_BYTES);
  const words = new Uint32Array(16);
  for (let blk = 0; blk < m.rows * bpr; blk++) {
    const r = Math.floor(blk / bpr);
    const b = blk % bpr;
    const src = r * rb + b * 64;
    let allZero = true;
    for (let i = 0; i < 64; i++) {
      if (m.packed[src + i] !== 0x55) {
        allZero = false;
        break;
      }
    }
    const d = allZero ? 0 : f32ToF16(blockScaleOf(m, r, b));
    const dst = blk * TQ2_0_BYTES;
    if (d === 0 || d === 0x8000) {
      out.fill(0x55, dst, dst + 64);
      continue;
    }
    words.fill(0);
    for (let h = 0; h < 2; h++) {
      for (let n = 0; n < 4; n++) {
        for (let q = 0; q < 8; q++) words[h * 8 + q] |= spreadCodes(m.packed[src + 32 * h + 8 * n + q]!) << (2 * n);
      }
    }
    for (let i = 0; i < 16; i++) writeU32(out, dst + 4 * i, words[i]!);
    out[dst + 64] = d & 0xff;
    out[dst + 65] = d >> 8;
  }
  return out;
}
