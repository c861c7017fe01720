/**
 * Row access to a FloatMatrix (F32 / F16 / BF16 / Q8_0) as f32 for the reference backend, using the
 * formats module's row decoder. Small matrices are decoded once up front; large ones (e.g. a 2B
 * model's 128256-row embedding) are decoded row by row on demand.
 */
import type { FloatMatrix } from '../../model/tensor.js';
import { BitNetError } from '../../errors.js';
import { decodeFloatRow, floatRowBytes } from '../../model/formats/float.js';

export class FloatRows {
  readonly rows: number;
  readonly cols: number;
  private readonly full: Float32Array | null;
  private readonly scratch: Float32Array;

  /** @param cacheLimit decode everything up front when rows·cols ≤ this many elements. */
  constructor(private readonly m: FloatMatrix, cacheLimit = 16 * 1024 * 1024) {
    this.rows = m.rows;
    this.cols = m.cols;
    const need = m.rows * floatRowBytes(m.storage, m.cols);
    if (m.data.byteLength < need) {
      throw new BitNetError('BAD_TENSOR_SHAPE', `float matrix ${m.rows}×${m.cols} ${m.storage} needs ${need} bytes, has ${m.data.byteLength}`);
    }
    this.scratch = new Float32Array(m.cols);
    if (m.rows * m.cols <= cacheLimit) {
      const full = new Float32Array(m.rows * m.cols);
      for (let r = 0; r < m.rows; r++) decodeFloatRow(m, r, full.subarray(r * m.cols, (r + 1) * m.cols));
      this.full = full;
    } else {
      this.full = null;
    }
  }

  /** Row `r` as f32. The returned view may be reused by the next call; copy it to keep it. */
  row(r: number): Float32Array {
    if (this.full) return this.full.subarray(r * this.cols, (r + 1) * this.cols);
    decodeFloatRow(this.m, r, this.scratch);
    return this.scratch;
  }
}
