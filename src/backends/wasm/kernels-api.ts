/**
 * Direct, shape-checked access to individual wasm kernels (tests, benchmarks, experiments):
 * ternary GEMV/GEMM with raw i32 accumulators or scaled f32 outputs, activation quantization,
 * and float-matrix products. Every call validates shapes before touching memory and throws
 * BitNetError SHAPE_MISMATCH; temporaries are released after each call.
 */
import { BitNetError } from '../../errors.js';
import type { FloatMatrix, TernaryMatrix } from '../../model/tensor.js';
import type { QuantizedActivations } from '../reference/kernels.js';
import { FMT, LJOB_BYTES, LUT_BYTES_PER_COL, TJOB_BYTES, writeLJob } from './abi.js';
import { runTernary } from './ternary-dispatch.js';
import type { WasmRuntime } from './wasm-runtime.js';
import { padCols, uploadFloatMatrix, uploadTernaryMatrix, type DevFloat, type DevTernary } from './weights.js';

function shape(what: string, got: number, want: number): void {
  if (got !== want) throw new BitNetError('SHAPE_MISMATCH', `${what}: length ${got} != ${want}`, { details: { got, want } });
}

/** Permuted i16 layout of wasm/bitnet.h: act[64k + 8j + L] = q[64k + 8L + j], zero padded. */
export function permuteCodes(q: Int8Array, colsPad: number, act = new Int16Array(colsPad), chunkSums = new Int32Array(colsPad / 64)): { act: Int16Array; chunkSums: Int32Array } {
  act.fill(0);
  chunkSums.fill(0);
  for (let c = 0; c < q.length; c++) {
    const k = c >> 6, e = c & 63;
    act[64 * k + 8 * (e & 7) + (e >> 3)] = q[c]!;
    chunkSums[k]! += q[c]!;
  }
  return { act, chunkSums };
}

export class WasmKernels {
  /**
   * `lutGemm`: blocks of 6–8 tokens use the table-lookup kernels whatever the matrix size (the
   * transformer only does so from LUT_MIN_ROWS rows), so tests cover them on small shapes (default true).
   */
  constructor(readonly rt: WasmRuntime, readonly lutGemm = true) {}

  uploadTernary(m: TernaryMatrix): Promise<DevTernary> {
    return uploadTernaryMatrix(this.rt, 'matrix', m);
  }

  uploadFloat(m: FloatMatrix, toQ8 = false): Promise<DevFloat> {
    return uploadFloatMatrix(this.rt, m, toQ8);
  }

  /** Raw accumulators acc[r·nblk + b] per token (= kernels.ts ternaryAccumulate), any int8 codes. */
  ternaryAccumulate(m: DevTernary, qs: readonly Int8Array[]): Int32Array[] {
    return this.ternary(m, qs, null, 1) as Int32Array[];
  }

  /** Scaled outputs per token (= kernels.ts scaleAccumulators) for given codes and a_scales. */
  ternaryScaled(m: DevTernary, qs: readonly Int8Array[], aScales: readonly number[], outScale = 1): Float32Array[] {
    shape('a_scales', aScales.length, qs.length);
    return this.ternary(m, qs, aScales, outScale) as Float32Array[];
  }

