/**
 * `sampleNext` end to end (forward + GPU sampling, only ids read back) on an F16-embedding fixture:
 * greedy tokens identical to the reference backend's argmax, and seeded draws identical to the CPU
 * Sampler fed the same GPU logits, with the per-sequence RNG carried across calls. The kernel's
 * option coverage is in webgpu-sampling-kernel.test.ts.
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
    const m = await loadModel(await makeFixture({ embeddingType: 'F16', nEmbd: 64, nFf: 128, nHead: 4, nHeadKv: 2, vocab: 300, nMerges: 8, nLayer: 1, contextLength: 64 }), { onWarning: () => undefined });
    await m.file.close();
    w = m.weights;
    gb = await WebGPUBackend.create(w, { gpu, allowFallbackAdapter: true, maxSequences: 4, maxBatch: 8 });
  });
  afterAll(async () => gb?.dispose());

  const prompt = [5, 17, 200, 3, 9, 299];

  it('greedy tokens are identical to the reference backend', async () => {
    const rb = new ReferenceBackend(w);
    const sr = rb.createSequence();
    const sg = gb.createSequence();
    let [rl] = await rb.forward([{ seq: sr, tokens: prompt }]);
    let [tg] = await gb.sampleNext([{ seq: sg, tokens: prompt }], { temperature: 0 });
    for (let i = 0; i < 4; i++) {
      const tr = argmax(rl!);
      expect(tg, `step ${i}`).toBe(tr);
      [rl] = await rb.forward([{ seq: sr, tokens: [tr] }]);
      [tg] = await gb.sampleNext([{ seq: sg, tokens: [tr] }], { temperature: 0 });
    }
    gb.freeSequence(sg);
  });

  const exact: SamplingOptions[] = [
    { temperature: 1.2, topK: 40, topP: 0.95, repetitionPenalty: 1.3, seed: 1 },
  ];
  for (const opts of exact) {
    it(`seeded draws equal the CPU Sampler on the same logits: ${JSON.stringify(opts)}`, async () => {
      const sa = gb.createSequence();
      const sb = gb.createSequence();
      const cpu = new Sampler(opts);
      const history = [...prompt];
      let [logits] = await gb.forward([{ seq: sa, tokens: prompt }]);
      let [id] = await gb.sampleNext([{ seq: sb, tokens: prompt }], opts);
      for (let i = 0; i < 4; i++) {
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

});
