/**
 * Q4_0 (ggml id 2): 32-element blocks of 18 bytes: f16 `d`, then 16 bytes of 4-bit codes; element j
 * of a block is the low nibble of byte j, element j + 16 its high nibble. Decode x = (q − 8) · d.
 *
 * We never read Q4_0 models; this module exists for the benchmark's comparison files, where a
 * ternary projection is stored as Q4_0 *exactly*: d = the ternary scale (f16-rounded, as every GGUF
 * ternary format stores it) and q = t + 8 ∈ {7, 8, 9}. Per-block scales (TQ1_0/TQ2_0 keep one f16
 * scale per 256 elements) map onto the Q4_0 blocks lying inside each scale block, so values stay
 * exact as long as the scale block is a multiple of 32 elements.
 */
import { BitNetError } from '../../errors.js';
import type { TernaryMatrix } from '../tensor.js';
import { f16Table, f32ToF16 } from './f16.js';
import { blockScaleOf, ternaryRowBytes } from './ternary.js';

export const Q4_0_BLOCK = 32;
export const Q4_0_BYTES = 18;

/** Decodes `cols` elements (a multiple of 32) starting at byte `offset` of `data` into out[0..cols). */
export function decodeQ4_0Row(data: Uint8Array, offset: number, cols: number, out: Float32Array): void {
  const tab = f16Table();
  for (let b = 0; b < cols / Q4_0_BLOCK; b++) {
    const o = offset + b * Q4_0_BYTES;
    const d = tab[data[o]! | (data[o + 1]! << 8)]!;
    for (let j = 0; j < 16; j++) {
      const q = data[o + 2 + j]!;
      out[b * Q4_0_BLOCK + j] = ((q & 15) - 8) * d;
      out[b * Q4_0_BLOCK + j + 16] = ((q >> 4) - 8) * d;
    }
  }
}

/**
 * Decodes a whole Q4_0 payload of `n` elements (rows concatenated) to floats.
 * @throws BAD_TENSOR_SHAPE when n is not a multiple of 32 or the payload has the wrong length.
 */
export function decodeQ4_0(bytes: Uint8Array, n: number): Float32Array {
  if (n % Q4_0_BLOCK !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `Q4_0 needs a multiple of 32 elements, got ${n}`);
  const want = (n / Q4_0_BLOCK) * Q4_0_BYTES;
  if (bytes.length !== want) throw new BitNetError('BAD_TENSOR_SHAPE', `Q4_0 payload of ${n} elements must be ${want} bytes, got ${bytes.length}`);
  const out = new Float32Array(n);
  decodeQ4_0Row(bytes, 0, n, out);
  return out;
}

/**
 * Encodes a ternary matrix as Q4_0, exactly (see the module comment).
 * @throws BAD_TENSOR_SHAPE when the row length is not a multiple of 32, or when block scales use a
 *   block that is not a multiple of 32 elements (a Q4_0 block would straddle two scales).
 */
export function encodeTernaryQ4_0(m: TernaryMatrix): Uint8Array {
  if (m.cols % Q4_0_BLOCK !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `Q4_0 needs a row length that is a multiple of 32, got ${m.cols}`);
  if (m.blockScales && m.scaleBlock % Q4_0_BLOCK !== 0) {
    throw new BitNetError('BAD_TENSOR_SHAPE', `Q4_0 cannot hold ternary block scales over ${m.scaleBlock} elements (not a multiple of 32)`);
  }
  const bpr = m.cols / Q4_0_BLOCK;
  const rb = ternaryRowBytes(m.cols);
  const out = new Uint8Array(m.rows * bpr * Q4_0_BYTES);
  const code = (r: number, c: number): number => (m.packed[r * rb + (c >> 2)]! >> (2 * (c & 3))) & 3;
  for (let r = 0; r < m.rows; r++) {
    for (let b = 0; b < bpr; b++) {
      const o = (r * bpr + b) * Q4_0_BYTES;
      const h = f32ToF16(blockScaleOf(m, r, Math.floor((b * Q4_0_BLOCK) / m.scaleBlock)));
      out[o] = h & 0xff;
      out[o + 1] = h >> 8;
      // canonical code = t + 1 and Q4_0 nibble = t + 8, so nibble = code + 7
      const c0 = b * Q4_0_BLOCK;
      for (let j = 0; j < 16; j++) out[o + 2 + j] = (code(r, c0 + j) + 7) | ((code(r, c0 + j + 16) + 7) << 4);
    }
  }
  return out;
}
