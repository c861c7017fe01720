import 'fake-indexeddb/auto';
import { createStore, set } from 'idb-keyval';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Embedder, type Engine, type EngineOptions, type EngineWarning } from '../src/index.js';
import { collectStream as run } from './helpers/collect-stream.js';
import { makeFixture } from '../src/model/fixtures.js';

let fixture: Uint8Array;
let otherModel: Uint8Array;
let dbSeq = 0;
const engines: Engine[] = [];
const FIX = { nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 384, contextLength: 96 };

beforeAll(async () => {
  fixture = await makeFixture({ seed: 5, ...FIX });
  // Same shape and size, other weights: only a content identity tells them apart.
  otherModel = await makeFixture({ seed: 6, ...FIX });
  expect(otherModel.length).toBe(fixture.length);
});
afterAll(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
});

const freshDb = (): string => `bitnet-results-test-${process.pid}-${dbSeq++}`;

async function open(o: EngineOptions = {}): Promise<Engine> {
  const e = await createEngine({ model: fixture, backend: 'reference', worker: false, ...o });
  engines.push(e);
  return e;
}

const completed = async (e: Engine): Promise<number> => (await e.metrics()).requests.completed;

/** Bag-of-words embedder: paraphrases that reorder words get similarity 1. */
const bag: Embedder = {
  id: 'bag-test',
  dimensions: 6,
  embed: async (texts) => texts.map((t) => Float32Array.from(['beginning', 'god', 'created', 'heaven', 'earth', 'light'], (w) => (t.toLowerCase().includes(w) ? 1 : 0))),
};

const G = { maxTokens: 6, temperature: 0 } as const;

