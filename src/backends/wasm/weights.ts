/**
 * Uploads ModelWeights into wasm memory in the layouts the kernels read (no JS copy is kept):
 *
 * - Ternary matrices: the canonical packing of src/model/tensor.ts, each row padded with code 1
 *   (zero) to a multiple of 64 elements and 16-byte aligned — the kernel reads 16-byte chunks as
 *   eight u16 lanes and permutes the *activations* instead of the weights (see wasm/bitnet.h), so
 *   rows whose length is a multiple of 64 are copied verbatim. Scales: one f32 (per tensor) or
 *   rows × ceil(cols/scaleBlock) f32 (per-block, e.g. TQ1_0/TQ2_0; scaleBlock must be a multiple of 64).
 * - Float matrices: F32/F16/BF16 rows verbatim; Q8_0 split into an int8 plane and an f32 scale
 *   plane (BN_Q8). With `outputQ8` an F32/F16/BF16 output matrix (and the tied embedding, which is
 *   the same tensor) is converted to BN_Q8 with the Q8_0 reference encoding.
 * - Norm gains: f32 arrays.
 */
import { BitNetError, throwIfAborted } from '../../errors.js';
import type { FloatMatrix, ModelWeights, TernaryMatrix } from '../../model/tensor.js';
import { FMT } from './abi.js';
import { MAX_BYTES, align } from './arena.js';
import type { WasmRuntime } from './wasm-runtime.js';

export interface DevTernary {
  readonly ptr: number;
  readonly rows: number;
  readonly cols: number;
  readonly colsPad: number;
  /** Scale block length in 64-element chunks; 0 = per-tensor. */
  readonly blockChunks: number;
  readonly nblk: number;
  readonly scales: number;
}

export interface DevFloat {
  readonly ptr: number;
  readonly fmt: number;
  readonly rows: number;
  readonly cols: number;
}

export interface DevLayer {
  readonly attnNorm: number;
  readonly attnSubNorm: number;
  readonly ffnNorm: number;
  readonly ffnSubNorm: number;
  readonly wq: DevTernary;
  readonly wk: DevTernary;
  readonly wv: DevTernary;
  readonly wo: DevTernary;
  readonly wGate: DevTernary;
  readonly wUp: DevTernary;
  readonly wDown: DevTernary;
}

export interface DevModel {
  readonly layers: readonly DevLayer[];
  readonly tokenEmbd: DevFloat;
  readonly output: DevFloat;
  readonly outputNorm: number;
  /** Bytes of weights in wasm memory. */
  readonly bytes: number;
}

export interface UploadOptions {
  /** Store the output (and tied embedding) matrix as Q8 instead of F16/F32/BF16. */
  readonly outputQ8?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (fraction: number) => void;
}

export const padCols = (cols: number): number => Math.ceil(cols / 64) * 64;

function ternaryBytes(m: TernaryMatrix): number {
  const nblk = m.blockScales ? Math.ceil(m.cols / m.scaleBlock) : 1;
  return align(m.rows * (padCols(m.cols) / 4), 64) + align(m.rows * nblk * 4, 64);
}

function floatFmt(m: FloatMatrix, toQ8: boolean): number {
  if (m.storage === 'q8_0' || (toQ8 && m.cols % 32 === 0)) return FMT.q8;
  return FMT[m.storage as 'f32' | 'f16' | 'bf16'];
}

function floatBytes(m: FloatMatrix, fmt: number): number {
  if (fmt === FMT.q8) return align(m.rows * m.cols, 64) + align(m.rows * (m.cols / 32) * 4, 64);
  return align(m.rows * m.cols * (fmt === FMT.f32 ? 4 : 2), 64);
}

/** Bytes the weights will occupy in wasm memory. */
export function estimateWeightBytes(w: ModelWeights, outputQ8 = false): number {
  let n = 0;
  const tied = w.output === w.tokenEmbd;
  n += floatBytes(w.tokenEmbd, floatFmt(w.tokenEmbd, tied && outputQ8));
  if (!tied) n += floatBytes(w.output, floatFmt(w.output, outputQ8));
  n += align(w.outputNorm.length * 4, 64);
  for (const l of w.layers) {
    for (const m of [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]) n += ternaryBytes(m);
    for (const v of [l.attnNorm, l.ffnNorm, l.attnSubNorm, l.ffnSubNorm]) if (v) n += align(v.length * 4, 64);
  }
  return n;
}

