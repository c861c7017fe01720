/**
 * Bit-exactness of the wasm SIMD kernels against the scalar contract (src/backends/reference/kernels.ts):
 * integer accumulators and scaled outputs of ternary GEMV / GEMM (per-tensor and per-block scales,
 * shapes that are not multiples of 16/32/64/128/256, single and multi-threaded), activation
 * quantization codes / scales / sums (ties, zeros, tiny inputs), and shape checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quantizeActivations, scaleAccumulators, ternaryAccumulate } from '../src/backends/reference/kernels.js';
import { WasmKernels } from '../src/backends/wasm/kernels-api.js';
import { WasmRuntime } from '../src/backends/wasm/wasm-runtime.js';
import { isBitNetError } from '../src/errors.js';
import type { FloatMatrix, TernaryMatrix } from '../src/model/tensor.js';
import { f16ToF32, f32ToF16 } from '../src/model/formats/index.js';
import { randomTernary, rng } from './wasm-utils.js';

const codes = (r: () => number, n: number): Int8Array => new Int8Array(n).map(() => Math.floor(r() * 256) - 128);

// [rows, cols, scaleBlock (0 = per tensor)]
const SHAPES: [number, number, number][] = [
  [1, 16, 0], [5, 32, 0], [7, 100, 0], [9, 128, 0], [3, 200, 0], [33, 256, 0], [17, 1000, 0], [10, 2560, 0],
  [4, 64, 64], [16, 128, 64], [5, 320, 128], [33, 256, 256], [6, 1000, 256], [65, 640, 256], [8, 2560, 256], [3, 6912, 256],
];

for (const threads of [1, 3]) {
  describe(`ternary kernels, ${threads} thread(s)`, () => {
    let rt: WasmRuntime;
    let k: WasmKernels;
    beforeAll(async () => {
      rt = await WasmRuntime.create({ threads });
      k = new WasmKernels(rt);
    });
    afterAll(async () => rt.close());

    it('GEMV and GEMM accumulators equal ternaryAccumulate bit for bit', async () => {
      const r = rng(11 + threads);
      for (const [rows, cols, sb] of SHAPES) {
        const m = randomTernary(r, rows, cols, sb);
        const dev = await k.uploadTernary(m);
        for (const nTok of [1, 2, 4, 7, 9, 14]) { // 9 = table-lookup block of 8 + 1 on bn_ternary; 14 = 8 + 6, both table lookups
          const qs = Array.from({ length: nTok }, () => codes(r, cols));
          const got = k.ternaryAccumulate(dev, qs);
          qs.forEach((q, t) => expect(Array.from(got[t]!), `${rows}x${cols} sb=${sb} tok ${t}/${nTok}`).toEqual(Array.from(ternaryAccumulate(m, q))));
        }
      }
    });

    it('scaled outputs equal scaleAccumulators bit for bit (with and without .scale)', async () => {
      const r = rng(23 + threads);
      for (const [rows, cols, sb] of SHAPES) {
        const m = randomTernary(r, rows, cols, sb);
        const dev = await k.uploadTernary(m);
        const qs = Array.from({ length: 13 }, () => codes(r, cols)); // 8 on the table-lookup kernels, 5 on bn_ternary
        const aScales = qs.map(() => Math.fround(1 + r() * 200));
        for (const outScale of [1, Math.fround(0.8125)]) {
          const got = k.ternaryScaled(dev, qs, aScales, outScale);
          qs.forEach((q, t) => {
            const want = scaleAccumulators(m, ternaryAccumulate(m, q), aScales[t]!, outScale);
            expect(Array.from(got[t]!), `${rows}x${cols} sb=${sb}`).toEqual(Array.from(want));
          });
        }
      }
    });

    it('blocks of 6–8 tokens run on the table-lookup kernels, fewer on bn_ternary (same bits either way)', async () => {
      const r = rng(31 + threads);
      const m = randomTernary(r, 40, 1000, 256);
      const dev = await k.uploadTernary(m);
      const ops: string[] = [];
      const run = rt.run.bind(rt);
      rt.run = (op, job, work) => (ops.push(op), run(op, job, work));
      try {
        const qs = Array.from({ length: 9 }, () => codes(r, 1000));
        const got = k.ternaryAccumulate(dev, qs);
        expect(ops).toEqual(['bn_lut_build', 'bn_ternary_lut', 'bn_ternary']);
        ops.length = 0;
        const plain = new WasmKernels(rt, false).ternaryAccumulate(dev, qs);
        expect(ops).toEqual(['bn_ternary']);
        expect(got.map((a) => Array.from(a))).toEqual(plain.map((a) => Array.from(a)));
      } finally {
        rt.run = run;
      }
    });

    it('extreme codes: all −128 / +127 against all-±1 rows do not saturate', async () => {
      const rows = 4, cols = 6912;
      const t = new Uint8Array(rows * (cols / 4));
      t.fill(0x00, 0, cols / 4); // row 0: all −1
      t.fill(0xaa, cols / 4, cols / 2); // row 1: all +1
      t.fill(0x55, cols / 2); // rows 2–3: zero
      const m: TernaryMatrix = { kind: 'ternary', rows, cols, packed: t, scale: 1, blockScales: null, scaleBlock: cols, sourceType: 'test' };
      const dev = await k.uploadTernary(m);
      const got = k.ternaryAccumulate(dev, [new Int8Array(cols).fill(-128), new Int8Array(cols).fill(127)]);
      expect(Array.from(got[0]!)).toEqual([128 * cols, -128 * cols, 0, 0]);
      expect(Array.from(got[1]!)).toEqual([-127 * cols, 127 * cols, 0, 0]);
      // The same extremes through the table-lookup kernels (8 tokens: i16 chunk sums must not wrap).
      const eight = k.ternaryAccumulate(dev, Array.from({ length: 8 }, (_, t) => new Int8Array(cols).fill(t % 2 ? 127 : -128)));
      eight.forEach((a, t) => expect(Array.from(a)).toEqual(t % 2 ? [-127 * cols, 127 * cols, 0, 0] : [128 * cols, -128 * cols, 0, 0]));
    });
  });
}

describe('activation quantization', () => {
  let rt: WasmRuntime;
  let k: WasmKernels;
  beforeAll(async () => {
    rt = await WasmRuntime.create({ threads: 1 });
    k = new WasmKernels(rt);
  });
  afterAll(async () => rt.close());

  it('codes, a_scale and Σq equal quantizeActivations (random, ties, zeros, tiny, huge)', () => {
    const r = rng(5);
    for (const n of [1, 7, 16, 63, 64, 65, 100, 640, 2560, 6912]) {
      const cases: Float32Array[] = [
        new Float32Array(n).map(() => Math.fround((r() * 2 - 1) * 3)),
        new Float32Array(n).map(() => Math.fround(r() * 1e-7)), // below the 1e-5 floor
        new Float32Array(n).map(() => Math.fround((r() - 0.5) * 1e30)),
        new Float32Array(n), // zeros
      ];
      const ties = new Float32Array(n).map(() => Math.floor(r() * 200 - 100) + 0.5);
      ties[0] = 127; // amax 127 → a_scale exactly 1 → every other element is an exact .5 tie
      cases.push(ties);
      for (const x of cases) {
        const [got] = k.quantize([x]);
        const want = quantizeActivations(x);
        expect(Array.from(got!.q)).toEqual(Array.from(want.q));
        expect(got!.scale).toBe(want.scale);
        expect(got!.sum).toBe(want.sum);
      }
    }
  });

  it('batched quantization treats every token independently', () => {
    const r = rng(9);
    const xs = Array.from({ length: 6 }, (_, t) => new Float32Array(300).map(() => Math.fround((r() - 0.5) * (t + 1))));
    const got = k.quantize(xs);
    xs.forEach((x, t) => expect(Array.from(got[t]!.q)).toEqual(Array.from(quantizeActivations(x).q)));
  });
});

describe('float-matrix products (logits kernels)', () => {
  it('F32 / F16 / BF16 / Q8_0 rows match the reference decode; Q8 conversion error is bounded', async () => {
    const rt = await WasmRuntime.create({ threads: 2, minParallelWork: 0 });
    try {
      const k = new WasmKernels(rt);
      const r = rng(31);
      for (const cols of [8, 13, 64, 96, 256]) {
        const rows = 37;
        const vals = new Float32Array(rows * cols).map(() => Math.fround((r() - 0.5) * 2));
        const f16 = new Uint16Array(vals.length).map((_, i) => f32ToF16(vals[i]!));
        const dec16 = Float32Array.from(f16, (h) => f16ToF32(h));
        const bf16 = new Uint16Array(new Uint32Array(vals.buffer).map((u) => u >>> 16));
        const decbf = new Float32Array(new Uint32Array(bf16).map((u) => u << 16).buffer);
        const xs = Array.from({ length: 6 }, () => new Float32Array(cols).map(() => Math.fround((r() - 0.5) * 4)));
        const ref = (dec: Float32Array, x: Float32Array): number[] =>
          Array.from({ length: rows }, (_, i) => dec.subarray(i * cols, (i + 1) * cols).reduce((a, v, c) => a + v * x[c]!, 0));
        const mats: [FloatMatrix, Float32Array][] = [
          [{ kind: 'float', rows, cols, storage: 'f32', data: new Uint8Array(vals.buffer.slice(0)) }, vals],
          [{ kind: 'float', rows, cols, storage: 'f16', data: new Uint8Array(f16.buffer) }, dec16],
          [{ kind: 'float', rows, cols, storage: 'bf16', data: new Uint8Array(bf16.buffer) }, decbf],
        ];
        for (const [m, dec] of mats) {
          const got = k.floatMatVec(await k.uploadFloat(m), xs);
          xs.forEach((x, t) => ref(dec, x).forEach((v, i) => expect(Math.abs(got[t]![i]! - v), `${m.storage} ${cols}`).toBeLessThan(1e-5 * cols)));
          if (cols % 32 === 0) {
            // Converted to Q8 (Q8_0 reference encoding): per-element error ≤ d/2 = absmax/254 per block.
            for (const int8 of [false, true]) {
              const q = k.floatMatVec(await k.uploadFloat(m, true), xs, int8);
              xs.forEach((x, t) => ref(dec, x).forEach((v, i) => {
                const bound = (int8 ? 2 : 1) * (1 / 254) * x.reduce((a, xv) => a + Math.abs(xv), 0) + 1e-4;
                expect(Math.abs(q[t]![i]! - v)).toBeLessThan(bound);
              }));
            }
          }
        }
      }
    } finally {
      await rt.close();
    }
  });
});

describe('shape checks', () => {
  it('mismatched activation lengths throw SHAPE_MISMATCH before any work', async () => {
    const rt = await WasmRuntime.create({ threads: 1 });
    try {
      const k = new WasmKernels(rt);
      const dev = await k.uploadTernary(randomTernary(rng(1), 4, 128));
      const top = rt.arena.top;
      for (const f of [
        () => k.ternaryAccumulate(dev, [new Int8Array(127)]),
        () => k.ternaryScaled(dev, [new Int8Array(128)], [1, 2]),
        () => k.quantize([new Float32Array(4), new Float32Array(5)]),
      ]) {
        let err: unknown;
        try {
          f();
        } catch (e) {
          err = e;
        }
        expect(isBitNetError(err, 'SHAPE_MISMATCH'), String(err)).toBe(true);
      }
      expect(rt.arena.top).toBe(top);
    } finally {
      await rt.close();
    }
  });
});
