/**
 * Q8_0 (ggml id 8, FORMATS.md §2.2): 32-element blocks of 34 bytes: f16 `d`, then 32 × i8.
 * Decode x = q · d. Reference encode: amax = max|x|, d = amax / 127 (f32), id = 1/d (0 when d = 0),
 * q = roundf(x · id) (half away from zero), d stored as f16.
 */
import { BitNetError } from '../../errors.js';
import { f16Table, f32ToF16 } from './f16.js';

export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 34;

/** Decodes `cols` elements starting at byte `offset` of `data` into out[0..cols). */
export function decodeQ8_0Row(data: Uint8Array, offset: number, cols: number, out: Float32Array): void {
  const tab = f16Table();
  for (let b = 0; b < cols / Q8_0_BLOCK; b++) {
    const o = offset + b * Q8_0_BYTES;
    const d = tab[data[o]! | (data[o + 1]! << 8)]!;
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const q = (data[o + 2 + j]! << 24) >> 24;
      out[b * Q8_0_BLOCK + j] = q * d;
    }
  }
}

/** Encodes `values` (length a multiple of 32; rows are concatenated blocks) as Q8_0. */
export function encodeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % Q8_0_BLOCK !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `Q8_0 needs a multiple of 32 elements, got ${values.length}`);
  const nb = values.length / Q8_0_BLOCK;
  const out = new Uint8Array(nb * Q8_0_BYTES);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(values[b * Q8_0_BLOCK + j]!));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const h = f32ToF16(d);
    const o = b * Q8_0_BYTES;
    out[o] = h & 0xff;
    out[o + 1] = h >> 8;
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const x = Math.fround(values[b * Q8_0_BLOCK + j]! * id);
      const q = x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
      out[o + 2 + j] = Math.max(-128, Math.min(127, q)) & 0xff;
    }
  }
  return out;
}
