/**
 * Whole-model WebGPU forward passes (Dawn / SwiftShader in Node) against the reference backend on a
 * tiny random model: logits of every token ('all'), 'last' for several sequences in one batch,
 * 'hidden', prefill (GEMM path) then decode steps (GEMV path), truncation and errors.
 * Tolerance: |logit − reference| ≤ 1e-4 · (1 + max|reference logit|) (observed ~1e-6: the integer
 * parts are exact; f32 reductions are ordered differently).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { WebGPUBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { SHADERS } from '../src/backends/webgpu/shaders.generated.js';
import { isBitNetError } from '../src/errors.js';
import { tinyModel } from './helpers/tiny-model.js';
import { describeWebGPU, expectClose, webgpuEnv } from './helpers/webgpu.js';

const env = await webgpuEnv();

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isBitNetError(e) ? e.code : String(e)).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describeWebGPU('WebGPU backend vs reference (tiny model)', env, ({ gpu }) => {
  const tm = tinyModel({ nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 96, vocabSize: 50, nLayer: 2, contextLength: 64, outScales: true, untied: true, seed: 7 });
  let gb: WebGPUBackend;
  const rb = new ReferenceBackend(tm.weights);

  beforeAll(async () => {
    gb = await WebGPUBackend.create(tm.weights, { gpu, allowFallbackAdapter: true, maxSequences: 3, maxBatch: 16, shaderSources: SHADERS });
  });
  afterAll(async () => gb?.dispose());

  it('prefill (GEMM, chunked) + decode (GEMV): logits of every token match', async () => {
    const prompt = [3, 17, 5, 5, 22, 0, 9, 44, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 49]; // 21 tokens > maxBatch 16
    const sg = gb.createSequence();
    const sr = rb.createSequence();
    const [g] = await gb.forward([{ seq: sg, tokens: prompt }], { output: 'all' });
    const [r] = await rb.forward([{ seq: sr, tokens: prompt }], { output: 'all' });
    expectClose(g!, r!, 'prefill logits');
    expect(gb.sequenceLength(sg)).toBe(prompt.length);
    for (const t of [7, 30, 2]) {
      const [gl] = await gb.forward([{ seq: sg, tokens: [t] }]);
      const [rl] = await rb.forward([{ seq: sr, tokens: [t] }]);
      expectClose(gl!, rl!, `decode ${t}`);
    }
    // Truncate and re-run: the cache past the cut is overwritten.
    gb.truncateSequence(sg, 5);
    rb.truncateSequence(sr, 5);
    const [g2] = await gb.forward([{ seq: sg, tokens: [11, 12] }], { output: 'all' });
    const [r2] = await rb.forward([{ seq: sr, tokens: [11, 12] }], { output: 'all' });
    expectClose(g2!, r2!, 'after truncate');
    gb.freeSequence(sg);
    rb.freeSequence(sr);
  });

  it("batched 'last' over several sequences and 'hidden' match", async () => {
    const gs = [gb.createSequence(), gb.createSequence()];
    const rs = [rb.createSequence(), rb.createSequence()];
    const a = [1, 2, 3];
    const b = [40, 41, 42, 43, 44];
    const g = await gb.forward([{ seq: gs[0]!, tokens: a }, { seq: gs[1]!, tokens: b }]);
    const r = await rb.forward([{ seq: rs[0]!, tokens: a }, { seq: rs[1]!, tokens: b }]);
    expectClose(g[0]!, r[0]!, 'seq a');
    expectClose(g[1]!, r[1]!, 'seq b');
    // Two decode tokens, one per sequence, in one call (GEMV with 2 tokens).
    const g2 = await gb.forward([{ seq: gs[0]!, tokens: [5] }, { seq: gs[1]!, tokens: [6] }]);
    const r2 = await rb.forward([{ seq: rs[0]!, tokens: [5] }, { seq: rs[1]!, tokens: [6] }]);
    expectClose(g2[0]!, r2[0]!, 'decode a');
    expectClose(g2[1]!, r2[1]!, 'decode b');
    const [gh] = await gb.forward([{ seq: gs[0]!, tokens: [8, 9] }], { output: 'hidden' });
    const [rh] = await rb.forward([{ seq: rs[0]!, tokens: [8, 9] }], { output: 'hidden' });
    expectClose(gh!, rh!, 'hidden');
    for (const s of gs) gb.freeSequence(s);
  });

  it('rejects bad input without appending, enforces slots and context', async () => {
    const s = gb.createSequence();
    await expectCode(gb.forward([{ seq: s, tokens: [1, 50] }]), 'BAD_INPUT');
    await expectCode(gb.forward([{ seq: 999, tokens: [1] }]), 'BAD_INPUT');
    await expectCode(gb.forward([{ seq: s, tokens: new Array(65).fill(1) }]), 'CONTEXT_OVERFLOW');
    expect(gb.sequenceLength(s)).toBe(0);
    const others = [gb.createSequence(), gb.createSequence()];
    await expectCode(() => gb.createSequence(), 'OUT_OF_MEMORY');
    for (const o of [s, ...others]) gb.freeSequence(o);
    const again = gb.createSequence();
    expect(gb.sequenceLength(again)).toBe(0);
    gb.freeSequence(again);
  });
});
