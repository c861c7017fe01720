/**
 * Bit-exactness of the WGSL activation quantization and ternary GEMV / GEMM against kernels.ts:
 * activation codes, and the exact integer accumulators per (row, scale block), for random shapes
 * (sizes not multiples of the 16-element word or 64-element tile), per-tensor and per-block
 * scales, both the packed-dot (dot4I8Packed) and the plain WGSL variants.
 */
import { expect, it } from 'vitest';
import { quantizeActivations, scaleAccumulators, ternaryAccumulate } from '../src/backends/reference/kernels.js';
import { bindGroup, createKernelSet, type KernelSet } from '../src/backends/webgpu/pipelines.js';
import { matParams, PREP_QUANT, prepParams, stepParams } from '../src/backends/webgpu/params.js';
import { repackTernaryRows, ternaryGpuShape, ternaryScales } from '../src/backends/webgpu/repack.js';
import { BufferUsage } from '../src/backends/webgpu/gpu-constants.js';
import { hasPackedDot } from '../src/probe/webgpu-features.js';
import type { TernaryMatrix } from '../src/model/tensor.js';
import { createRng } from '../src/runtime/rng.js';
import { describeWebGPU, dispatch, emptyBuffer, readBuffer, testDevice, uploadBuffer, webgpuEnv } from './helpers/webgpu.js';

const env = await webgpuEnv();
const rng = createRng(1234);
const randInt = (lo: number, hi: number): number => lo + Math.floor(rng.nextFloat() * (hi - lo + 1));

function randomTernary(rows: number, cols: number, scaleBlock: number | null): TernaryMatrix {
  const rowBytes = (cols + 3) >> 2;
  const packed = new Uint8Array(rows * rowBytes).fill(0x55);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const code = randInt(0, 2);
      const i = r * rowBytes + (c >> 2);
      const sh = (c & 3) * 2;
      packed[i] = (packed[i]! & ~(3 << sh)) | (code << sh);
    }
  }
  if (scaleBlock === null) return { kind: 'ternary', rows, cols, packed, scale: 0.25 + rng.nextFloat(), blockScales: null, scaleBlock: cols, sourceType: 'test' };
  const bpr = Math.ceil(cols / scaleBlock);
  const blockScales = Float32Array.from({ length: rows * bpr }, () => 0.25 + rng.nextFloat());
  return { kind: 'ternary', rows, cols, packed, scale: 1, blockScales, scaleBlock, sourceType: 'test' };
}

/** Random activations with ties: every token has one element at absmax 127·k so x·scale hits .5 exactly. */
function randomActivations(n: number, cols: number): Float32Array {
  const x = new Float32Array(n * cols);
  for (let t = 0; t < n; t++) {
    const mag = [1, 3, 0.01, 100][t % 4]!;
    for (let c = 0; c < cols; c++) x[t * cols + c] = (rng.nextFloat() * 2 - 1) * mag;
    if (t % 3 === 0 && cols > 2) {
      // absmax 127 → a_scale exactly 1 → half-integers are exact ties.
      x[t * cols] = 127;
      for (let c = 1; c < cols; c++) x[t * cols + c] = randInt(-126, 126) + 0.5;
    }
  }
  return x;
}

interface Case { rows: number; cols: number; tokens: number; scaleBlock: number | null }

