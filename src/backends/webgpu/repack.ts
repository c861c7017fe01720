/**
 * Repacks canonical TernaryMatrix data (src/model/tensor.ts) into the GPU layout the WGSL matmuls read.
 *
 * GPU layout: row-major, `k16 = ceil(cols / 16)` u32 words per row; word `w` of a row holds the codes
 * (0,1,2 = −1,0,+1) of elements `16w .. 16w+15`, element `16w + 4j + k` at bits `2j + 8k`. Thus
 * `(word >> 2j) & 0x03030303` puts the codes of elements `16w+4j .. 16w+4j+3` into byte lanes 0..3,
 * pairing with activation word `4w + j` (4 int8 codes, lane k = element 4(4w+j)+k). Padding = code 1.
 *
 * Scales: a Float32Array read as `scales[row · scaleRowStride + block]`; per-tensor scale → one value
 * and stride 0; block scales need blocks of a multiple of 16 elements (one word never straddles two).
 */
import type { TernaryMatrix } from '../../model/tensor.js';
import { BitNetError } from '../../errors.js';

/** Version of the word layout above; part of every cached repack (bump when the layout changes). */
export const GPU_TERNARY_LAYOUT_VERSION = 1;

/** spread(b): the four 2-bit codes of byte b moved to bits 0, 8, 16, 24. */
const SPREAD = new Uint32Array(256);
for (let b = 0; b < 256; b++) SPREAD[b] = (b & 3) | (((b >> 2) & 3) << 8) | (((b >> 4) & 3) << 16) | (((b >> 6) & 3) << 24);

export interface TernaryGpuShape {
  readonly rows: number;
  readonly cols: number;
  readonly k16: number;
  /** Scale blocks per row (1 = per-tensor). */
  readonly bpr: number;
  readonly wordsPerBlock: number;
  readonly scaleRowStride: number;
}

/** @throws BitNetError BAD_TENSOR_SHAPE for block scales whose block is not a multiple of 16 elements. */
export function ternaryGpuShape(m: TernaryMatrix): TernaryGpuShape {
  const k16 = Math.ceil(m.cols / 16);
  if (!m.blockScales) return { rows: m.rows, cols: m.cols, k16, bpr: 1, wordsPerBlock: Math.max(1, k16), scaleRowStride: 0 };
  if (m.scaleBlock % 16 !== 0 || m.scaleBlock <= 0) {
    throw new BitNetError('BAD_TENSOR_SHAPE', `webgpu backend: block scales every ${m.scaleBlock} elements are not supported (need a multiple of 16)`);
  }
  const bpr = Math.ceil(m.cols / m.scaleBlock);
  return { rows: m.rows, cols: m.cols, k16, bpr, wordsPerBlock: m.scaleBlock / 16, scaleRowStride: bpr };
}

/** Words of rows [r0, r1) in the GPU layout, written into `out` (length ≥ (r1−r0)·k16) or a new array. */
export function repackTernaryRows(m: TernaryMatrix, r0 = 0, r1 = m.rows, out?: Uint32Array): Uint32Array {
  const rowBytes = (m.cols + 3) >> 2;
  const k16 = Math.ceil(m.cols / 16);
  const dst = out ?? new Uint32Array((r1 - r0) * k16);
  const pad = SPREAD[0x55]!;
  for (let r = r0; r < r1; r++) {
    const src = r * rowBytes;
    const base = (r - r0) * k16;
    for (let w = 0; w < k16; w++) {
      let word = 0;
      for (let j = 0; j < 4; j++) {
        const i = w * 4 + j;
        word |= (i < rowBytes ? SPREAD[m.packed[src + i]!]! : pad) << (2 * j);
      }
      dst[base + w] = word >>> 0;
    }
  }
  return dst;
}

/** Scales of rows [r0, r1) as read by the kernels (see module doc). */
export function ternaryScales(m: TernaryMatrix, r0 = 0, r1 = m.rows): Float32Array {
  if (!m.blockScales) return Float32Array.of(m.scale);
  const bpr = Math.ceil(m.cols / m.scaleBlock);
  return m.blockScales.slice(r0 * bpr, r1 * bpr);
}
