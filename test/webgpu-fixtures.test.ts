/**
 * WebGPU backend on GGUF fixture models read by the real loader (src/model/fixtures.ts): TQ2_0
 * (block scales) with Q8_0 embeddings and SiLU ('bitnet' arch, projection scales, untied output),
 * and I2_S with BF16 embeddings on the 'llama' arch (no sub-norms) with a tiny binding limit that
 * forces the embedding and output tables into row shards and matrices into row parts.
 * Logits compared with the reference backend (|diff| ≤ 1e-4 · (1 + max|ref|)); greedy tokens identical.
 * Also: a model that cannot fit the limits fails with TOO_LARGE before any device work.
 */
import { expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { WebGPUBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { planModel } from '../src/backends/webgpu/layout.js';
import { makeFixture, type FixtureOptions } from '../src/model/fixtures.js';
import { loadModel } from '../src/model/load-model.js';
import { argmax } from '../src/runtime/sampler.js';
import { isBitNetError } from '../src/errors.js';
import { describeWebGPU, expectClose, webgpuEnv } from './helpers/webgpu.js';

const env = await webgpuEnv();

async function weightsOf(o: FixtureOptions) {
  const m = await loadModel(await makeFixture(o), { onWarning: () => undefined });
  await m.file.close();
  return m.weights;
}

async function compare(gb: WebGPUBackend, rb: ReferenceBackend, prompt: number[], steps: number): Promise<void> {
  const sg = gb.createSequence();
  const sr = rb.createSequence();
  const [g] = await gb.forward([{ seq: sg, tokens: prompt }], { output: 'all' });
  const [r] = await rb.forward([{ seq: sr, tokens: prompt }], { output: 'all' });
  expectClose(g!, r!, 'prefill');
  let gl = g!.subarray(g!.length - gb.plan.vocabOut);
  let rl = r!.subarray(r!.length - gb.plan.vocabOut);
  for (let i = 0; i < steps; i++) {
    const tg = argmax(gl);
    expect(tg, `greedy step ${i}`).toBe(argmax(rl));
    [gl] = (await gb.forward([{ seq: sg, tokens: [tg] }])) as [Float32Array];
    [rl] = (await rb.forward([{ seq: sr, tokens: [tg] }])) as [Float32Array];
    expectClose(gl, rl, `decode ${i}`);
  }
}

describeWebGPU('WebGPU backend on GGUF fixtures', env, ({ gpu }) => {
  it('TQ2_0 + Q8_0 embeddings, SiLU, projection scales, untied output (GPU tuning: 32 lanes/row)', async () => {
    const w = await weightsOf({ arch: 'bitnet', ternaryType: 'TQ2_0', embeddingType: 'Q8_0', nEmbd: 256, nFf: 256, nHead: 4, nHeadKv: 2, vocab: 300, nMerges: 40, nLayer: 1, untiedOutput: true, projectionScales: true, contextLength: 32 });
    expect(w.config.activation).toBe('silu');
    const gb = await WebGPUBackend.create(w, { gpu, allowFallbackAdapter: true, maxSequences: 1, lanes: 32 });
    expect(gb.description).toContain('32 lanes/row');
    try {
      await compare(gb, new ReferenceBackend(w), [5, 17, 200, 3, 9], 3);
    } finally {
      await gb.dispose();
    }
  });

  it('I2_S + BF16 embeddings, llama arch, tables and matrices sharded by a 2 KiB binding limit', async () => {
    const w = await weightsOf({ arch: 'llama', ternaryType: 'I2_S', embeddingType: 'BF16', nEmbd: 64, nFf: 128, nHead: 4, nHeadKv: 1, vocab: 260, nMerges: 4, nLayer: 2, contextLength: 16 });
    const gb = await WebGPUBackend.create(w, { gpu, allowFallbackAdapter: true, maxSequences: 1, maxContext: 16, maxBatch: 4, bindingLimit: 2048 });
    try {
      expect(gb.plan.embed.shards.length).toBeGreaterThan(1);
      expect(gb.plan.parts.length).toBeGreaterThan(7 * 2);
      await compare(gb, new ReferenceBackend(w, { maxContext: 16 }), [1, 2, 3, 250, 4, 5, 6, 7, 8, 9, 10], 2);
    } finally {
      await gb.dispose();
    }
  });

  it('TOO_LARGE before any upload when one row cannot fit a binding', async () => {
    const w = await weightsOf({ nEmbd: 64, nFf: 128, nHead: 4, nHeadKv: 1, vocab: 260, nMerges: 4, nLayer: 1, contextLength: 16 });
    expect(() => planModel(w, { bindingLimit: 64, maxContext: 16, maxSequences: 1, maxBatch: 1, kvElemBytes: 4 })).toThrow(/binding limit/);
    try {
      await WebGPUBackend.create(w, { gpu, allowFallbackAdapter: true, bindingLimit: 64 });
      throw new Error('expected TOO_LARGE');
    } catch (e) {
      expect(isBitNetError(e, 'TOO_LARGE'), String(e)).toBe(true);
    }
  });
});