async function runCase(ks: KernelSet, cs: Case, kernel: 'gemv' | 'gemm'): Promise<void> {
  const device = ks.device;
  const m = randomTernary(cs.rows, cs.cols, cs.scaleBlock);
  const shape = ternaryGpuShape(m);
  const x = randomActivations(cs.tokens, cs.cols);
  const k16 = shape.k16;
  // Activation quantization on the GPU.
  const xBuf = uploadBuffer(device, x);
  const dummy = emptyBuffer(device, 16);
  const actQ = emptyBuffer(device, cs.tokens * k16 * 16);
  const actSum = emptyBuffer(device, cs.tokens * k16 * 4);
  const actScale = emptyBuffer(device, cs.tokens * 4);
  const pp = uploadBuffer(device, prepParams({ n: cs.cols, flags: PREP_QUANT, inStride: cs.cols, outStride: 0, qStride: k16, eps: 0 }), BufferUsage.UNIFORM);
  dispatch(device, ks.pipelines.prep, bindGroup(ks, 'prep', [pp, xBuf, xBuf, xBuf, dummy, actQ, actSum, actScale]), cs.tokens);
  const qWords = new Int8Array(await readBuffer(device, actQ));
  const scales = new Float32Array(await readBuffer(device, actScale));
  const refs = [];
  for (let t = 0; t < cs.tokens; t++) {
    const ref = quantizeActivations(x.subarray(t * cs.cols, (t + 1) * cs.cols));
    refs.push(ref);
    const got = qWords.subarray(t * k16 * 16, t * k16 * 16 + cs.cols);
    expect(Array.from(got), `codes of token ${t}`).toEqual(Array.from(ref.q));
    expect(qWords.subarray(t * k16 * 16 + cs.cols, (t + 1) * k16 * 16).every((v) => v === 0)).toBe(true);
    expect(scales[t]).toBe(ref.scale);
  }
  // Integer accumulators (ACC_MODE) and the f32 outputs.
  const w = uploadBuffer(device, repackTernaryRows(m));
  const sc = uploadBuffer(device, ternaryScales(m));
  const acc = emptyBuffer(device, cs.tokens * cs.rows * shape.bpr * 4);
  const y = emptyBuffer(device, cs.tokens * cs.rows * 4);
  const outScale = 0.75;
  const mp = uploadBuffer(device, matParams(shape, { actStride: k16, rowOffset: 0, rowsTotal: cs.rows, residual: false, outScale }), BufferUsage.UNIFORM);
  const sp = uploadBuffer(device, stepParams(cs.tokens, 0), BufferUsage.UNIFORM);
  const g = bindGroup(ks, kernel, [mp, w, sc, actQ, actSum, actScale, y, acc, sp]);
  const grid: [number, number] = kernel === 'gemv' ? [Math.ceil(cs.rows / (256 / ks.lanes)), cs.tokens] : [Math.ceil(cs.rows / 64), Math.ceil(cs.tokens / 32)];
  dispatch(device, kernel === 'gemv' ? ks.pipelines.gemvAcc : ks.pipelines.gemmAcc, g, ...grid);
  dispatch(device, ks.pipelines[kernel], g, ...grid);
  const accGot = new Int32Array(await readBuffer(device, acc));
  const yGot = new Float32Array(await readBuffer(device, y));
  for (let t = 0; t < cs.tokens; t++) {
    const ref = ternaryAccumulate(m, refs[t]!.q);
    const got = accGot.subarray(t * ref.length, (t + 1) * ref.length);
    let bad = -1;
    for (let i = 0; i < ref.length; i++) if (got[i] !== ref[i]) { bad = i; break; }
    expect(bad, `${kernel} ${JSON.stringify(cs)} token ${t}: first mismatching accumulator ${bad} got ${got[bad]} want ${ref[bad]}`).toBe(-1);
    const yRef = scaleAccumulators(m, ref, refs[t]!.scale, outScale);
    const bpr = shape.bpr;
    for (let r = 0; r < cs.rows; r++) {
      // f32 summation order of block terms may differ (GEMV lanes): bound by Σ|term|.
      let mag = 0;
      for (let b = 0; b < bpr; b++) mag += Math.abs(ref[r * bpr + b]! * (m.blockScales ? m.blockScales[r * bpr + b]! : m.scale));
      const tol = 2e-6 * Math.max(1e-3, (mag / refs[t]!.scale) * outScale);
      expect(Math.abs(yGot[t * cs.rows + r]! - yRef[r]!), `${kernel} ${JSON.stringify(cs)} y[${t},${r}] got ${yGot[t * cs.rows + r]} want ${yRef[r]}`).toBeLessThanOrEqual(tol * 4);
    }
  }
  for (const b of [xBuf, dummy, actQ, actSum, actScale, pp, w, sc, acc, y, mp, sp]) b.destroy();
}

const CASES: Case[] = [
  { rows: 1, cols: 1, tokens: 1, scaleBlock: null },
  { rows: 5, cols: 7, tokens: 2, scaleBlock: null },
  { rows: 64, cols: 256, tokens: 1, scaleBlock: 256 },
  { rows: 33, cols: 100, tokens: 3, scaleBlock: 32 },
  { rows: 70, cols: 300, tokens: 1, scaleBlock: 48 },
  { rows: 17, cols: 130, tokens: 37, scaleBlock: null },
  { rows: 65, cols: 515, tokens: 33, scaleBlock: 256 },
  { rows: 9, cols: 1000, tokens: 5, scaleBlock: 16 },
];

describeWebGPU('WebGPU ternary GEMV / GEMM / activation quantization', env, ({ gpu }) => {
  // GPU tuning (dp4a, 32 lanes per GEMV row, 256 threads per token) and CPU tuning (plain, 1, 1).
  for (const [dp4a, lanes, prepThreads] of [[true, 32, 256], [false, 1, 1]] as const) {
    it(`${dp4a ? 'dot4I8Packed' : 'plain'} variant (${lanes} lane(s)/row, ${prepThreads} prep thread(s)) is bit-exact with kernels.ts`, async () => {
      if (dp4a) expect(hasPackedDot(gpu), 'Dawn should expose packed_4x8_integer_dot_product').toBe(true);
      const device = await testDevice(gpu);
      try {
        const t0 = performance.now();
        const ks = await createKernelSet(device, { dp4a, kvF16: false }, undefined, ['prep', 'gemv', 'gemm'], true, lanes, prepThreads);
        if (process.env.BITNET_TEST_TIMING) console.log('compile', (performance.now() - t0).toFixed(0), 'ms');
        for (const cs of CASES) {
          let t0 = performance.now();
          await runCase(ks, cs, 'gemm');
          if (process.env.BITNET_TEST_TIMING) console.log('gemm', JSON.stringify(cs), (performance.now() - t0).toFixed(0), 'ms');
          t0 = performance.now();
          if (cs.tokens <= 5) await runCase(ks, cs, 'gemv');
          if (process.env.BITNET_TEST_TIMING) console.log('gemv', JSON.stringify(cs), (performance.now() - t0).toFixed(0), 'ms');
        }
      } finally {
        device.destroy();
      }
    });
  }
});
