/**
 * Scalar reference kernels: the arithmetic every fast kernel (WASM, WGSL) must reproduce.
 * Integer parts (activation codes, accumulators) are the bit-exact contract; float parts follow
 * FORMATS.md §4 in f32 (Math.fround at each step that a kernel would round).
 */
import type { TernaryMatrix } from '../../model/tensor.js';
import { BitNetError } from '../../errors.js';

export interface QuantizedActivations {
  /** int8 codes, length n. */
  readonly q: Int8Array;
  /** a_scale = 127 / max(absmax, 1e-5) (f32). */
  readonly scale: number;
  /** Σ q (used by kernels that accumulate raw codes 0..2 and subtract it). */
  readonly sum: number;
}

/** Round half to even, as torch.round and bitnet.cpp's nearest_int do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; fix exact ties toward even.
  if (Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0) return r - 1;
  return r;
}

/** Per-token absmax int8 quantization (FORMATS.md §4.1). */
export function quantizeActivations(x: Float32Array, out?: Int8Array): QuantizedActivations {
  const n = x.length;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]!);
    if (a > amax) amax = a;
  }
  const scale = Math.fround(127 / Math.max(amax, 1e-5));
  const q = out ?? new Int8Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let v = roundHalfEven(Math.fround(x[i]! * scale));
    if (v > 127) v = 127;
    else if (v < -128) v = -128;
    q[i] = v;
    sum += v;
  }
  return { q, scale, sum };
}

/** Number of scale blocks per row (1 for a per-tensor scale). */
export function blocksPerRow(m: TernaryMatrix): number {
  return m.blockScales ? Math.ceil(m.cols / m.scaleBlock) : 1;
}

/** Ternary value (−1, 0, +1) of element (r, c) in the canonical layout. */
export function ternaryAt(m: TernaryMatrix, r: number, c: number): number {
  const rowBytes = (m.cols + 3) >> 2;
  return ((m.packed[r * rowBytes + (c >> 2)]! >> ((c & 3) * 2)) & 3) - 1;
}

/**
 * Integer accumulators acc[r * blocksPerRow + b] = Σ_{c in block b} T[r, c] · q[c] (exact int32).
 * @throws BitNetError SHAPE_MISMATCH when q.length !== m.cols.
 */
export function ternaryAccumulate(m: TernaryMatrix, q: Int8Array): Int32Array {
  if (q.length !== m.cols) {
    throw new BitNetError('SHAPE_MISMATCH', `ternary matmul: activation length ${q.length} != matrix cols ${m.cols}`);
  }
  const bpr = blocksPerRow(m);
  const block = m.blockScales ? m.scaleBlock : m.cols;
  if (m.blockScales && block % 4 !== 0) {
    throw new BitNetError('SHAPE_MISMATCH', `ternary matmul: scale block ${block} is not a multiple of 4`);
  }
  const rowBytes = (m.cols + 3) >> 2;
  const acc = new Int32Array(m.rows * bpr);
  const cols = m.cols;
  const packed = m.packed;
  for (let r = 0; r < m.rows; r++) {
    const base = r * rowBytes;
    // Walk whole bytes (4 elements each); block boundaries are multiples of 4 for every format.
    for (let b = 0; b < bpr; b++) {
      const c0 = b * block;
      const c1 = Math.min(cols, c0 + block);
      let s = 0;
      for (let c = c0; c < c1; c += 4) {
        const byte = packed[base + (c >> 2)]!;
        s += ((byte & 3) - 1) * q[c]!;
        if (c + 1 < c1) s += (((byte >> 2) & 3) - 1) * q[c + 1]!;
        if (c + 2 < c1) s += (((byte >> 4) & 3) - 1) * q[c + 2]!;
        if (c + 3 < c1) s += (((byte >> 6) & 3) - 1) * q[c + 3]!;
      }
      acc[r * bpr + b] = s;
    }
  }
  return acc;
}

/**
 * Scales integer accumulators to f32 outputs: y[r] = Σ_b acc[r,b] · s_b / a_scale · outScale.
 * Order of f32 operations: per block `fround(acc * s)`, summed in f32, then `/ a_scale`, then `* outScale`.
 */
export function scaleAccumulators(m: TernaryMatrix, acc: Int32Array, aScale: number, outScale = 1, out?: Float32Array): Float32Array {
  const bpr = blocksPerRow(m);
  const y = out ?? new Float32Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    if (m.blockScales) {
      for (let b = 0; b < bpr; b++) s = Math.fround(s + Math.fround(acc[r * bpr + b]! * m.blockScales[r * bpr + b]!));
    } else {
      s = Math.fround(acc[r]! * m.scale);
    }
    let v = Math.fround(s / aScale);
    if (outScale !== 1) v = Math.fround(v * outScale);
    y[r] = v;
  }
  return y;
}

/** BitLinear: quantize x per token, integer matmul, apply scales. */
export function bitLinear(m: TernaryMatrix, x: Float32Array, outScale = 1): Float32Array {
  const a = quantizeActivations(x);
  return scaleAccumulators(m, ternaryAccumulate(m, a.q), a.scale, outScale);
}

/** RMSNorm: y = w · x / sqrt(mean(x²) + eps); the mean is accumulated in f64 as llama.cpp does. */
export function rmsNorm(x: Float32Array, w: Float32Array, eps: number, out?: Float32Array): Float32Array {
  const n = x.length;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[i]! * x[i]!;
  const inv = Math.fround(1 / Math.sqrt(ss / n + eps));
  const y = out ?? new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.fround(w[i]! * Math.fround(x[i]! * inv));
  return y;
}

/** Rotary embedding in place on one head vector `x[off .. off+headDim)`. */
export function rope(x: Float32Array, off: number, headDim: number, ropeDim: number, pos: number, theta: number, type: 'neox' | 'normal'): void {
  const half = ropeDim >> 1;
  for (let i = 0; i < half; i++) {
    const freq = Math.pow(theta, (-2 * i) / ropeDim);
    const ang = pos * freq;
    const c = Math.cos(ang);
    const s = Math.sin(ang);
    const i0 = type === 'neox' ? off + i : off + 2 * i;
    const i1 = type === 'neox' ? off + i + half : off + 2 * i + 1;
    const a = x[i0]!;
    const b = x[i1]!;
    x[i0] = a * c - b * s;
    x[i1] = a * s + b * c;
  }
}

export function silu(z: number): number {
  return z / (1 + Math.exp(-z));
}

export function relu2(z: number): number {
  return z > 0 ? z * z : 0;
}

/** In-place numerically stable softmax over x[0..n). */
export function softmax(x: Float32Array, n = x.length): void {
  let mx = -Infinity;
  for (let i = 0; i < n; i++) if (x[i]! > mx) mx = x[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[i]! - mx);
    x[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) x[i] = x[i]! / sum;
}
