/**
 * Whole-model behaviour of the wasm backend against the reference backend on generated GGUF
 * fixtures (every architecture, ternary type and embedding type): logits within a stated
 * tolerance, identical greedy tokens, batching / chunking / threads not changing results, the
 * Q8 output option's accuracy, sequence management and the error contract.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { listBackendFactories, selectBackendFactory } from '../src/backends/registry.js';
import { WasmBackend, type WasmBackendOptions } from '../src/backends/wasm/wasm-backend.js';
import { isBitNetError } from '../src/errors.js';
import { makeFixture, type FixtureOptions } from '../src/model/fixtures.js';
import { loadModel } from '../src/model/load-model.js';
import type { ModelWeights, TernaryMatrix } from '../src/model/tensor.js';

/** Stated tolerance: |wasm − reference| ≤ LOGIT_TOL · max(1, max |reference logit|) per position. */
const LOGIT_TOL = 1e-4;

const cache = new Map<string, Promise<ModelWeights>>();
function weights(o: FixtureOptions): Promise<ModelWeights> {
  const key = JSON.stringify(o);
  if (!cache.has(key)) cache.set(key, makeFixture({ seed: 5, ...o }).then(async (b) => (await loadModel(b)).weights));
  return cache.get(key)!;
}

const opened: Backend[] = [];
async function wasm(w: ModelWeights, o: WasmBackendOptions = {}): Promise<WasmBackend> {
  const b = await WasmBackend.create(w, o);
  opened.push(b);
  return b;
}
afterAll(async () => {
  for (const b of opened) await b.dispose();
});

const argmax = (v: Float32Array): number => v.reduce((bi, x, i) => (x > v[bi]! ? i : bi), 0);

function compare(ref: Float32Array, got: Float32Array, width: number): { maxDiff: number; rel: number; top1: number } {
  let maxDiff = 0, rel = 0, agree = 0;
  const rows = ref.length / width;
  for (let r = 0; r < rows; r++) {
    const a = ref.subarray(r * width, (r + 1) * width), b = got.subarray(r * width, (r + 1) * width);
    let d = 0, m = 1;
    for (let i = 0; i < width; i++) {
      d = Math.max(d, Math.abs(a[i]! - b[i]!));
      m = Math.max(m, Math.abs(a[i]!));
    }
    maxDiff = Math.max(maxDiff, d);
    rel = Math.max(rel, d / m);
    if (argmax(a) === argmax(b)) agree++;
  }
  return { maxDiff, rel, top1: agree / rows };
}

/** Prompt logits ('all') and `steps` greedy tokens on both backends. */
async function run(b: Backend, prompt: number[], steps: number): Promise<{ all: Float32Array; greedy: number[] }> {
  const s = b.createSequence();
  const [all] = await b.forward([{ seq: s, tokens: prompt }], { output: 'all' });
  const V = all!.length / prompt.length;
  let last = all!.subarray(all!.length - V);
  const greedy: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = argmax(last);
    greedy.push(t);
    [last] = await b.forward([{ seq: s, tokens: [t] }]);
  }
  b.freeSequence(s);
  return { all: all!, greedy };
}

const PROMPT = [1, 17, 250, 3, 99, 42, 7, 300, 5];

const VARIANTS: [string, FixtureOptions, WasmBackendOptions][] = [
  ['bitnet-b1.58 I2_S F16', { arch: 'bitnet-b1.58', ternaryType: 'I2_S', embeddingType: 'F16' }, {}],
  ['bitnet-b1.58 TQ2_0 Q8_0 untied, 2 threads', { arch: 'bitnet-b1.58', ternaryType: 'TQ2_0', embeddingType: 'Q8_0', untiedOutput: true }, { threads: 2, minParallelWork: 0 }],
  ['bitnet-25 TQ1_0 BF16', { arch: 'bitnet-25', ternaryType: 'TQ1_0', embeddingType: 'BF16' }, {}],
  ['bitnet (SiLU) TQ2_0 F32 + .scale tensors', { arch: 'bitnet', ternaryType: 'TQ2_0', embeddingType: 'F32', projectionScales: true }, {}],
  ['bitnet (SiLU) I2_S F16 MHA, 3 threads', { arch: 'bitnet', ternaryType: 'I2_S', embeddingType: 'F16', nHeadKv: 4 }, { threads: 3, minParallelWork: 0 }],
  ['llama (no sub-norms) I2_S Q8_0', { arch: 'llama', ternaryType: 'I2_S', embeddingType: 'Q8_0' }, {}],
  ['bitnet-b1.58 hidden_activation=silu TQ1_0 F16', { arch: 'bitnet-b1.58', ternaryType: 'TQ1_0', embeddingType: 'F16', hiddenActivation: 'silu' }, {}],
];

