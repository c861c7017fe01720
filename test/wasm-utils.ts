/** Helpers shared by the wasm backend tests (random ternary matrices, deterministic PRNG). */
import type { TernaryMatrix } from '../src/model/tensor.js';

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

/** Random canonical ternary matrix; scaleBlock > 0 → per-block scales. */
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
    const bs = new Float32Array(rows * Math.ceil(cols / scaleBlock)).map(() => Math.fround(0.05 + r()));
    return { kind: 'ternary', rows, cols, packed, scale: 0, blockScales: bs, scaleBlock, sourceType: 'test' };
  }
  return { kind: 'ternary', rows, cols, packed, scale: Math.fround(0.1 + r()), blockScales: null, scaleBlock: cols, sourceType: 'test' };
}