describe('result cache through the engine', () => {
  it('an exact repeat is served from the cache without touching the engine core', async () => {
    const e = await open({ resultCache: { dbName: freshDb() } });
    expect(e.resultCache!.model).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(e.resultCache!.embedderId).toBe(`engine:${e.resultCache!.model}`);
    const first = await run(e.generate('In the beginning', G));
    expect(first.end.stats.cached).toBeUndefined();
    await e.resultCache!.flush();
    const before = await completed(e);
    const again = await run(e.generate('In the beginning ', G));
    expect(again.text).toBe(first.text);
    expect(again.ids).toEqual(first.ids);
    expect(again.end.stats).toMatchObject({ cached: 'exact', similarity: 1, originalPrompt: 'In the beginning', generatedTokens: first.ids.length, promptTokens: first.end.stats.promptTokens });
    expect(await completed(e)).toBe(before);
    // Token-id prompts are cached too (exactly).
    const ids = await e.tokenize('In the beginning');
    await run(e.generate(ids, G));
    await e.resultCache!.flush();
    expect((await run(e.generate(ids, G))).end.stats).toMatchObject({ cached: 'exact', originalPrompt: ids });
    const m = await e.metrics();
    expect(m.resultCache).toMatchObject({ exactHits: 2, semanticHits: 0, misses: 2, lookups: 4, exactHitRate: 0.5, entries: 2 });
    expect(m.resultCache!.bytes).toBeGreaterThan(0);
    expect(m.recentRequests.map((r) => r.cached)).toEqual([null, 'exact', null, 'exact']);
    expect(m.recentRequests[0]!.ttftMs).toBeGreaterThan(0);
    expect(m.latency.requests).toBe(2); // hits are not averaged into model latency
  });

  it("'off' neither reads nor writes; 'semantic' serves a paraphrase with its similarity and original prompt", async () => {
    const e = await open({ resultCache: { dbName: freshDb(), embedder: bag, threshold: 0.99 } });
    await run(e.generate('God created the heaven', { ...G, cache: 'off' }));
    await e.resultCache!.flush();
    expect((await e.resultCache!.stats()).entries).toBe(0);
    // Only answers of 'semantic' requests are stored with an embedding.
    const first = await run(e.generate('God created the heaven', { ...G, cache: 'semantic' }));
    await e.resultCache!.flush();
    expect((await run(e.generate('God created the heaven', { ...G, cache: 'off' }))).end.stats.cached).toBeUndefined();
    // A paraphrase: an exact request misses, a semantic one hits.
    expect((await run(e.generate('the heaven God created', G))).end.stats.cached).toBeUndefined();
    const sem = await run(e.generate('The heaven, God created!', { ...G, cache: 'semantic' }));
    expect(sem.end.stats).toMatchObject({ cached: 'semantic', originalPrompt: 'God created the heaven' });
    expect(sem.end.stats.similarity).toBeCloseTo(1, 5);
    expect(sem.text).toBe(first.text);
    // Not similar enough: computed.
    expect((await run(e.generate('God created light', { ...G, cache: 'semantic' }))).end.stats.cached).toBeUndefined();
  });

  it('the default embedder (engine.embed) serves a semantic hit at its measured similarity', async () => {
    const probe = await open({ resultCache: false });
    const [a, b] = [await probe.embed('In the beginning God'), await probe.embed('In the beginning God created')];
    const sim = a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(sim).toBeGreaterThan(0.05);
    const e = await open({ resultCache: { dbName: freshDb(), threshold: Math.min(1, sim - 1e-4) } });
    const first = await run(e.generate('In the beginning God', { ...G, cache: 'semantic' }));
    await e.resultCache!.flush();
    const hit = await run(e.generate('In the beginning God created', { ...G, cache: 'semantic' }));
    expect(hit.end.stats).toMatchObject({ cached: 'semantic', originalPrompt: 'In the beginning God' });
    expect(hit.end.stats.similarity).toBeCloseTo(sim, 4);
    expect(hit.text).toBe(first.text);
  });

  it('sampled requests without a seed are never cached unless cacheSampled; seeded ones are', async () => {
    const e = await open({ resultCache: { dbName: freshDb() } });
    for (let i = 0; i < 2; i++) expect((await run(e.generate('Let there be', { maxTokens: 4, temperature: 0.9 }))).end.stats.cached).toBeUndefined();
    await e.resultCache!.flush();
    expect((await e.resultCache!.stats()).entries).toBe(0);
    const seeded = await run(e.generate('Let there be', { maxTokens: 4, temperature: 0.9, seed: 11 }));
    await e.resultCache!.flush();
    const again = await run(e.generate('Let there be', { maxTokens: 4, temperature: 0.9, seed: 11 }));
    expect(again.end.stats).toMatchObject({ cached: 'exact', seed: 11 });
    expect(again.text).toBe(seeded.text);
    expect((await run(e.generate('Let there be', { maxTokens: 4, temperature: 0.9, seed: 12 }))).end.stats.cached).toBeUndefined();

    const opt = await open({ resultCache: { dbName: freshDb(), cacheSampled: true } });
    const s1 = await run(opt.generate('Let there be', { maxTokens: 4, temperature: 0.9 }));
    await opt.resultCache!.flush();
    const s2 = await run(opt.generate('Let there be', { maxTokens: 4, temperature: 0.9 }));
    expect(s2.end.stats).toMatchObject({ cached: 'exact', seed: s1.end.stats.seed });
    expect(s2.text).toBe(s1.text);
  });

  it('chat completions report cache hits on the object and on the final stream chunk', async () => {
    const e = await open({ resultCache: { dbName: freshDb(), embedder: bag, threshold: 0.99 } });
    const messages = [{ role: 'user' as const, content: 'God created the earth' }];
    const a = await e.chat.completions.create({ messages, max_tokens: 5, temperature: 0, cache: 'semantic' });
    expect(a.cached).toBeUndefined();
    await e.resultCache!.flush();
    const b = await e.chat.completions.create({ messages, max_tokens: 5, temperature: 0 });
    expect(b).toMatchObject({ cached: 'exact', similarity: 1, originalPrompt: 'God created the earth', originalMessages: messages });
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    expect(b.usage).toEqual(a.usage);
    const chunks = [];
    const stream = await e.chat.completions.create({ messages: [{ role: 'user', content: 'the earth God created' }], max_tokens: 5, temperature: 0, stream: true, cache: 'semantic' });
    for await (const c of stream) chunks.push(c);
    const last = chunks.find((c) => c.choices[0]?.finish_reason)!;
    expect(last).toMatchObject({ cached: 'semantic', originalPrompt: 'God created the earth' });
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(a.choices[0]!.message.content);
  });

  it('TTL (injected clock) and LRU eviction by entries', async () => {
    let t = 1_000_000;
    const e = await open({ resultCache: { dbName: freshDb(), ttlMs: 60_000, maxEntries: 2, now: () => t } });
    // Each answer is stored (and stamped with the clock) before the clock moves on.
    const gen = async (p: string) => {
      const r = (await run(e.generate(p, { maxTokens: 2, temperature: 0 }))).end.stats.cached;
      await e.resultCache!.flush();
      return r;
    };
    await gen('one');
    t += 10;
    await gen('two');
    t += 10;
    expect(await gen('one')).toBe('exact'); // 'one' used last now
    t += 10;
    await gen('three');
    expect((await e.resultCache!.list()).map((x) => x.prompt).sort()).toEqual(['one', 'three']);
    t += 60_000;
    expect(await gen('one')).toBeUndefined();
    expect((await e.resultCache!.stats()).expired).toBeGreaterThanOrEqual(1);
  });

  it('persists across engine restarts (same db), semantic vectors included; a different model never hits', async () => {
    const dbName = freshDb();
    const a = await open({ resultCache: { dbName, embedder: bag } });
    const first = await run(a.generate('God created the heaven and the earth', { ...G, cache: 'semantic' }));
    await a.dispose();
    const b = await open({ resultCache: { dbName, embedder: bag } });
    expect(b.resultCache!.model).toBe(a.resultCache!.model);
    const again = await run(b.generate('God created the heaven and the earth', G));
    expect(again.end.stats.cached).toBe('exact');
    expect(again.text).toBe(first.text);
    expect((await run(b.generate('the earth and the heaven God created', { ...G, cache: 'semantic' }))).end.stats.cached).toBe('semantic');
    const other = await open({ model: otherModel, resultCache: { dbName, embedder: bag } });
    expect(other.resultCache!.model).not.toBe(b.resultCache!.model);
    // (Each miss stores the other model's own answer, so the exact check runs with cache 'exact'.)
    expect((await run(other.generate('the earth and the heaven God created', { ...G, cache: 'semantic' }))).end.stats.cached).toBeUndefined();
    expect((await run(other.generate('God created the heaven and the earth', G))).end.stats.cached).toBeUndefined();
  });

  it('a corrupted record is dropped and recomputed after a restart', async () => {
    const dbName = freshDb();
    const a = await open({ resultCache: { dbName } });
    const first = await run(a.generate('And God said', G));
    await a.dispose();
    const [entry] = await (await open({ resultCache: { dbName } })).resultCache!.list();
    await set([a.resultCache!.model, entry!.key], { v: 1, junk: true }, createStore(dbName, 'results'));
    const b = await open({ resultCache: { dbName } });
    const r = await run(b.generate('And God said', G));
    expect(r.end.stats.cached).toBeUndefined();
    expect(r.text).toBe(first.text);
    expect((await b.resultCache!.stats()).corrupted).toBe(1);
    await b.resultCache!.flush();
    expect((await run(b.generate('And God said', G))).end.stats.cached).toBe('exact');
  });

  it('invalidate and clear', async () => {
    const e = await open({ resultCache: { dbName: freshDb() } });
    for (const p of ['alpha', 'beta']) await run(e.generate(p, { maxTokens: 2, temperature: 0 }));
    await e.resultCache!.flush();
    expect(await e.resultCache!.invalidate({ prompt: 'alpha' })).toBe(1);
    expect((await run(e.generate('alpha', { maxTokens: 2, temperature: 0 }))).end.stats.cached).toBeUndefined();
    expect((await run(e.generate('beta', { maxTokens: 2, temperature: 0 }))).end.stats.cached).toBe('exact');
    await e.resultCache!.clear();
    expect((await e.resultCache!.stats()).entries).toBe(0);
    expect((await run(e.generate('beta', { maxTokens: 2, temperature: 0 }))).end.stats.cached).toBeUndefined();
  });

  it('an embedder failure is a typed engine warning and the request still succeeds', async () => {
    const warnings: EngineWarning[] = [];
    const broken: Embedder = { id: 'broken', dimensions: 3, embed: async () => Promise.reject(new Error('offline')) };
    const e = await open({ resultCache: { dbName: freshDb(), embedder: broken }, onWarning: (w) => warnings.push(w) });
    const r = await run(e.generate('Hello', { ...G, cache: 'semantic' }));
    expect(r.end.stats.generatedTokens).toBeGreaterThan(0);
    expect(warnings.map((w) => w.code)).toContain('RESULT_CACHE_EMBEDDER');
    expect(e.warnings.map((w) => w.code)).toContain('RESULT_CACHE_EMBEDDER');
  });

  it('resultCache: false gives no cache; option values are validated', async () => {
    const e = await open({ resultCache: false });
    expect(e.resultCache).toBeNull();
    expect((await e.metrics()).resultCache).toBeNull();
    const cases: Array<[unknown, string]> = [
      [{ resultCache: 'yes' }, 'resultCache'],
      [{ resultCache: { ttl: 5 } }, 'resultCache.ttl'],
      [{ resultCache: { ttlMs: 0 } }, 'resultCache.ttlMs'],
      [{ resultCache: { maxEntries: 1.5 } }, 'resultCache.maxEntries'],
      [{ resultCache: { maxBytes: -1 } }, 'resultCache.maxBytes'],
      [{ resultCache: { threshold: 1.2 } }, 'resultCache.threshold'],
      [{ resultCache: { threshold: 0 } }, 'resultCache.threshold'],
      [{ resultCache: { dbName: '' } }, 'resultCache.dbName'],
      [{ resultCache: { embedder: { id: 'x' } } }, 'resultCache.embedder'],
      [{ resultCache: { cacheSampled: 1 } }, 'resultCache.cacheSampled'],
      [{ resultCache: { now: 5 } }, 'resultCache.now'],
      [{ maxWaitMs: -1 }, 'maxWaitMs'],
    ];
    for (const [opts, option] of cases) {
      await expect(createEngine({ model: fixture, worker: false, ...(opts as object) } as EngineOptions)).rejects.toMatchObject({ code: 'BAD_OPTION', details: { option } });
    }
    expect(() => e.generate('x', { cache: 'fuzzy' as never })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', details: { option: 'cache' } }));
    expect(() => e.generate('x', { priority: 'urgent' as never })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', details: { option: 'priority' } }));
    await expect(e.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], cache: 'always' as never })).rejects.toMatchObject({ code: 'BAD_OPTION', details: { option: 'cache' } });
    // Valid routing values are accepted.
    expect((await run(e.generate('x', { maxTokens: 1, temperature: 0, priority: 'background', cache: 'semantic' }))).end.stats.generatedTokens).toBe(1);
  });
});