describe('wasm backend vs reference backend (fixtures)', () => {
  for (const [name, fo, wo] of VARIANTS) {
    it(`${name}: logits within ${LOGIT_TOL}·max|logit|, greedy tokens identical`, async () => {
      const w = await weights(fo);
      const ref = await run(new ReferenceBackend(w), PROMPT, 6);
      const got = await run(await wasm(w, wo), PROMPT, 6);
      const c = compare(ref.all, got.all, w.output.rows);
      console.log(`[wasm-backend] ${name}: max |Δlogit| ${c.maxDiff.toExponential(2)} (rel ${c.rel.toExponential(2)})`);
      expect(c.rel, `max diff ${c.maxDiff}`).toBeLessThanOrEqual(LOGIT_TOL);
      expect(c.top1).toBe(1);
      expect(got.greedy).toEqual(ref.greedy);
    });
  }
});

describe('batching, chunking and threads do not change results', () => {
  it('one batched forward of several sequences equals separate forwards, bit for bit', async () => {
    const w = await weights({ arch: 'bitnet-b1.58', ternaryType: 'I2_S' });
    const b = await wasm(w, { maxBatchTokens: 5 });
    const prompts = [[1, 2, 3, 4, 5, 6, 7], [9, 8], [100, 200, 300, 400]];
    const sep: Float32Array[] = [];
    for (const p of prompts) {
      const s = b.createSequence();
      sep.push((await b.forward([{ seq: s, tokens: p }], { output: 'all' }))[0]!);
    }
    const seqs = prompts.map(() => b.createSequence());
    const batched = await b.forward(prompts.map((p, i) => ({ seq: seqs[i]!, tokens: p })), { output: 'all' });
    batched.forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(sep[i]!)));
    // The same sequence twice in one call continues where the first item ended.
    const s2 = b.createSequence();
    const split = await b.forward([{ seq: s2, tokens: prompts[0]!.slice(0, 3) }, { seq: s2, tokens: prompts[0]!.slice(3) }], { output: 'all' });
    expect(Array.from(split[1]!)).toEqual(Array.from(sep[0]!.subarray(3 * w.output.rows)));
    expect(b.sequenceLength(s2)).toBe(7);
  });

  it('a batched decode step of 8 sequences on the table-lookup GEMM equals single-sequence steps, bit for bit', async () => {
    // nFf 1024: the gate/up job has 2048 rows, enough for the table-lookup kernels (LUT_MIN_ROWS).
    const w = await weights({ arch: 'bitnet-b1.58', ternaryType: 'I2_S', nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 1024, vocab: 384 });
    const results: Float32Array[][] = [];
    for (const lutGemm of [true, false]) {
      const b = await wasm(w, { lutGemm, threads: 2 });
      const seqs = Array.from({ length: 9 }, () => b.createSequence());
      await b.forward(seqs.map((s, i) => ({ seq: s, tokens: [1 + i, 50 + i, 7] })));
      results.push(await b.forward(seqs.map((s, i) => ({ seq: s, tokens: [200 + i] }))));
    }
    const alone = await wasm(w, { threads: 1 });
    for (let i = 0; i < 9; i++) {
      const s = alone.createSequence();
      await alone.forward([{ seq: s, tokens: [1 + i, 50 + i, 7] }]);
      const [one] = await alone.forward([{ seq: s, tokens: [200 + i] }]);
      expect(Array.from(results[0]![i]!), `sequence ${i}, table lookup`).toEqual(Array.from(one!));
      expect(Array.from(results[1]![i]!), `sequence ${i}, multiply-add`).toEqual(Array.from(one!));
    }
  });

  it('concurrent forward calls are serialized (same results as one after another)', async () => {
    const w = await weights({ arch: 'bitnet-b1.58', ternaryType: 'I2_S' });
    const b = await wasm(w, { maxBatchTokens: 3 });
    const ac = new AbortController(); // a signal makes forward yield between chunks
    const [s1, s2, s3] = [b.createSequence(), b.createSequence(), b.createSequence()];
    const [x, y] = await Promise.all([
      b.forward([{ seq: s1, tokens: PROMPT }], { output: 'all', signal: ac.signal }),
      b.forward([{ seq: s2, tokens: [...PROMPT].reverse() }], { output: 'all', signal: ac.signal }),
    ]);
    const [z] = await b.forward([{ seq: s3, tokens: PROMPT }], { output: 'all' });
    expect(Array.from(x[0]!)).toEqual(Array.from(z!));
    expect(y[0]!.length).toBe(z!.length);
  });

  it('threads and chunk sizes give identical logits', async () => {
    const w = await weights({ arch: 'bitnet-b1.58', ternaryType: 'TQ2_0' });
    const outs: Float32Array[] = [];
    for (const o of [{ threads: 1 }, { threads: 2, minParallelWork: 0 }, { threads: 1, maxBatchTokens: 2 }] as WasmBackendOptions[]) {
      const b = await wasm(w, o);
      outs.push((await b.forward([{ seq: b.createSequence(), tokens: PROMPT }], { output: 'all' }))[0]!);
    }
    expect(Array.from(outs[1]!)).toEqual(Array.from(outs[0]!));
    expect(Array.from(outs[2]!)).toEqual(Array.from(outs[0]!));
  });

  it("'hidden' returns the final-norm states; truncate + replay reproduces logits", async () => {
    const w = await weights({ arch: 'bitnet-b1.58', ternaryType: 'I2_S' });
    const ref = new ReferenceBackend(w);
    const b = await wasm(w);
    const [hr] = await ref.forward([{ seq: ref.createSequence(), tokens: PROMPT }], { output: 'hidden' });
    const s = b.createSequence();
    const [hw] = await b.forward([{ seq: s, tokens: PROMPT }], { output: 'hidden' });
    expect(compare(hr!, hw!, w.config.nEmbd).rel).toBeLessThanOrEqual(LOGIT_TOL);
    const [a] = await b.forward([{ seq: s, tokens: [11, 12] }]);
    b.truncateSequence(s, PROMPT.length);
    expect(b.sequenceLength(s)).toBe(PROMPT.length);
    const [again] = await b.forward([{ seq: s, tokens: [11, 12] }]);
    expect(Array.from(again!)).toEqual(Array.from(a!));
  });
});

