/**
 * GPU-side sampling (`sampleNext`): greedy tokens identical to the reference backend's argmax, and
 * seeded non-greedy draws identical to the CPU Sampler (src/runtime/sampler.ts) fed the same GPU
 * logits (top-k / top-p / min-p / repetition penalty on the exact sorted path). The wide-nucleus
 * fallback (vocabulary > 1024 with neither top-k nor a nucleus inside the best 1024) is checked for
 * determinism, validity and its limit at a tiny temperature. Uses an F16-embedding fixture.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { WebGPUBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { makeFixture } from '../src/model/fixtures.js';
import { loadModel } from '../src/model/load-model.js';
import type { ModelWeights } from '../src/model/tensor.js';
import { argmax, Sampler, type SamplingOptions } from '../src/runtime/sampler.js';
import { describeWebGPU, webgpuEnv } from './helpers/webgpu.js';

const env = await webgpuEnv();

describeWebGPU('WebGPU sampling', env, ({ gpu }) => {
  let w: ModelWeights;
  let gb: WebGPUBackend;
  beforeAll(async () => {
    const m = await loadModel(await makeFixture({ embeddingType: 'F16', nEmbd: 64, nFf: 128, nHead: 4, nHeadKv: 2, vocab: 1500, nMerges: 8, nLayer: 1, contextLength: 64 }), { onWarning: () => undefined });
    await m.file.close();
    w = m.weights;
    gb = await WebGPUBackend.create(w, { gpu, allowFallbackAdapter: true, maxSequences: 4, maxBatch: 8 });
  });
  afterAll(async () => gb?.dispose());

  const prompt = [5, 17, 200, 3, 9, 1400];

  it('greedy tokens are identical to the reference backend', async () => {
    const rb = new ReferenceBackend(w);
    const sr = rb.createSequence();
    const sg = gb.createSequence();
    let [rl] = await rb.forward([{ seq: sr, tokens: prompt }]);
    let [tg] = await gb.sampleNext([{ seq: sg, tokens: prompt }], { temperature: 0 });
    for (let i = 0; i < 6; i++) {
      const tr = argmax(rl!);
      expect(tg, `step ${i}`).toBe(tr);
      [rl] = await rb.forward([{ seq: sr, tokens: [tr] }]);
      [tg] = await gb.sampleNext([{ seq: sg, tokens: [tr] }], { temperature: 0 });
    }
    gb.freeSequence(sg);
  });

  const exact: SamplingOptions[] = [
    { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 },
    { temperature: 1.3, topK: 0, topP: 0.6, minP: 0.02, seed: 2 },
    { temperature: 1, topK: 7, topP: 1, repetitionPenalty: 1.5, repetitionLastN: 16, seed: 3 },
  ];
  for (const opts of exact) {
    it(`seeded draws equal the CPU Sampler on the same logits: ${JSON.stringify(opts)}`, async () => {
      const sa = gb.createSequence();
      const sb = gb.createSequence();
      const cpu = new Sampler(opts);
      const history = [...prompt];
      let [logits] = await gb.forward([{ seq: sa, tokens: prompt }]);
      let [id] = await gb.sampleNext([{ seq: sb, tokens: prompt }], opts);
      for (let i = 0; i < 8; i++) {
        const want = cpu.sample(logits!, history);
        expect(id, `step ${i}`).toBe(want);
        history.push(want);
        [logits] = await gb.forward([{ seq: sa, tokens: [want] }]);
        [id] = await gb.sampleNext([{ seq: sb, tokens: [want] }], opts);
      }
      gb.freeSequence(sa);
      gb.freeSequence(sb);
    });
  }

  it('wide-nucleus fallback: deterministic per seed, valid ids, argmax at a tiny temperature', async () => {
    const s = [gb.createSequence(), gb.createSequence(), gb.createSequence()];
    const wide: SamplingOptions = { temperature: 5, topK: 0, topP: 0.99, seed: 42 };
    const a = await gb.sampleNext([{ seq: s[0]!, tokens: prompt }, { seq: s[1]!, tokens: prompt }], [wide, wide]);
    expect(a[0]).toBe(a[1]);
    expect(a[0]! >= 0 && a[0]! < 1500).toBe(true);
    const [logits] = await gb.forward([{ seq: s[2]!, tokens: prompt }]);
    const [cold] = await gb.sampleNext([{ seq: s[0]!, tokens: [1] }], { temperature: 1e-3, topK: 0, topP: 1, seed: 7 });
    const [ref] = await gb.forward([{ seq: s[2]!, tokens: [1] }]);
    expect(cold).toBe(argmax(ref!));
    expect(logits!.length).toBe(1500);
    for (const q of s) gb.freeSequence(q);
  });
});