/** Checks what the kernels support. @throws BitNetError BAD_TENSOR_SHAPE / BAD_TENSOR_TYPE */
export function checkTernary(name: string, m: TernaryMatrix): void {
  const rb = (m.cols + 3) >> 2;
  if (m.packed.length < m.rows * rb) throw new BitNetError('BAD_TENSOR_SHAPE', `${name}: ${m.packed.length} packed bytes for ${m.rows}×${m.cols}`);
  if (m.blockScales) {
    if (m.scaleBlock % 64 !== 0 || m.scaleBlock <= 0) {
      throw new BitNetError('BAD_TENSOR_TYPE', `${name}: wasm kernels need scale blocks that are multiples of 64 elements, got ${m.scaleBlock}`);
    }
    const nblk = Math.ceil(m.cols / m.scaleBlock);
    if (m.blockScales.length < m.rows * nblk) throw new BitNetError('BAD_TENSOR_SHAPE', `${name}: ${m.blockScales.length} block scales, need ${m.rows * nblk}`);
  }
}

class Uploader {
  private done = 0;
  private lastYield = 0;
  constructor(private readonly rt: WasmRuntime, private readonly total: number, private readonly o: UploadOptions) {}

  private async progress(bytes: number): Promise<void> {
    this.done += bytes;
    this.o.onProgress?.(Math.min(1, this.done / this.total));
    if (this.done - this.lastYield > 64 << 20) {
      this.lastYield = this.done;
      await new Promise<void>((r) => setTimeout(r, 0));
    }
    throwIfAborted(this.o.signal);
  }

  floats(v: Float32Array): number {
    const a = this.rt.arena;
    const p = a.alloc(v.length * 4);
    a.v.f32.set(v, p >>> 2);
    return p;
  }

  async ternary(name: string, m: TernaryMatrix): Promise<DevTernary> {
    checkTernary(name, m);
    const a = this.rt.arena;
    const colsPad = padCols(m.cols);
    const drb = colsPad / 4;
    const srb = (m.cols + 3) >> 2;
    const ptr = a.alloc(m.rows * drb, 64);
    const u8 = a.v.u8;
    if (drb === srb) {
      u8.set(m.packed.subarray(0, m.rows * srb), ptr);
    } else {
      u8.fill(0x55, ptr, ptr + m.rows * drb);
      const tailMask = m.cols & 3 ? (1 << ((m.cols & 3) * 2)) - 1 : 0;
      for (let r = 0; r < m.rows; r++) {
        const d = ptr + r * drb;
        u8.set(m.packed.subarray(r * srb, r * srb + srb), d);
        if (tailMask) u8[d + srb - 1] = (u8[d + srb - 1]! & tailMask) | (0x55 & ~tailMask);
      }
    }
    let nblk = 1;
    let blockChunks = 0;
    let scales: number;
    if (m.blockScales) {
      nblk = Math.ceil(m.cols / m.scaleBlock);
      blockChunks = m.scaleBlock / 64;
      scales = this.floats(m.blockScales.subarray(0, m.rows * nblk));
    } else {
      scales = this.floats(Float32Array.of(m.scale));
    }
    await this.progress(m.rows * drb);
    return { ptr, rows: m.rows, cols: m.cols, colsPad, blockChunks, nblk, scales };
  }

