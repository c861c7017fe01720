/**
 * Continuous batching through the public engine (Node, in-process, wasm backend, small fixture
 * model, greedy): many concurrent requests give exactly the outputs of sequential runs, an abort
 * mid-batch leaves the others untouched, maxBatch / priority / maxWaitMs show in engine.metrics().
 * Every prompt is distinct, so a result cache can never answer one (every request runs the model).
 * Sequential references come from `generate()` on a separate single-threaded wasm backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, isAbortError, type Engine, type EngineMetrics, type GenerateOptions } from '../src/index.js';
import { WasmBackend } from '../src/backends/wasm/index.js';
import { bufferSource } from '../src/model/byte-source.js';
import { makeFixture } from '../src/model/fixtures.js';
import type { Tokenizer } from '../src/model/tokenizer/index.js';
import { generate } from '../src/runtime/generate.js';
import { loadGGUFModel } from '../src/worker/model-loader.js';

const MAX_BATCH = 8;
const MAX_TOKENS = 5;
let engine: Engine;
let ref: WasmBackend;
let tokenizer: Tokenizer;

beforeAll(async () => {
  const fixture = await makeFixture({ seed: 21, nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 320, contextLength: 64 });
  const loaded = await loadGGUFModel(bufferSource(fixture), { onWarning: () => undefined });
  tokenizer = loaded.model.tokenizer;
  ref = await WasmBackend.create(loaded.weights, { threads: 1 });
  engine = await createEngine({ model: fixture, backend: 'wasm', worker: false, maxBatch: MAX_BATCH, maxWaitMs: 200, onWarning: () => undefined });
});
afterAll(async () => {
  await engine?.dispose();
  await ref?.dispose();
});

/** Greedy token ids of `prompt` run alone (one sequence, one token per forward). */
async function sequential(prompt: string, maxTokens = MAX_TOKENS): Promise<number[]> {
  const ids: number[] = [];
  for await (const c of generate(ref, tokenizer, { prompt, maxTokens, temperature: 0, addBos: tokenizer.addBosDefault })) ids.push(...c.tokenIds);
  return ids;
}

async function run(prompt: string, o: GenerateOptions = {}, onFirst?: () => void): Promise<number[]> {
  const ids: number[] = [];
  for await (const c of engine.generate(prompt, { maxTokens: MAX_TOKENS, temperature: 0, ...o })) {
    if (c.done) break;
    if (ids.length === 0 && c.tokenIds.length > 0) onFirst?.();
    ids.push(...c.tokenIds);
  }
  return ids;
}

const delta = (after: EngineMetrics, before: EngineMetrics, n: number): number => (after.batching.batchSizeCounts[n] ?? 0) - (before.batching.batchSizeCounts[n] ?? 0);

describe('engine: continuous batching', () => {
  it('100 concurrent requests (mixed priorities) all complete with the outputs of sequential runs, at most maxBatch per step', async () => {
    const prompts = Array.from({ length: 100 }, (_, i) => `Request ${i}: item ${i * 7}`);
    const expected: number[][] = [];
    for (const p of prompts) expected.push(await sequential(p));
    const before = await engine.metrics();
    const runs = prompts.map((p, i) => run(p, { priority: i % 2 === 0 ? 'interactive' : 'background' }));
    let mid = await engine.metrics();
    // Starts pass the result cache's lookup first: wait (macrotasks) until the scheduler has them.
    for (let k = 0; k < 500 && mid.requests.queued === 0; k++) {
      await new Promise((r) => setTimeout(r, 4));
      mid = await engine.metrics();
    }
    expect(mid.requests.queued).toBeGreaterThan(0);
    expect(mid.requests.queuedByPriority.interactive + mid.requests.queuedByPriority.background).toBe(mid.requests.queued);
    const outputs = await Promise.all(runs);
    for (let i = 0; i < prompts.length; i++) expect(outputs[i], prompts[i]).toEqual(expected[i]);
    const after = await engine.metrics();
    expect(after.requests.completed - before.requests.completed).toBe(100);
    expect(after.requests).toMatchObject({ queued: 0, active: 0, queuedByPriority: { interactive: 0, background: 0 } });
    const sizes = after.batching.batchSizeCounts.flatMap((n, size) => (n > 0 ? [size] : []));
    expect(Math.max(...sizes)).toBe(MAX_BATCH); // full batches ran, never more than maxBatch
    expect(delta(after, before, MAX_BATCH)).toBeGreaterThan(MAX_TOKENS);
    // Interactive requests were admitted first (background ones only by aging, 1 in 5).
    const { interactive, background } = after.scheduling.byPriority;
    expect(interactive.requests).toBeGreaterThanOrEqual(50);
    expect(background.requests).toBe(50);
    expect(background.meanQueueMs).toBeGreaterThan(interactive.meanQueueMs);
    expect(after.scheduling.promoted).toBeGreaterThan(0);
    expect(interactive.meanTtftMs).toBeGreaterThan(0);
    expect(interactive.meanDecodeTokensPerS).toBeGreaterThan(0);
  });

  it('aborting one request mid-batch leaves the outputs of the others untouched', async () => {
    const prompts = Array.from({ length: 6 }, (_, i) => `Abort case ${i}: verse ${i * 3}`);
    const expected: number[][] = [];
    for (const p of prompts) expected.push(await sequential(p, 8));
    const before = await engine.metrics();
    const ac = new AbortController();
    const runs = prompts.map((p, i) => run(p, { maxTokens: 8, ...(i === 2 ? { signal: ac.signal } : {}) }, i === 2 ? () => ac.abort() : undefined));
    const settled = await Promise.allSettled(runs);
    const victim = settled[2]!;
    expect(victim.status).toBe('rejected');
    expect(isAbortError((victim as PromiseRejectedResult).reason)).toBe(true);
    for (const i of [0, 1, 3, 4, 5]) expect((settled[i] as PromiseFulfilledResult<number[]>).value).toEqual(expected[i]);
    const after = await engine.metrics();
    expect(after.requests.cancelled - before.requests.cancelled).toBe(1);
    expect(after.requests.active).toBe(0);
  });

  it('maxWaitMs: an idle engine holds a lone request so that one arriving shortly after shares its first step', async () => {
    const before = await engine.metrics();
    const a = run('Hold case: first of two', { maxTokens: 3 });
    await new Promise((r) => setTimeout(r, 20));
    const b = run('Hold case: second of two', { maxTokens: 3 });
    const [ia, ib] = await Promise.all([a, b]);
    expect(ia).toEqual(await sequential('Hold case: first of two', 3));
    expect(ib).toEqual(await sequential('Hold case: second of two', 3));
    expect([ia.length, ib.length]).toEqual([3, 3]); // neither stops early, so every step could hold both
    const after = await engine.metrics();
    expect(after.scheduling.holds - before.scheduling.holds).toBe(1);
    expect(after.scheduling.heldMs - before.scheduling.heldMs).toBeGreaterThanOrEqual(150);
    expect(delta(after, before, 2)).toBeGreaterThanOrEqual(1); // they ran together
    expect(delta(after, before, 1)).toBe(0); // never alone: both prefilled in the held first step
  });
});
