/**
 * The wasm worker pool: every worker runs on its own C stack (and the test proves the check can
 * fail: with the module's default stack the instances share one region), results are identical to
 * the single-threaded kernels, dispatch is cheap and reusable, and a trap inside a worker
 * surfaces as WORKER_CRASHED instead of a hang.
 */
import { describe, expect, it } from 'vitest';
import { RJOB_BYTES } from '../src/backends/wasm/abi.js';
import { WasmKernels } from '../src/backends/wasm/kernels-api.js';
import { WasmRuntime } from '../src/backends/wasm/wasm-runtime.js';
import { isBitNetError } from '../src/errors.js';
import { randomTernary, rng } from './wasm-utils.js';

function stackProbe(rt: WasmRuntime, iters: number): { addr: number[]; bad: number[] } {
  const a = rt.arena;
  const n = rt.threads;
  const job = a.alloc(12), addr = a.alloc(4 * n), bad = a.alloc(4 * n);
  const v = a.v.u32;
  v[job >>> 2] = iters;
  v[(job >>> 2) + 1] = addr;
  v[(job >>> 2) + 2] = bad;
  rt.run('bn_stack_probe', job);
  const u = a.v.u32;
  return { addr: Array.from(u.subarray(addr >>> 2, (addr >>> 2) + n)), bad: Array.from(u.subarray(bad >>> 2, (bad >>> 2) + n)) };
}

describe('wasm thread pool', () => {
  it('gives each worker its own C stack inside the region it allocated', async () => {
    const rt = await WasmRuntime.create({ threads: 3 });
    try {
      const { addr, bad } = stackProbe(rt, 3000);
      expect(bad).toEqual([0, 0, 0]);
      expect(new Set(addr).size).toBe(3);
      rt.pool!.stacks.forEach(([lo, hi], i) => {
        expect(addr[i + 1]!).toBeGreaterThanOrEqual(lo);
        expect(addr[i + 1]! + 4096).toBeLessThanOrEqual(hi);
      });
    } finally {
      await rt.close();
    }
  });

  it('negative control: without per-worker stacks all instances use the same stack address', async () => {
    const rt = await WasmRuntime.create({ threads: 3, stackBytes: 0 });
    try {
      const { addr } = stackProbe(rt, 10);
      expect(new Set(addr).size).toBe(1);
    } finally {
      await rt.close();
    }
  });

  it('multi-threaded GEMM equals single-threaded bit for bit across many dispatches', async () => {
    const r = rng(3);
    const m = randomTernary(r, 301, 2560, 256);
    const qs = Array.from({ length: 9 }, () => new Int8Array(2560).map(() => Math.floor(r() * 255) - 127));
    const st = await WasmRuntime.create({ threads: 1 });
    const mt = await WasmRuntime.create({ threads: 4 });
    try {
      const k1 = new WasmKernels(st), k4 = new WasmKernels(mt);
      const want = k1.ternaryScaled(await k1.uploadTernary(m), qs, qs.map((_, i) => i + 1));
      const dev = await k4.uploadTernary(m);
      for (let rep = 0; rep < 20; rep++) {
        const got = k4.ternaryScaled(dev, qs, qs.map((_, i) => i + 1));
        got.forEach((g, t) => expect(Array.from(g)).toEqual(Array.from(want[t]!)));
      }
    } finally {
      await st.close();
      await mt.close();
    }
  });

  it('the same workers serve many dispatches (300 small jobs; round trip logged, not asserted: shared CI cores)', async () => {
    const rt = await WasmRuntime.create({ threads: 2 });
    try {
      const a = rt.arena;
      const buf = a.alloc(1024), res = a.alloc(64), job = a.alloc(RJOB_BYTES);
      const v = a.v.u32;
      v[job >>> 2] = buf;
      v[(job >>> 2) + 1] = 1024;
      v[(job >>> 2) + 2] = res;
      const t0 = performance.now();
      for (let i = 0; i < 300; i++) rt.run('bn_stream_read', job);
      const us = ((performance.now() - t0) / 300) * 1000;
      console.log(`[wasm-threads] dispatch round trip with 2 threads: ${us.toFixed(1)} µs (load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)})`);
      expect(rt.pool!.threads).toBe(2);
    } finally {
      await rt.close();
    }
  });

  it('a trap inside a worker surfaces as WORKER_CRASHED (no hang); the caller’s own trap is rethrown', async () => {
    const rt = await WasmRuntime.create({ threads: 2 });
    try {
      const a = rt.arena;
      const res = a.alloc(64), job = a.alloc(RJOB_BYTES);
      const size = a.size;
      const v = a.v.u32;
      // Part 0 reads [size-128, size) (in bounds); part 1 reads [size, size+128) → out of bounds.
      v[job >>> 2] = size - 128;
      v[(job >>> 2) + 1] = 256;
      v[(job >>> 2) + 2] = res;
      let err: unknown;
      try {
        rt.run('bn_stream_read', job);
      } catch (e) {
        err = e;
      }
      expect(isBitNetError(err, 'WORKER_CRASHED'), String(err)).toBe(true);
      // Part 0 out of bounds: the calling thread's RuntimeError comes back.
      v[job >>> 2] = size;
      expect(() => rt.run('bn_stream_read', job)).toThrow(WebAssembly.RuntimeError);
      // The pool still works afterwards.
      v[job >>> 2] = 0;
      v[(job >>> 2) + 1] = 1024;
      expect(() => rt.run('bn_stream_read', job)).not.toThrow();
    } finally {
      await rt.close();
    }
  });
});