  async float(m: FloatMatrix, toQ8: boolean): Promise<DevFloat> {
    const a = this.rt.arena;
    const ex = this.rt.ex;
    const fmt = floatFmt(m, toQ8);
    const rows = m.rows;
    const cols = m.cols;
    if (fmt !== FMT.q8) {
      const bytes = rows * cols * (fmt === FMT.f32 ? 4 : 2);
      if (m.data.length < bytes) throw new BitNetError('BAD_TENSOR_SHAPE', `float matrix ${rows}×${cols} ${m.storage}: ${m.data.length} bytes`);
      const ptr = a.alloc(bytes);
      a.v.u8.set(m.data.subarray(0, bytes), ptr);
      await this.progress(bytes);
      return { ptr, fmt, rows, cols };
    }
    const nb = cols / 32;
    const qPlane = a.alloc(rows * cols, 64);
    const dPlane = a.alloc(rows * nb * 4, 64); // = qPlane + align64(rows·cols), as BN_Q8_DPLANE expects
    const srcRow = m.storage === 'q8_0' ? nb * 34 : cols * (m.storage === 'f32' ? 4 : 2);
    if (m.data.length < rows * srcRow) throw new BitNetError('BAD_TENSOR_SHAPE', `float matrix ${rows}×${cols} ${m.storage}: ${m.data.length} bytes`);
    const chunkRows = Math.max(1, Math.floor((4 << 20) / srcRow));
    const mark = a.mark();
    const stage = a.alloc(chunkRows * srcRow);
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const n = Math.min(chunkRows, rows - r0);
      a.v.u8.set(m.data.subarray(r0 * srcRow, (r0 + n) * srcRow), stage);
      if (m.storage === 'q8_0') ex.bn_q8_0_unpack(stage, n, cols, qPlane + r0 * cols, dPlane + r0 * nb * 4);
      else ex.bn_to_q8(stage, FMT[m.storage], n, cols, qPlane + r0 * cols, dPlane + r0 * nb * 4);
      await this.progress(n * srcRow);
    }
    a.release(mark);
    return { ptr: qPlane, fmt, rows, cols };
  }
}

/** Uploads one ternary matrix (kernel tests and benchmarks). */
export async function uploadTernaryMatrix(rt: WasmRuntime, name: string, m: TernaryMatrix): Promise<DevTernary> {
  return new Uploader(rt, 1, {}).ternary(name, m);
}

/** Uploads one float matrix, optionally converted to Q8 (kernel tests and benchmarks). */
export async function uploadFloatMatrix(rt: WasmRuntime, m: FloatMatrix, toQ8 = false): Promise<DevFloat> {
  return new Uploader(rt, 1, {}).float(m, toQ8);
}

/**
 * Copies the model into wasm memory.
 * @throws BitNetError TOO_LARGE (before any copy) when the weights cannot fit in wasm32 memory,
 *   OUT_OF_MEMORY when the memory cannot grow, BAD_TENSOR_* for matrices the kernels cannot read.
 */
export async function uploadWeights(rt: WasmRuntime, w: ModelWeights, o: UploadOptions = {}): Promise<DevModel> {
  const outputQ8 = o.outputQ8 ?? false;
  const total = estimateWeightBytes(w, outputQ8);
  if (rt.arena.top + total > MAX_BYTES) {
    throw new BitNetError('TOO_LARGE', `model needs ${total} bytes of wasm memory, wasm32 allows ${MAX_BYTES}`, { details: { bytes: total } });
  }
  w.layers.forEach((l, i) => {
    const names = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_gate', 'ffn_up', 'ffn_down'];
    [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown].forEach((m, j) => checkTernary(`blk.${i}.${names[j]}`, m));
  });
  const start = rt.arena.top;
  const up = new Uploader(rt, total, o);
  const tied = w.output === w.tokenEmbd;
  const tokenEmbd = await up.float(w.tokenEmbd, tied && outputQ8);
  const output = tied ? tokenEmbd : await up.float(w.output, outputQ8);
  const outputNorm = up.floats(w.outputNorm);
  const layers: DevLayer[] = [];
  for (let i = 0; i < w.layers.length; i++) {
    const l = w.layers[i]!;
    const p = `blk.${i}.`;
    layers.push({
      attnNorm: up.floats(l.attnNorm),
      attnSubNorm: l.attnSubNorm ? up.floats(l.attnSubNorm) : 0,
      ffnNorm: up.floats(l.ffnNorm),
      ffnSubNorm: l.ffnSubNorm ? up.floats(l.ffnSubNorm) : 0,
      wq: await up.ternary(p + 'attn_q', l.wq),
      wk: await up.ternary(p + 'attn_k', l.wk),
      wv: await up.ternary(p + 'attn_v', l.wv),
      wo: await up.ternary(p + 'attn_output', l.wo),
      wGate: await up.ternary(p + 'ffn_gate', l.wGate),
      wUp: await up.ternary(p + 'ffn_up', l.wUp),
      wDown: await up.ternary(p + 'ffn_down', l.wDown),
    });
  }
  return { layers, tokenEmbd, output, outputNorm, bytes: rt.arena.top - start };
}
