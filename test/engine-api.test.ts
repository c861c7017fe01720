import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type GenerationEvent, type ChatCompletionChunk } from '../src/index.js';
import { makeFixture } from '../src/model/fixtures.js';
import { isAbortError } from '../src/errors.js';
import { collectStream } from './helpers/collect-stream.js';

let fixture: Uint8Array;
let engine: Engine;

beforeAll(async () => {
  fixture = await makeFixture({ seed: 5, nLayer: 2, nEmbd: 128, nHead: 4, nHeadKv: 2, nFf: 256, vocab: 384, contextLength: 96 });
  // These tests are about the model path: the result cache would answer repeated greedy requests.
  engine = await createEngine({ model: fixture, backend: 'reference', worker: false, maxBatch: 4, resultCache: false });
});
afterAll(async () => {
  await engine?.dispose();
});

const collect = collectStream;

describe('createEngine options', () => {
  it('rejects unknown and malformed options with BAD_OPTION naming the option', async () => {
    const cases: Array<[unknown, string]> = [
      [{ modle: 'x' }, 'modle'],
      [{ backend: 'cuda' }, 'backend'],
      [{ maxBatch: 0 }, 'maxBatch'],
      [{ cache: { chunkSize: 10 } }, 'cache.chunkSize'],
      [{ cache: { colour: 1 } }, 'cache.colour'],
      [{ onProgress: 'yes' }, 'onProgress'],
      [{ model: 42 }, 'model'],
      [{ worker: false, workerUrl: 'x.js' }, 'workerUrl'],
    ];
    for (const [opts, option] of cases) {
      await expect(createEngine(opts as never)).rejects.toMatchObject({ name: 'BitNetError', code: 'BAD_OPTION', details: { option } });
    }
  });

  it('reports load errors as typed errors', async () => {
    await expect(createEngine({ model: '/nonexistent/model.gguf', worker: false, backend: 'reference' })).rejects.toMatchObject({ code: 'IO' });
    await expect(createEngine({ model: new TextEncoder().encode('<html>not a model</html>'), worker: false, backend: 'reference' })).rejects.toMatchObject({ code: 'BAD_MAGIC' });
    const ac = new AbortController();
    ac.abort();
    await expect(createEngine({ model: fixture, worker: false, signal: ac.signal })).rejects.toSatisfy(isAbortError);
  });

  it('exposes backend, selection, model info, probe and progress', async () => {
    const phases: string[] = [];
    const e = await createEngine({ model: fixture, backend: 'reference', worker: false, onProgress: (p) => phases.push(p.phase) });
    try {
      expect(e.backend).toBe('reference');
      expect(e.selection.requested).toBe('reference');
      expect(e.selection.chosen).toBe('reference');
      expect(e.selection.candidates.find((c) => c.name === 'reference')).toMatchObject({ status: 'chosen' });
      expect(e.model).toMatchObject({ architecture: 'bitnet-b1.58', source: 'buffer', nLayer: 2, nEmbd: 128, maxContext: 96, cached: false });
      expect(e.probe.runtime.kind).toBe('node');
      expect(e.probe.webgpu.reason).toMatch(/not probed/);
      expect(phases[0]).toBe('download');
      expect(phases).toContain('repack');
      expect(phases.at(-1)).toBe('ready');
    } finally {
      await e.dispose();
    }
  });
});