const KJV = fileURLToPath(new URL('../models/bitnet-kjv.gguf', import.meta.url));

describe.skipIf(!existsSync(KJV))('Q8 output matrix option (trained default model)', () => {
  it('keeps top-1 agreement and perplexity with the reference; reports the logit error', async () => {
    const m = await loadModel(KJV);
    const w = m.weights;
    const text = existsSync(KJV.replace('bitnet-kjv.gguf', 'kjv-validation.txt')) ? readFileSync(KJV.replace('bitnet-kjv.gguf', 'kjv-validation.txt'), 'utf8').slice(0, 2000) : 'In the beginning God created the heaven and the earth.';
    const prompt = m.tokenizer.encode(text).slice(0, 96);
    await m.file.close();
    const ref = await run(new ReferenceBackend(w), prompt, 0);
    const V = w.output.rows;
    const ppl = (all: Float32Array): number => {
      let nll = 0;
      for (let t = 0; t + 1 < prompt.length; t++) {
        const row = all.subarray(t * V, (t + 1) * V);
        const mx = row.reduce((a, x) => Math.max(a, x), -Infinity);
        nll += mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0)) - row[prompt[t + 1]!]!;
      }
      return Math.exp(nll / (prompt.length - 1));
    };
    const pRef = ppl(ref.all);
    for (const [label, o] of [['f16 (default)', {}], ['q8 × f32', { outputQ8: true }], ['q8 × int8', { outputQ8: true, logitsInt8: true }]] as const) {
      const got = await run(await wasm(w, o), prompt, 0);
      const c = compare(ref.all, got.all, V);
      const p = ppl(got.all);
      console.log(`[wasm-backend] kjv output ${label}: max |Δlogit| ${c.maxDiff.toFixed(4)}, top-1 agreement ${(c.top1 * 100).toFixed(1)}%, ppl ${p.toFixed(3)} vs reference ${pRef.toFixed(3)}`);
      // Loose bounds: the default model is retrained from time to time.
      expect(c.top1).toBeGreaterThanOrEqual(0.9);
      expect(Math.abs(p / pRef - 1)).toBeLessThan(0.02);
    }
  });
});