  private ternary(m: DevTernary, qs: readonly Int8Array[], aScales: readonly number[] | null, outScale: number): (Int32Array | Float32Array)[] {
    for (const q of qs) shape('ternary activation', q.length, m.cols);
    const n = qs.length;
    if (n === 0) return [];
    const a = this.rt.arena;
    const mark = a.mark();
    try {
      const colsPad = m.colsPad, nch = colsPad / 64;
      const act = a.alloc(n * colsPad * 2), cs = a.alloc(n * nch * 4), bs = a.alloc(n * nch * 4), sc = a.alloc(n * 4);
      const ldo = aScales ? m.rows : m.rows * m.nblk;
      const out = a.alloc(n * ldo * 4), job = a.alloc(TJOB_BYTES);
      const tmpA = new Int16Array(colsPad), tmpS = new Int32Array(nch);
      let v = a.v;
      qs.forEach((q, t) => {
        permuteCodes(q, colsPad, tmpA, tmpS);
        v.i16.set(tmpA, (act >>> 1) + t * colsPad);
        v.i32.set(tmpS, (cs >>> 2) + t * nch);
        v.f32[(sc >>> 2) + t] = aScales ? aScales[t]! : 1;
      });
      this.rt.ex.bn_block_sums(cs, n, nch, m.blockChunks, bs);
      const lut = this.lutGemm ? a.alloc(colsPad * LUT_BYTES_PER_COL, 16) : 0;
      runTernary(this.rt, job, {
        nTok: n, colsPad, accMode: !aScales, act, actScale: sc,
        mats: [{ w: m.ptr, rows: m.rows, blockChunks: m.blockChunks, scales: m.scales, blkSum: bs, outScale, out, ldo }],
      }, lut, 0);
      v = a.v;
      const o = out >>> 2;
      return qs.map((_, t) => (aScales ? v.f32.slice(o + t * ldo, o + (t + 1) * ldo) : v.i32.slice(o + t * ldo, o + (t + 1) * ldo)));
    } finally {
      a.release(mark);
    }
  }

  /** Per-token activation quantization (= kernels.ts quantizeActivations), codes un-permuted. */
  quantize(xs: readonly Float32Array[]): QuantizedActivations[] {
    const n = xs.length;
    if (n === 0) return [];
    const cols = xs[0]!.length;
    for (const x of xs) shape('quantize input', x.length, cols);
    const a = this.rt.arena;
    const mark = a.mark();
    try {
      const colsPad = padCols(cols), nch = colsPad / 64;
      const xp = a.alloc(n * cols * 4), act = a.alloc(n * colsPad * 2), cs = a.alloc(n * nch * 4), sc = a.alloc(n * 4);
      xs.forEach((x, t) => a.v.f32.set(x, (xp >>> 2) + t * cols));
      this.rt.ex.bn_quantize(xp, cols, cols, n, act, colsPad, cs, sc);
      const v = a.v;
      return xs.map((_, t) => {
        const q = new Int8Array(cols);
        const base = (act >>> 1) + t * colsPad;
        for (let c = 0; c < cols; c++) q[c] = v.i16[base + 64 * (c >> 6) + 8 * (c & 7) + ((c & 63) >> 3)]!;
        let sum = 0;
        for (let k = 0; k < nch; k++) sum += v.i32[(cs >>> 2) + t * nch + k]!;
        return { q, scale: v.f32[(sc >>> 2) + t]!, sum };
      });
    } finally {
      a.release(mark);
    }
  }

  /** out[t][r] = Σ_c W[r,c]·x_t[c]; `int8` uses per-32-block int8 activations (Q8 matrices only). */
  floatMatVec(m: DevFloat, xs: readonly Float32Array[], int8 = false): Float32Array[] {
    for (const x of xs) shape('float activation', x.length, m.cols);
    const n = xs.length;
    if (n === 0) return [];
    if (int8 && m.fmt !== FMT.q8) throw new BitNetError('BAD_OPTION', 'int8 activations need a Q8 matrix');
    const a = this.rt.arena;
    const mark = a.mark();
    try {
      const xp = a.alloc(n * m.cols * 4), out = a.alloc(n * m.rows * 4), job = a.alloc(LJOB_BYTES);
      const xq = int8 ? a.alloc(n * m.cols * 2) : 0, xd = int8 ? a.alloc(n * (m.cols / 32) * 4) : 0;
      xs.forEach((x, t) => a.v.f32.set(x, (xp >>> 2) + t * m.cols));
      if (int8) this.rt.ex.bn_quantize_q8(xp, m.cols, m.cols, n, xq, xd);
      writeLJob(a.v.u32, job, { mat: m.ptr, fmt: m.fmt, rows: m.rows, cols: m.cols, nTok: n, x: xp, ldx: m.cols, out, ldo: m.rows, xq, xqScale: xd });
      this.rt.run('bn_logits', job);
      const v = a.v.f32;
      return xs.map((_, t) => v.slice((out >>> 2) + t * m.rows, (out >>> 2) + (t + 1) * m.rows));
    } finally {
      a.release(mark);
    }
  }
}