describe('generate', () => {
  it('streams text chunks with token ids and ends with stats', async () => {
    const r = await collect(engine.generate('Once upon a time', { maxTokens: 6, temperature: 0 }));
    expect(r.ids).toHaveLength(r.end.stats.finishReason === 'length' ? 6 : r.ids.length);
    expect(r.end.stats).toMatchObject({ generatedTokens: r.ids.length, backend: 'reference' });
    expect(r.end.stats.promptTokens).toBeGreaterThan(1);
    expect(r.end.stats.ttftMs).toBeGreaterThan(0);
    expect(r.end.stats.prefillTokensPerS).toBeGreaterThan(0);
    expect(Number.isSafeInteger(r.end.stats.seed)).toBe(true);
    expect(await engine.detokenize(r.ids)).toBe(r.text);
    // Same greedy request again → same output; text() collects it.
    expect(await engine.generate('Once upon a time', { maxTokens: 6, temperature: 0 }).text()).toBe(r.text);
  });

  it('several requests in flight give the same outputs as one at a time', async () => {
    const prompts = ['The quick brown fox', 'Hello, world!', 'In the beginning', 'It was the best of times'];
    const seq: string[] = [];
    for (const p of prompts) seq.push((await collect(engine.generate(p, { maxTokens: 5, temperature: 0.7, seed: 3 }))).ids.join());
    const par = await Promise.all(prompts.map((p) => collect(engine.generate(p, { maxTokens: 5, temperature: 0.7, seed: 3 }))));
    expect(par.map((r) => r.ids.join())).toEqual(seq);
    expect(par.some((r) => r.end.stats.meanBatch > 1)).toBe(true);
    const m = await engine.metrics();
    expect(m.batching.batchSizeCounts.slice(2).some((n) => n > 0)).toBe(true);
  });

  it('validates generate options and inputs', () => {
    expect(() => engine.generate('x', { maxTokens: -1 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', details: { option: 'maxTokens' } }));
    expect(() => engine.generate('x', { temprature: 1 } as never)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', details: { option: 'temprature' } }));
    expect(() => engine.generate('x', { topP: 2 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', details: { option: 'topP' } }));
    expect(() => engine.generate(42 as never)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });

  it('abort rejects with AbortError, frees the request, and the engine stays usable', async () => {
    const ac = new AbortController();
    const s = engine.generate('Once upon a time', { maxTokens: 60, temperature: 0, signal: ac.signal });
    let n = 0;
    const err = await (async () => {
      for await (const e of s) {
        if (!e.done && ++n === 2) ac.abort();
      }
    })().catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    await expect(s.stats).rejects.toSatisfy(isAbortError);
    // Leaving a loop early cancels too.
    for await (const e of engine.generate('Hello', { maxTokens: 50 })) if (!e.done) break;
    await new Promise((r) => setTimeout(r, 20));
    const m = await engine.metrics();
    expect(m.requests.cancelled).toBeGreaterThanOrEqual(2);
    expect(m.requests.active + m.requests.queued).toBe(0);
    expect((await engine.generate('Hello', { maxTokens: 2 }).text()).length).toBeGreaterThanOrEqual(0);
  });

  it('a request error (prompt longer than the context) does not break the engine', async () => {
    const long = Array.from({ length: 200 }, () => 65);
    await expect(engine.generate(long).text()).rejects.toMatchObject({ code: 'CONTEXT_OVERFLOW' });
    await expect(engine.generate([100000]).text()).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(typeof (await engine.generate('ok', { maxTokens: 2 }).text())).toBe('string');
  });
});

describe('chat.completions', () => {
  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hello.' },
  ] as const;

  it('returns an OpenAI chat.completion with usage', async () => {
    const c = await engine.chat.completions.create({ messages: [...messages], max_tokens: 5, temperature: 0, seed: 1 });
    expect(c.object).toBe('chat.completion');
    expect(c.id).toMatch(/^chatcmpl-/);
    expect(typeof c.created).toBe('number');
    expect(c.choices).toHaveLength(1);
    expect(c.choices[0]!.message.role).toBe('assistant');
    expect(typeof c.choices[0]!.message.content).toBe('string');
    expect(['stop', 'length']).toContain(c.choices[0]!.finish_reason);
    expect(c.usage.total_tokens).toBe(c.usage.prompt_tokens + c.usage.completion_tokens);
    expect(c.usage.completion_tokens).toBeLessThanOrEqual(5);
  });

  it('streams chat.completion.chunk objects whose deltas add up to the non-streamed answer', async () => {
    const full = await engine.chat.completions.create({ messages: [...messages], max_tokens: 6, temperature: 0 });
    const stream = await engine.chat.completions.create({ messages: [...messages], max_tokens: 6, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const chunks: ChatCompletionChunk[] = [];
    for await (const ch of stream) chunks.push(ch);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]!.id)).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks.flatMap((c) => c.choices.map((x) => x.delta.content ?? '')).join('');
    expect(text).toBe(full.choices[0]!.message.content);
    const fin = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(fin!.choices[0]!.finish_reason).toBe(full.choices[0]!.finish_reason);
    expect(fin!.usage).toEqual(full.usage);
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toEqual(full.usage);
  });

  it('rejects unsupported parameters and bad messages', async () => {
    await expect(engine.chat.completions.create({ messages: [...messages], logit_bias: {} } as never)).rejects.toMatchObject({ code: 'BAD_OPTION', details: { option: 'logit_bias' } });
    await expect(engine.chat.completions.create({ messages: [], max_tokens: 1 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(engine.chat.completions.create({ messages: [{ role: 'robot', content: 'x' }] } as never)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(engine.chat.completions.create({ messages: [...messages], n: 2 })).rejects.toMatchObject({ code: 'BAD_OPTION', details: { option: 'n' } });
  });
});

describe('embed, tokenize, metrics', () => {
  it('embed returns an L2-normalised mean hidden state', async () => {
    const a = await engine.embed('The quick brown fox');
    const b = await engine.embed('The quick brown fox');
    const c = await engine.embed('It was the worst of times');
    expect(a).toBeInstanceOf(Float32Array);
    expect(a.length).toBe(128);
    const dot = (x: Float32Array, y: Float32Array): number => x.reduce((s, v, i) => s + v * y[i]!, 0);
    expect(dot(a, a)).toBeCloseTo(1, 5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(dot(a, c)).toBeLessThan(0.9999);
    expect((await engine.metrics()).embeddings).toBeGreaterThanOrEqual(3);
  });

  it('metrics summarise requests, tokens and batching', async () => {
    const m = await engine.metrics();
    expect(m.backend).toBe('reference');
    expect(m.requests.completed).toBeGreaterThan(0);
    expect(m.tokens.generated).toBeGreaterThan(0);
    expect(m.batching.steps).toBeGreaterThan(0);
    expect(m.batching.meanBatchSize).toBeGreaterThanOrEqual(1);
    expect(m.latency.requests).toBeGreaterThan(0);
    expect(m.uptimeMs).toBeGreaterThan(0);
    expect((await engine.tokenize('Hello', { addBos: false })).length).toBeGreaterThan(0);
  });
});

describe('dispose', () => {
  it('fails in-flight requests and every later call with DISPOSED', async () => {
    const e = await createEngine({ model: fixture, backend: 'reference', worker: false });
    const inflight = e.generate('Once upon a time', { maxTokens: 80 }).text();
    await new Promise((r) => setTimeout(r, 5));
    await e.dispose();
    await expect(inflight).rejects.toMatchObject({ code: 'DISPOSED' });
    expect(() => e.generate('x')).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
    await expect(e.embed('x')).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(e.metrics()).rejects.toMatchObject({ code: 'DISPOSED' });
    await expect(e.chat.completions.create({ messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ code: 'DISPOSED' });
    await e.dispose(); // idempotent
    expect(e.disposed).toBe(true);
  });
});

describe('default model', () => {
  it('loads the embedded default model when no model is given', async () => {
    const e = await createEngine({ backend: 'reference', worker: false });
    try {
      expect(e.model.location).toMatch(/bitnet-kjv\.gguf$/);
      expect(e.model.source).toBe('file');
      const text = await e.generate('In the beginning God created', { maxTokens: 4, temperature: 0 }).text();
      expect(typeof text).toBe('string');
    } finally {
      await e.dispose();
    }
  });
});
