/**
 * Tensor format registry: decode GGUF tensor payloads into the in-memory forms of tensor.ts and
 * encode them back. Ternary types: TQ1_0, TQ2_0, I2_S → `TernaryMatrix`; float types: F32, F16, BF16,
 * Q8_0 → `FloatMatrix` (kept in storage form) or a decoded Float32Array.
 *
 * Matrices are 2-D: GGUF dims [ne0, ne1, 1, 1] → cols = ne0, rows = ne1 (trailing 1s allowed).
 */
import { BitNetError } from '../../errors.js';
import type { GGUFTensorInfo } from '../gguf-types.js';
import type { FloatMatrix, TernaryMatrix } from '../tensor.js';
import { FLOAT_STORAGE, decodeFloatMatrix, makeFloatMatrix } from './float.js';
import { decodeI2_S, encodeI2_S } from './i2_s.js';
import { decodeTQ1_0, encodeTQ1_0 } from './tq1_0.js';
import { decodeTQ2_0, encodeTQ2_0 } from './tq2_0.js';

export * from './f16.js';
export * from './float.js';
export * from './i2_s.js';
export * from './q4_0.js';
export * from './q8_0.js';
export * from './ternary.js';
export * from './tq1_0.js';
export * from './tq2_0.js';

export type TernaryType = 'TQ1_0' | 'TQ2_0' | 'I2_S';
export const TERNARY_TYPES: readonly TernaryType[] = ['TQ1_0', 'TQ2_0', 'I2_S'];

export function isTernaryType(type: string): type is TernaryType {
  return (TERNARY_TYPES as readonly string[]).includes(type);
}

/** [rows, cols] of a tensor viewed as a matrix; BAD_TENSOR_SHAPE if it has more than 2 non-unit dims. */
export function matrixShape(info: Pick<GGUFTensorInfo, 'name' | 'dims'>): [rows: number, cols: number] {
  const d = info.dims;
  for (let i = 2; i < d.length; i++) {
    if (d[i] !== 1) throw new BitNetError('BAD_TENSOR_SHAPE', `tensor "${info.name}" has ${d.length} dims [${d.join(', ')}], expected a matrix`);
  }
  return [d[1] ?? 1, d[0]!];
}

export function decodeTernary(type: TernaryType, bytes: Uint8Array, rows: number, cols: number): TernaryMatrix {
  switch (type) {
    case 'TQ1_0': return decodeTQ1_0(bytes, rows, cols);
    case 'TQ2_0': return decodeTQ2_0(bytes, rows, cols);
    case 'I2_S': return decodeI2_S(bytes, rows, cols);
  }
}

export function encodeTernary(type: TernaryType, m: TernaryMatrix): Uint8Array {
  switch (type) {
    case 'TQ1_0': return encodeTQ1_0(m);
    case 'TQ2_0': return encodeTQ2_0(m);
    case 'I2_S': return encodeI2_S(m);
  }
}

/** Decodes a ternary tensor. @throws BAD_TENSOR_TYPE for a non-ternary type. */
export function ternaryFromTensor(info: GGUFTensorInfo, bytes: Uint8Array): TernaryMatrix {
  if (!isTernaryType(info.type)) {
    throw new BitNetError('BAD_TENSOR_TYPE', `tensor "${info.name}" has type ${info.type}; ternary weights must be TQ1_0, TQ2_0 or I2_S`, { details: { tensor: info.name } });
  }
  const [rows, cols] = matrixShape(info);
  return withTensorName(info.name, () => decodeTernary(info.type as TernaryType, bytes, rows, cols));
}

/** Wraps a float tensor as a FloatMatrix (no copy). @throws BAD_TENSOR_TYPE for other types. */
export function floatMatrixFromTensor(info: GGUFTensorInfo, bytes: Uint8Array): FloatMatrix {
  const storage = FLOAT_STORAGE[info.type];
  if (!storage) {
    throw new BitNetError('BAD_TENSOR_TYPE', `tensor "${info.name}" has type ${info.type}; expected F32, F16, BF16 or Q8_0`, { details: { tensor: info.name } });
  }
  const [rows, cols] = matrixShape(info);
  return withTensorName(info.name, () => makeFloatMatrix(storage, rows, cols, bytes));
}

/** Decodes any float tensor to a flat Float32Array (for norms and scales). */
export function floatsFromTensor(info: GGUFTensorInfo, bytes: Uint8Array): Float32Array {
  const ne0 = info.dims[0]!;
  const n = info.dims.reduce((a, b) => a * b, 1);
  const flat: GGUFTensorInfo = { ...info, dims: [ne0, n / ne0] };
  return decodeFloatMatrix(floatMatrixFromTensor(flat, bytes));
}

function withTensorName<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof BitNetError && !e.message.includes(name)) {
      throw new BitNetError(e.code, `tensor "${name}": ${e.message}`, { cause: e, details: { ...(e.details ?? {}), tensor: name } });
    }
    throw e;
  }
}
