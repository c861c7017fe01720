/**
 * The binary interface of wasm/build/bitnet-simd*.wasm: export signatures, numeric format ids and
 * the word layouts of the job descriptors the parallel kernels read (mirrors wasm/bitnet.h; the C
 * side asserts the struct sizes). Pointers are unsigned 32-bit byte offsets into the memory.
 */

/** Float-matrix storage ids understood by bn_embed / bn_logits. */
export const FMT = { f32: 0, f16: 1, bf16: 2, q8: 3 } as const;
export type FloatFormat = keyof typeof FMT;

/** Exports of the kernel module (all pointers/sizes are i32 on the wasm side). */
export interface KernelExports {
  _initialize(): void;
  stackRestore(sp: number): void;
  stackSave(): number;
  bn_heap_base(): number;
  bn_ternary(job: number, part: number, nparts: number): void;
  bn_lut_build(job: number, part: number, nparts: number): void;
  bn_ternary_lut(job: number, part: number, nparts: number): void;
  bn_block_sums(chunkSum: number, nTok: number, nChunks: number, blockChunks: number, out: number): void;
  bn_quantize(x: number, ldx: number, n: number, nTok: number, act: number, colsPad: number, chunkSum: number, scale: number): void;
  bn_quantize_q8(x: number, ldx: number, n: number, nTok: number, q: number, d: number): void;
  bn_rmsnorm(x: number, ldx: number, w: number, y: number, ldy: number, n: number, nTok: number, eps: number): void;
  bn_add(x: number, ldx: number, y: number, ldy: number, n: number, nTok: number): void;
  bn_glu(g: number, ldg: number, u: number, ldu: number, out: number, ldo: number, n: number, nTok: number, act: number): void;
  bn_embed(mat: number, fmt: number, rows: number, cols: number, tokens: number, nTok: number, out: number, ldo: number): void;
  bn_rope_table(pos: number, nTok: number, ropeDim: number, theta: number, cs: number): void;
  bn_rope(x: number, ldx: number, nTok: number, nHead: number, headDim: number, ropeDim: number, neox: number, cs: number): void;
  bn_kv_store(k: number, ldk: number, v: number, ldv: number, nTok: number, tokPos: number, tokPages: number, pageSize: number, layerOff: number, vOff: number, kvDim: number): void;
  bn_attention(job: number, part: number, nparts: number): void;
  bn_logits(job: number, part: number, nparts: number): void;
  bn_to_q8(src: number, fmt: number, nRows: number, cols: number, dq: number, dd: number): void;
  bn_q8_0_unpack(src: number, nRows: number, cols: number, dq: number, dd: number): void;
  bn_stream_read(job: number, part: number, nparts: number): void;
  bn_stack_probe(job: number, part: number, nparts: number): void;
}

/** Parallel kernels, by the index the thread pool's control block carries. */
export const PARALLEL_OPS = ['bn_ternary', 'bn_logits', 'bn_attention', 'bn_stream_read', 'bn_stack_probe', 'bn_lut_build', 'bn_ternary_lut'] as const;
export type ParallelOp = (typeof PARALLEL_OPS)[number];

export const MAX_MATS = 4;
/** bn_tjob: 8 header words + 4 × bn_tmat (9 words). */
export const TJOB_BYTES = 32 + MAX_MATS * 36;
export const LJOB_BYTES = 44;
export const AJOB_BYTES = 64;
export const RJOB_BYTES = 12;

/** One matrix entry of a ternary job. */
export interface TMatDesc {
  readonly w: number;
  readonly rows: number;
  /** Scale block length in 64-element chunks, 0 for one per-tensor scale. */
  readonly blockChunks: number;
  readonly scales: number;
  readonly blkSum: number;
  readonly outScale: number;
  readonly out: number;
  readonly ldo: number;
}

export interface TJobDesc {
  readonly nTok: number;
  readonly colsPad: number;
  readonly accMode: boolean;
  readonly act: number;
  readonly actScale: number;
  readonly mats: readonly TMatDesc[];
  /** Table for bn_lut_build / bn_ternary_lut (colsPad × LUT_BYTES_PER_COL bytes, 16-aligned); 0 otherwise. */
  readonly lut?: number;
}

/** Table bytes per (padded) input column of the table-lookup kernels (256 entries × 8 tokens × i16 per 4 columns). */
export const LUT_BYTES_PER_COL = 1024;
/** Tokens one table-lookup pass covers (i16x8 lanes). */
export const LUT_TOKENS = 8;

export interface LJobDesc {
  readonly mat: number;
  readonly fmt: number;
  readonly rows: number;
  readonly cols: number;
  readonly nTok: number;
  readonly x: number;
  readonly ldx: number;
  readonly out: number;
  readonly ldo: number;
  /** i16 codes from bn_quantize_q8, or 0 for the f32-activation path. */
  readonly xq: number;
  readonly xqScale: number;
}

export interface AJobDesc {
  readonly q: number;
  readonly ldq: number;
  readonly out: number;
  readonly ldo: number;
  readonly nTok: number;
  readonly tokPos: number;
  readonly tokPages: number;
  readonly pageSize: number;
  readonly layerOff: number;
  readonly vOff: number;
  readonly nHead: number;
  readonly nKv: number;
  readonly headDim: number;
  readonly scale: number;
  readonly scratch: number;
  readonly scratchStride: number;
}

/** Writes job descriptors into linear memory (views are re-fetched by the caller after growth). */
export function writeTJob(u32: Uint32Array, f32: Float32Array, ptr: number, d: TJobDesc): void {
  if (d.mats.length < 1 || d.mats.length > MAX_MATS) throw new RangeError(`ternary job: 1..${MAX_MATS} matrices`);
  const o = ptr >>> 2;
  u32[o] = d.mats.length;
  u32[o + 1] = d.nTok;
  u32[o + 2] = d.colsPad;
  u32[o + 3] = d.accMode ? 1 : 0;
  u32[o + 4] = d.act;
  u32[o + 5] = d.actScale;
  u32[o + 6] = d.lut ?? 0;
  u32[o + 7] = 0;
  d.mats.forEach((m, i) => {
    const b = o + 8 + i * 9;
    u32[b] = m.w;
    u32[b + 1] = m.rows;
    u32[b + 2] = m.blockChunks;
    u32[b + 3] = m.scales;
    u32[b + 4] = m.blkSum;
    f32[b + 5] = m.outScale;
    u32[b + 6] = m.out;
    u32[b + 7] = m.ldo;
    u32[b + 8] = 0;
  });
}

export function writeLJob(u32: Uint32Array, ptr: number, d: LJobDesc): void {
  const o = ptr >>> 2;
  const w = [d.mat, d.fmt, d.rows, d.cols, d.nTok, d.x, d.ldx, d.out, d.ldo, d.xq, d.xqScale];
  for (let i = 0; i < w.length; i++) u32[o + i] = w[i]!;
}

export function writeAJob(u32: Uint32Array, f32: Float32Array, ptr: number, d: AJobDesc): void {
  const o = ptr >>> 2;
  const w = [d.q, d.ldq, d.out, d.ldo, d.nTok, d.tokPos, d.tokPages, d.pageSize, d.layerOff, d.vOff, d.nHead, d.nKv, d.headDim, 0, d.scratch, d.scratchStride];
  for (let i = 0; i < w.length; i++) u32[o + i] = w[i]!;
  f32[o + 13] = d.scale;
}
