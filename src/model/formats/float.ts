/**
 * Float matrices (`FloatMatrix`: F32 / F16 / BF16 / Q8_0 kept in storage form, decoded per row) and
 * whole-tensor float decoding for small tensors such as norms.
 */
import { BitNetError } from '../../errors.js';
import type { FloatMatrix, FloatStorage } from '../tensor.js';
import { bf16ToF32, f16Table, f32ToBf16, f32ToF16 } from './f16.js';
import { Q8_0_BLOCK, Q8_0_BYTES, decodeQ8_0Row, encodeQ8_0 } from './q8_0.js';

/** GGUF type name → float storage, for the types a FloatMatrix can hold. */
export const FLOAT_STORAGE: Readonly<Record<string, FloatStorage>> = { F32: 'f32', F16: 'f16', BF16: 'bf16', Q8_0: 'q8_0' };

export function isFloatType(type: string): boolean {
  return Object.prototype.hasOwnProperty.call(FLOAT_STORAGE, type);
}

/** Bytes per row of `cols` elements. */
export function floatRowBytes(storage: FloatStorage, cols: number): number {
  switch (storage) {
    case 'f32': return cols * 4;
    case 'f16': case 'bf16': return cols * 2;
    case 'q8_0': return (cols / Q8_0_BLOCK) * Q8_0_BYTES;
  }
}

/** Wraps raw bytes as a FloatMatrix after checking shape and length (BAD_TENSOR_SHAPE / BAD_TENSOR_DATA). */
export function makeFloatMatrix(storage: FloatStorage, rows: number, cols: number, data: Uint8Array): FloatMatrix {
  if (storage === 'q8_0' && cols % Q8_0_BLOCK !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `Q8_0 row length ${cols} is not a multiple of 32`);
  const expected = rows * floatRowBytes(storage, cols);
  if (data.length !== expected) throw new BitNetError('BAD_TENSOR_DATA', `${storage} matrix ${rows}x${cols} needs ${expected} bytes, got ${data.length}`);
  return { kind: 'float', rows, cols, storage, data };
}

/** Decodes row r of m into out[0..cols). */
export function decodeFloatRow(m: FloatMatrix, r: number, out: Float32Array): void {
  if (r < 0 || r >= m.rows || !Number.isInteger(r)) throw new BitNetError('BAD_INPUT', `row ${r} outside 0..${m.rows - 1}`);
  if (out.length < m.cols) throw new BitNetError('SHAPE_MISMATCH', `output of ${out.length} for a row of ${m.cols}`);
  const off = r * floatRowBytes(m.storage, m.cols);
  const d = m.data;
  const n = m.cols;
  switch (m.storage) {
    case 'f32': {
      if ((d.byteOffset + off) % 4 === 0) {
        out.set(new Float32Array(d.buffer, d.byteOffset + off, n));
      } else {
        const v = new DataView(d.buffer, d.byteOffset + off, n * 4);
        for (let i = 0; i < n; i++) out[i] = v.getFloat32(i * 4, true);
      }
      return;
    }
    case 'f16': {
      const t = f16Table();
      for (let i = 0; i < n; i++) out[i] = t[d[off + 2 * i]! | (d[off + 2 * i + 1]! << 8)]!;
      return;
    }
    case 'bf16':
      for (let i = 0; i < n; i++) out[i] = bf16ToF32(d[off + 2 * i]! | (d[off + 2 * i + 1]! << 8));
      return;
    case 'q8_0':
      decodeQ8_0Row(d, off, n, out);
      return;
  }
}

/** Decodes a whole matrix (rows × cols) to f32. */
export function decodeFloatMatrix(m: FloatMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) decodeFloatRow(m, r, out.subarray(r * m.cols, (r + 1) * m.cols));
  return out;
}

/** Encodes f32 values (row-major, rows of `cols`) into a storage type's bytes. */
export function encodeFloats(storage: FloatStorage, values: Float32Array): Uint8Array {
  switch (storage) {
    case 'f32': {
      const out = new Uint8Array(values.length * 4);
      const v = new DataView(out.buffer);
      for (let i = 0; i < values.length; i++) v.setFloat32(i * 4, values[i]!, true);
      return out;
    }
    case 'f16':
    case 'bf16': {
      const out = new Uint8Array(values.length * 2);
      const enc = storage === 'f16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < values.length; i++) {
        const h = enc(values[i]!);
        out[2 * i] = h & 0xff;
        out[2 * i + 1] = h >> 8;
      }
      return out;
    }
    case 'q8_0':
      return encodeQ8_0(values);
  }
}
