import 'fake-indexeddb/auto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, set } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import type { Embedder } from '../src/embed/embedder.js';
import { ResultCache, type ResultCacheWarning } from '../src/cache/result-cache.js';
import { isDeterministic, normalizeText, prepareQuery, type ResultInput, type ResultParams } from '../src/cache/result-key.js';
import { contentIdentity } from '../src/cache/result-identity.js';
import { idbResultStore, memoryResultStore, type ResultStore } from '../src/cache/result-store.js';
import { fingerprintOf } from '../src/cache/download.js';
import { sha256Hex } from '../src/cache/sha256.js';

const GREEDY: ResultParams = { maxTokens: 8, temperature: 0, maxContext: 64 };
const prompt = (p: string): ResultInput => ({ kind: 'prompt', prompt: p });
const answer = (text: string) => ({ pieces: [{ text: text.slice(0, 3), tokenIds: [1, 2] }, { text: text.slice(3), tokenIds: [3] }], promptTokens: 4, finishReason: 'length' as const, seed: 7 });

/** Bag-of-words embedder over a tiny vocabulary: word order and stop words do not matter. */
const VOCAB = ['cat', 'dog', 'sat', 'mat', 'ran', 'park', 'sun', 'rain'];
const bagEmbedder = (id = 'bag'): Embedder & { calls: number } => {
  const e = {
    id,
    dimensions: VOCAB.length,
    calls: 0,
    async embed(texts: readonly string[]) {
      e.calls++;
      return texts.map((t) => {
        const words = t.toLowerCase().split(/\W+/);
        return Float32Array.from(VOCAB, (w) => words.filter((x) => x === w).length);
      });
    },
  };
  return e;
};

function cache(o: Partial<ConstructorParameters<typeof ResultCache>[0]> & { store?: ResultStore } = {}): { c: ResultCache; warnings: ResultCacheWarning[] } {
  const warnings: ResultCacheWarning[] = [];
  const c = new ResultCache({ model: 'sha256:m1', store: memoryResultStore(), embedder: null, onWarning: (w) => warnings.push(w), ...o });
  return { c, warnings };
}

/** Stores an answer; `semantic`: looked up in semantic mode first (a miss), which embeds the query. */
async function put(c: ResultCache, p: string, text = 'answer text', params = GREEDY, semantic = false): Promise<void> {
  const q = await prepareQuery(c.model, prompt(p), params, c.embedderId);
  if (semantic) expect(await c.lookup(q, 'semantic')).toBeNull();
  await c.save(q, answer(text));
}
const ask = async (c: ResultCache, p: string, mode: 'exact' | 'semantic' = 'exact', params = GREEDY) => c.lookup(await prepareQuery(c.model, prompt(p), params, c.embedderId), mode);

describe('result keys', () => {
  it('normalises text and canonicalises parameters', async () => {
    expect(normalizeText('  Hello \t world\r\nnext  line \u00a0')).toBe('Hello world\nnext line');
    const k = async (input: ResultInput, p: ResultParams) => (await prepareQuery('m', input, p, null)).key;
    expect(await k(prompt('Hello  world'), GREEDY)).toBe(await k(prompt(' Hello world\n'), GREEDY));
    expect(await k(prompt('Hello world'), GREEDY)).not.toBe(await k(prompt('Hello world!'), GREEDY));
    expect(await k(prompt('a'), GREEDY)).not.toBe(await k(prompt('a'), { ...GREEDY, maxTokens: 9 }));
    expect(await k(prompt('a'), GREEDY)).not.toBe(await k(prompt('a'), { ...GREEDY, maxContext: 32 }));
    expect(await k(prompt('a'), GREEDY)).not.toBe(await k(prompt('a'), { ...GREEDY, repetitionPenalty: 1.1 }));
    // Greedy: seed and truncation settings cannot change the output.
    expect(await k(prompt('a'), GREEDY)).toBe(await k(prompt('a'), { ...GREEDY, seed: 5, topK: 3, topP: 0.5 }));
    expect(await k(prompt('a'), { ...GREEDY, stop: ['x', 'y'] })).toBe(await k(prompt('a'), { ...GREEDY, stop: ['y', 'x', 'x'] }));
    const sampled = { maxTokens: 8, maxContext: 64, temperature: 0.7 };
    expect(await k(prompt('a'), { ...sampled, seed: 1 })).not.toBe(await k(prompt('a'), { ...sampled, seed: 2 }));
    expect(await k(prompt('a'), GREEDY)).not.toBe(await k({ kind: 'tokens', tokens: [1] }, GREEDY));
    expect(await k(prompt('a'), GREEDY)).not.toBe((await prepareQuery('m2', prompt('a'), GREEDY, null)).key);
    expect(isDeterministic({ temperature: 0 })).toBe(true);
    expect(isDeterministic({ temperature: 0.8, seed: 3 })).toBe(true);
    expect(isDeterministic({})).toBe(false);
  });

  it('a chat is matched semantically on its last user message within the same earlier conversation', async () => {
    const chat = (sys: string, last: string): ResultInput => ({ kind: 'messages', messages: [{ role: 'system', content: sys }, { role: 'user', content: last }] });
    const a = await prepareQuery('m', chat('be brief', 'the cat sat'), GREEDY, 'e');
    const b = await prepareQuery('m', chat('be brief', 'a cat sat down'), GREEDY, 'e');
    const c = await prepareQuery('m', chat('be verbose', 'the cat sat'), GREEDY, 'e');
    expect(a.semanticText).toBe('the cat sat');
    expect(a.scope).toBe(b.scope);
    expect(a.scope).not.toBe(c.scope);
    expect((await prepareQuery('m', chat('x', 'y'), GREEDY, 'other')).scope).not.toBe((await prepareQuery('m', chat('x', 'y'), GREEDY, 'e')).scope);
    expect((await prepareQuery('m', { kind: 'tokens', tokens: [1, 2] }, GREEDY, 'e')).scope).toBeNull();
  });
});

