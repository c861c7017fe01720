/**
 * Shared helpers of the wasm kernel tests: random ternary matrices in the canonical layout,
 * the permuted i16 activation layout the kernels read, and direct calls of bn_ternary.
 */
import type { TernaryMatrix } from '../src/model/tensor.js';
import { writeTJob, TJOB_BYTES } from '../src/backends/wasm/abi.js';
import type { WasmRuntime } from '../src/backends/wasm/wasm-runtime.js';
import { padCols, uploadTernaryMatrix, type DevTernary } from '../src/backends/wasm/weights.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random ternary matrix; `scaleBlock` > 0 gives per-block scales. */
export function randomTernary(r: () => number, rows: number, cols: number, scaleBlock = 0): TernaryMatrix {
  const rb = (cols + 3) >> 2;
  const packed = new Uint8Array(rows * rb).fill(0x55);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      const u = r();
      const code = u < 0.3 ? 0 : u < 0.6 ? 2 : 1;
      const k = i * rb + (c >> 2), sh = (c & 3) * 2;
      packed[k] = (packed[k]! & ~(3 << sh)) | (code << sh);
    }
  }
  if (scaleBlock > 0) {
    const nblk = Math.ceil(cols / scaleBlock);
    const bs = new Float32Array(rows * nblk).map(() => Math.fround(0.05 + r()));
    return { kind: 'ternary', rows, cols, packed, scale: 0, blockScales: bs, scaleBlock, sourceType: 'test' };
  }
  return { kind: 'ternary', rows, cols, packed, scale: Math.fround(0.1 + r()), blockScales: null, scaleBlock: cols, sourceType: 'test' };
}

export function randomCodes(r: () => number, n: number): Int8Array {
  return new Int8Array(n).map(() => Math.floor(r() * 256) - 128);
}

/** Permuted i16 layout of bitnet.h: act[64k + 8j + L] = q[64k + 8L + j], zero padded. */
export function permuteCodes(q: Int8Array, colsPad: number): { act: Int16Array; chunkSums: Int32Array } {
  const act = new Int16Array(colsPad);
  const chunkSums = new Int32Array(colsPad / 64);
  for (let c = 0; c < q.length; c++) {
    const k = c >> 6, e = c & 63, L = e >> 3, j = e & 7;
    act[64 * k + 8 * j + L] = q[c]!;
    chunkSums[k] += q[c]!;
  }
  return { act, chunkSums };
}

/**
 * Runs bn_ternary on `qs` (one Int8Array per token) through `rt.run` (all threads).
 * accMode: returns i32 accumulators per token (rows × nblk); else f32 outputs with the given a_scales.
 */
export function runTernary(rt: WasmRuntime, dev: DevTernary, qs: Int8Array[], accMode: boolean, aScales: number[] = [], outScale = 1): (Int32Array | Float32Array)[] {
  const a = rt.arena;
  const mark = a.mark();
  const n = qs.length;
  const colsPad = dev.colsPad;
  const nch = colsPad / 64;
  const act = a.alloc(n * colsPad * 2);
  const cs = a.alloc(n * nch * 4);
  const bs = a.alloc(n * nch * 4);
  const sc = a.alloc(n * 4);
  const ldo = accMode ? dev.rows * dev.nblk : dev.rows;
  const out = a.alloc(n * ldo * 4);
  const job = a.alloc(TJOB_BYTES);
  let v = a.v;
  qs.forEach((q, t) => {
    const p = permuteCodes(q, colsPad);
    v.i16.set(p.act, (act >>> 1) + t * colsPad);
    v.i32.set(p.chunkSums, (cs >>> 2) + t * nch);
    v.f32[(sc >>> 2) + t] = aScales[t] ?? 1;
  });
  rt.ex.bn_block_sums(cs, n, nch, dev.blockChunks, bs);
  v = a.v;
  writeTJob(v.u32, v.f32, job, {
    nTok: n, colsPad, accMode, act, actScale: sc,
    mats: [{ w: dev.ptr, rows: dev.rows, blockChunks: dev.blockChunks, scales: dev.scales, blkSum: bs, outScale, out, ldo }],
  });
  rt.run('bn_ternary', job);
  v = a.v;
  const res = qs.map((_, t) => (accMode ? v.i32.slice((out >>> 2) + t * ldo, (out >>> 2) + (t + 1) * ldo) : v.f32.slice((out >>> 2) + t * ldo, (out >>> 2) + (t + 1) * ldo)));
  a.release(mark);
  return res;
}

export { padCols, uploadTernaryMatrix };