describe('contract', () => {
  it('is registered above the reference backend and available in Node', async () => {
    const names = listBackendFactories().map((f) => f.name);
    expect(names.indexOf('wasm')).toBeLessThan(names.indexOf('reference'));
    const f = await selectBackendFactory('wasm');
    expect(await f.unavailableReason()).toBeNull();
  });

  it('errors: CONTEXT_OVERFLOW / BAD_INPUT append nothing; DISPOSED after dispose', async () => {
    const w = await weights({ arch: 'bitnet-b1.58', ternaryType: 'I2_S' });
    const b = await WasmBackend.create(w, { maxContext: 8 });
    const s = b.createSequence();
    await b.forward([{ seq: s, tokens: [1, 2, 3] }]);
    const codeOf = async (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: unknown) => (isBitNetError(e) ? e.code : String(e)));
    expect(await codeOf(b.forward([{ seq: s, tokens: [1, 2, 3, 4, 5, 6] }]))).toBe('CONTEXT_OVERFLOW');
    expect(await codeOf(b.forward([{ seq: s, tokens: [w.config.vocabSize] }]))).toBe('BAD_INPUT');
    expect(await codeOf(b.forward([{ seq: 999, tokens: [1] }]))).toBe('BAD_INPUT');
    expect(b.sequenceLength(s)).toBe(3);
    const ac = new AbortController();
    ac.abort();
    await expect(b.forward([{ seq: s, tokens: [4] }], { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(b.sequenceLength(s)).toBe(3);
    await b.dispose();
    expect(await codeOf(b.forward([{ seq: s, tokens: [1] }]))).toBe('DISPOSED');
  });

  it('TOO_LARGE before any work for a model beyond wasm32; OUT_OF_MEMORY when memory cannot grow', async () => {
    const w = await weights({ arch: 'bitnet-b1.58', ternaryType: 'I2_S' });
    // Same tensors, but the FFN claims 2^24 × 256 elements per matrix, 6 GB in all (shape-only; no data is read).
    const huge = (m: TernaryMatrix, rows: number, cols: number): TernaryMatrix => ({ ...m, rows, cols });
    const c = { ...w.config, nFf: 1 << 24 };
    const big: ModelWeights = {
      ...w,
      config: c,
      layers: w.layers.map((l) => ({ ...l, wGate: huge(l.wGate, c.nFf, c.nEmbd), wUp: huge(l.wUp, c.nFf, c.nEmbd), wDown: huge(l.wDown, c.nEmbd, c.nFf), ffnSubNorm: new Float32Array(c.nFf) })),
    };
    const err = await WasmBackend.create(big).catch((e: unknown) => e);
    expect(isBitNetError(err, 'TOO_LARGE'), String(err)).toBe(true);
    // Memory capped at its initial 16 MiB; 4096-token scratch buffers need ~100 MB.
    const oom = await WasmBackend.create(w, { maxMemoryBytes: 16 << 20, maxBatchTokens: 4096 }).catch((e: unknown) => e);
    expect(isBitNetError(oom, 'OUT_OF_MEMORY'), String(oom)).toBe(true);
  });
});
