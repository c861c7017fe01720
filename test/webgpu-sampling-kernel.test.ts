/**
 * The GPU sampling kernel (shaders/sample.wgsl via GpuSampler) on synthetic logits, many items per
 * dispatch: greedy argmax with ties (→ lowest id), and seeded draws identical to the CPU Sampler
 * (src/runtime/sampler.ts) given the same u — temperature, top-k, top-p, min-p, repetition penalty
 * on the exact sorted path (candidates ≤ 1024, incl. ties at the top-k boundary). The wide-nucleus
 * fallback (vocabulary > 1024, no top-k, nucleus wider than 1024) draws the same distribution in
 * index order: checked for validity, determinism and its limits.
 */
import { expect, it } from 'vitest';
import { GpuSampler } from '../src/backends/webgpu/gpu-sampler.js';
import { createRng } from '../src/runtime/rng.js';
import { resolveSamplingOptions, Sampler, type SamplingOptions } from '../src/runtime/sampler.js';
import { describeWebGPU, emptyBuffer, readBuffer, testDevice, webgpuEnv } from './helpers/webgpu.js';

const env = await webgpuEnv();
const V = 1500;

interface Case { opts: SamplingOptions; logits: Float32Array<ArrayBuffer>; history: number[] }

function randomLogits(seed: number, spread: number): Float32Array<ArrayBuffer> {
  const r = createRng(seed);
  return Float32Array.from({ length: V }, () => (r.nextFloat() * 2 - 1) * spread);
}

describeWebGPU('WebGPU sampling kernel', env, ({ gpu }) => {
  it('matches the CPU Sampler draw for draw; greedy ties → lowest id; fallback is sane', async () => {
    const device = await testDevice(gpu);
    try {
      const tied = randomLogits(9, 3);
      tied[700] = 10;
      tied[200] = 10; // greedy tie → 200
      const flatTop = randomLogits(10, 1);
      for (let i = 0; i < 60; i++) flatTop[i * 7] = 4; // 60 equal logits straddle topK 40
      const cases: Case[] = [
        { opts: { temperature: 0 }, logits: tied, history: [] },
        { opts: { temperature: 0, repetitionPenalty: 2, repetitionLastN: 4 }, logits: tied, history: [1, 200, 3] },
        { opts: { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 }, logits: randomLogits(1, 6), history: [] },
        { opts: { temperature: 0.8, topK: 40, topP: 0.95, seed: 11 }, logits: flatTop, history: [] },
        { opts: { temperature: 1.3, topK: 0, topP: 0.6, minP: 0.02, seed: 2 }, logits: randomLogits(2, 12), history: [] },
        { opts: { temperature: 1, topK: 7, topP: 1, repetitionPenalty: 1.5, repetitionLastN: 16, seed: 3 }, logits: randomLogits(3, 4), history: [5, 6, 7, 5, 1499] },
        { opts: { temperature: 0.7, topK: 1024, topP: 0.9, minP: 0.1, seed: 4 }, logits: randomLogits(4, 8), history: [] },
        { opts: { temperature: 2, topK: 3, topP: 0.5, seed: 5 }, logits: randomLogits(5, 2), history: [] },
        { opts: { temperature: 0.5, topK: 0, topP: 1, minP: 0.3, seed: 6 }, logits: randomLogits(6, 20), history: [] },
      ];
      const fallback: Case[] = [
        { opts: { temperature: 1e-3, topK: 0, topP: 1, seed: 7 }, logits: randomLogits(7, 3), history: [] },
        { opts: { temperature: 5, topK: 0, topP: 0.99, seed: 8 }, logits: randomLogits(8, 1), history: [] },
        { opts: { temperature: 5, topK: 0, topP: 0.99, seed: 8 }, logits: randomLogits(8, 1), history: [] },
        { opts: { temperature: 3, topK: 1200, topP: 1, seed: 12 }, logits: randomLogits(12, 1), history: [] },
      ];
      const all = [...cases, ...fallback];
      const logits = emptyBuffer(device, all.length * V * 4);
      all.forEach((c, i) => device.queue.writeBuffer(logits, i * V * 4, c.logits));
      const sampler = await GpuSampler.create(device, { dp4a: false, kvF16: false }, undefined, logits, all.length, V);
      sampler.write(all.map((c, row) => {
        const o = resolveSamplingOptions(c.opts);
        return { options: o, history: c.history, u: o.temperature > 0 ? createRng(o.seed).nextFloat() : 0, row };
      }));
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      sampler.encode(pass, all.length);
      pass.end();
      device.queue.submit([enc.finish()]);
      const ids = new Uint32Array(await readBuffer(device, sampler.outIds, all.length * 4));
      cases.forEach((c, i) => {
        const want = new Sampler(c.opts).sample(c.logits, c.history);
        expect(ids[i], `case ${i} ${JSON.stringify(c.opts)}`).toBe(want);
      });
      expect(ids[0]).toBe(200);
      expect(ids[1]).toBe(700); // 200 was penalized
      const f = cases.length;
      let best = 0;
      for (let v = 1; v < V; v++) if (fallback[0]!.logits[v]! > fallback[0]!.logits[best]!) best = v;
      expect(ids[f], 'tiny temperature draws the argmax').toBe(best);
      expect(ids[f + 1]).toBe(ids[f + 2]);
      for (let i = f; i < all.length; i++) expect(ids[i]! < V).toBe(true);
      // topK 1200: the drawn id must be among the 1200 largest.
      const l = fallback[3]!.logits;
      const rank = [...l].filter((v) => v > l[ids[f + 3]!]!).length;
      expect(rank).toBeLessThan(1200);
      sampler.destroy();
      logits.destroy();
    } finally {
      device.destroy();
    }
  });
});