describe('ResultCache', () => {
  it('serves an exact hit with the stored chunks; other models, parameters and prompts miss', async () => {
    const store = memoryResultStore();
    const { c } = cache({ store });
    expect(await ask(c, 'Hello')).toBeNull();
    await put(c, 'Hello', 'Hi there');
    const hit = (await ask(c, '  Hello '))!;
    expect(hit).toMatchObject({ cached: 'exact', similarity: 1 });
    expect(hit.record.pieces.join('')).toBe('Hi there');
    expect(hit.record).toMatchObject({ tokenIds: [1, 2, 3], pieceTokens: [2, 1], promptTokens: 4, finishReason: 'length', seed: 7 });
    expect(await ask(c, 'Hello', 'exact', { ...GREEDY, maxTokens: 9 })).toBeNull();
    const other = cache({ store, model: 'sha256:m2' }).c;
    expect(await ask(other, 'Hello')).toBeNull();
    expect(await other.list()).toHaveLength(0);
    expect(await c.stats()).toMatchObject({ lookups: 3, exactHits: 1, misses: 2, entries: 1, stores: 1 });
  });

  it('serves a semantic hit only in semantic mode, at or above the threshold, with its similarity', async () => {
    const emb = bagEmbedder();
    const { c } = cache({ embedder: emb, threshold: 0.9 });
    await put(c, 'The cat sat on the mat', 'It did.', GREEDY, true);
    // Stored by an exact-mode request: no embedding, never found semantically.
    await put(c, 'the dog ran in the park', 'It ran.');
    expect(await ask(c, 'in the park the dog ran', 'semantic')).toBeNull();
    expect(emb.calls).toBe(2);
    expect(await ask(c, 'on the mat the cat sat', 'exact')).toBeNull();
    const hit = (await ask(c, 'on the mat the cat sat', 'semantic'))!;
    expect(hit.cached).toBe('semantic');
    expect(hit.similarity).toBeCloseTo(1, 5);
    expect(hit.record.input).toEqual(prompt('The cat sat on the mat'));
    // cos([cat,sat,mat], [cat,sat]) = 0.816 < 0.9
    expect(await ask(c, 'the cat sat', 'semantic')).toBeNull();
    // Other generation parameters: another scope.
    expect(await ask(c, 'on the mat the cat sat', 'semantic', { ...GREEDY, maxTokens: 4 })).toBeNull();
    expect(await c.stats()).toMatchObject({ semanticHits: 1, exactHits: 0, misses: 5 });
    const entries = await c.list();
    expect(entries.find((e) => e.prompt === 'The cat sat on the mat')).toMatchObject({ semantic: true });
    expect(entries.find((e) => e.prompt === 'the dog ran in the park')).toMatchObject({ semantic: false });
  });

  it('expires entries after ttlMs on the injected clock', async () => {
    let t = 1_000;
    const { c } = cache({ ttlMs: 500, now: () => t });
    await put(c, 'a');
    t += 499;
    expect(await ask(c, 'a')).not.toBeNull();
    t += 1;
    expect(await ask(c, 'a')).toBeNull();
    expect(await c.stats()).toMatchObject({ entries: 0, expired: 1 });
  });

  it('evicts the least recently used entries past maxEntries', async () => {
    let t = 0;
    const { c } = cache({ maxEntries: 2, now: () => ++t });
    await put(c, 'a');
    await put(c, 'b');
    expect(await ask(c, 'a')).not.toBeNull(); // a is now more recent than b
    await put(c, 'c');
    expect((await c.list()).map((e) => e.prompt).sort()).toEqual(['a', 'c']);
    expect(await ask(c, 'b')).toBeNull();
    expect((await c.stats()).evictions).toBe(1);
  });

  it('evicts the least recently used entries past maxBytes, and skips an answer larger than maxBytes', async () => {
    let t = 0;
    const probe = cache({ now: () => ++t }).c;
    await put(probe, 'a', 'x'.repeat(100));
    const one = (await probe.stats()).bytes;
    const { c } = cache({ maxBytes: Math.floor(one * 2.5), now: () => ++t });
    for (const p of ['a', 'b', 'c']) await put(c, p, 'x'.repeat(100));
    expect((await c.list()).map((e) => e.prompt).sort()).toEqual(['b', 'c']);
    expect((await c.stats()).bytes).toBeLessThanOrEqual(one * 2.5);
    await put(c, 'huge', 'y'.repeat(one * 3));
    expect(await ask(c, 'huge')).toBeNull();
    expect((await c.stats()).entries).toBe(2);
  });

  it('persists in IndexedDB across instances; a malformed record is dropped and the answer stored again', async () => {
    const dbName = `results-unit-${process.pid}`;
    const a = cache({ store: idbResultStore(dbName) }).c;
    await put(a, 'kept', 'good answer');
    await put(a, 'broken', 'good answer');
    await a.flush();
    const key = (await a.list()).find((e) => e.prompt === 'broken')!.key;
    await set(['sha256:m1', key], { v: 1, model: 'sha256:m1', key, pieces: 'not an array' }, createStore(dbName, 'results'));
    const b = cache({ store: idbResultStore(dbName) }).c;
    expect((await ask(b, 'kept'))!.record.pieces.join('')).toBe('good answer');
    expect(await ask(b, 'broken')).toBeNull();
    expect((await b.stats()).corrupted).toBe(1);
    await put(b, 'broken', 'recomputed');
    expect((await ask(b, 'broken'))!.record.pieces.join('')).toBe('recomputed');
    // Corruption noticed at lookup time (written behind a running cache's back).
    await set(['sha256:m1', key], 42, createStore(dbName, 'results'));
    expect(await ask(b, 'broken')).toBeNull();
    expect((await b.stats()).corrupted).toBe(2);
    // Another instance's entry is found by an exact lookup without reloading.
    await put(a, 'late', 'from a');
    expect((await ask(b, 'late'))!.record.pieces.join('')).toBe('from a');
    await b.clear();
    expect(await ask(a, 'kept')).toBeNull();
  });

  it('storage full while storing: a typed warning, no throw, nothing cached', async () => {
    const base = memoryResultStore();
    const store: ResultStore = { ...base, put: async () => Promise.reject(new BitNetError('QUOTA_EXCEEDED', 'full')) };
    const { c, warnings } = cache({ store });
    await put(c, 'a');
    await put(c, 'b');
    expect(warnings).toEqual([expect.objectContaining({ code: 'RESULT_CACHE_QUOTA' })]);
    expect(await ask(c, 'a')).toBeNull();
    expect((await c.stats()).stores).toBe(0);
  });

  it('an embedder failure warns and leaves exact lookups working', async () => {
    const emb: Embedder = { id: 'broken', dimensions: 4, embed: async () => Promise.reject(new Error('no model')) };
    const { c, warnings } = cache({ embedder: emb });
    await put(c, 'the cat', 'answer text', GREEDY, true);
    expect(await ask(c, 'the cat', 'semantic')).not.toBeNull();
    expect(await ask(c, 'a cat', 'semantic')).toBeNull();
    expect(warnings.map((w) => w.code)).toEqual(['RESULT_CACHE_EMBEDDER']);
  });

  it('invalidate matches by prompt, creation time or predicate, for this model only', async () => {
    let t = 0;
    const store = memoryResultStore();
    const { c } = cache({ store, now: () => (t += 10) });
    const other = cache({ store, model: 'sha256:other' }).c;
    for (const p of ['one', 'two', 'three', 'four']) await put(c, p);
    await put(other, 'one');
    expect(await c.invalidate({ prompt: ' one ' })).toBe(1);
    expect(await ask(other, 'one')).not.toBeNull();
    const created = (await c.list()).find((e) => e.prompt === 'three')!.createdAt;
    expect(await c.invalidate({ createdBefore: created })).toBe(1); // 'two'
    expect(await c.invalidate({ where: (e) => e.prompt === 'four' })).toBe(1);
    expect((await c.list()).map((e) => e.prompt)).toEqual(['three']);
    expect(await c.invalidate()).toBe(1);
    expect((await c.stats()).entries).toBe(0);
  });
});

describe('model identity', () => {
  it('hashes bytes and files with the download fingerprint scheme; different bytes differ', async () => {
    const bytes = new TextEncoder().encode('GGUF pretend model bytes');
    const expected = `sha256:${await fingerprintOf([await sha256Hex(bytes)])}`;
    expect(await contentIdentity(bytes)).toBe(expected);
    expect(await contentIdentity(new Blob([bytes]))).toBe(expected);
    const dir = mkdtempSync(join(tmpdir(), 'rc-id-'));
    writeFileSync(join(dir, 'm.gguf'), bytes);
    expect(await contentIdentity(join(dir, 'm.gguf'))).toBe(expected);
    expect(await contentIdentity(new TextEncoder().encode('GGUF other bytes'))).not.toBe(expected);
    expect(await contentIdentity('https://example.com/m.gguf')).toBeNull();
    expect(await contentIdentity(join(dir, 'missing.gguf'))).toBeNull();
  });
});
