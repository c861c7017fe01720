import { describe, expect, it } from 'vitest';
import { memoryStore, type KeyValueStore, type StoreKey } from '../src/cache/kv-store.js';
import { REPACK_RECORD_VERSION, repackCache } from '../src/cache/repack-hook.js';
import { backendProgress, openRepackStore } from '../src/cache/repack-store.js';
import { storedSource } from '../src/cache/stored-source.js';
import { BitNetError } from '../src/errors.js';
import type { EngineWarning } from '../src/api/events.js';
import { arenaLayoutId, planModel } from '../src/backends/webgpu/layout.js';
import { tinyModel } from './helpers/tiny-model.js';

const URL_A = 'https://x/model.gguf';
const FP = 'f'.repeat(64);
const arr = (r: { parts: Uint8Array[] } | { miss: string }): number[][] | string => ('parts' in r ? r.parts.map((p) => Array.from(p)) : r.miss);

/** A store whose `set` fails from the `failAt`-th call on, with `error`. */
function failingStore(inner: KeyValueStore, failAt: number, error: unknown): KeyValueStore & { sets: number } {
  const s = {
    sets: 0,
    get: inner.get.bind(inner),
    delete: inner.delete.bind(inner),
    keys: inner.keys.bind(inner),
    async set(k: StoreKey, v: unknown) {
      if (++s.sets >= failAt) throw error;
      await inner.set(k, v);
    },
  };
  return s;
}

describe('repacked-weights records', () => {
  it('stores and loads parts per (model, backend, layout); another layout replaces the old one', async () => {
    const store = memoryStore();
    const a = repackCache(store, URL_A, FP);
    const b = repackCache(store, 'https://x/other.gguf', FP);
    expect(await a.load('webgpu', 'L1')).toEqual({ miss: 'absent' });
    await a.save('webgpu', 'L1', [Uint8Array.of(1, 2, 3), new Uint8Array(new ArrayBuffer(8), 2, 2).fill(4)]);
    expect(arr(await a.load('webgpu', 'L1'))).toEqual([[1, 2, 3], [4, 4]]);
    expect(await a.load('webgpu', 'L2')).toEqual({ miss: 'absent' });
    expect(await a.load('wasm', 'L1')).toEqual({ miss: 'absent' });
    expect(await b.load('webgpu', 'L1')).toEqual({ miss: 'absent' });
    await a.save('webgpu', 'L2', [Uint8Array.of(9)]);
    expect(await a.load('webgpu', 'L1')).toEqual({ miss: 'absent' });
    expect(arr(await a.load('webgpu', 'L2'))).toEqual([[9]]);
    // Only the exact part bytes are stored, not the whole buffer behind a view.
    const keys = await store.keys();
    expect(keys).toHaveLength(2);
    await a.clear('webgpu');
    expect(await store.keys()).toEqual([]);
  });

  it('an entry for other model content or another record version is stale and dropped', async () => {
    const store = memoryStore();
    await repackCache(store, URL_A, FP).save('webgpu', 'L1', [Uint8Array.of(1)]);
    expect(await repackCache(store, URL_A, 'e'.repeat(64)).load('webgpu', 'L1')).toEqual({ miss: 'stale' });
    expect(await store.keys()).toEqual([]);
    await repackCache(store, URL_A, FP).save('webgpu', 'L1', [Uint8Array.of(1)]);
    const head = await store.get<{ version: number }>(['repack', URL_A, 'webgpu', 'L1']);
    expect(head?.version).toBe(REPACK_RECORD_VERSION);
    await store.set(['repack', URL_A, 'webgpu', 'L1'], { ...head, version: REPACK_RECORD_VERSION - 1 });
    expect(await repackCache(store, URL_A, FP).load('webgpu', 'L1')).toEqual({ miss: 'stale' });
    expect(await store.keys()).toEqual([]);
  });

  it('a corrupted, truncated or missing part is a miss and the entry is dropped', async () => {
    const store = memoryStore();
    const c = repackCache(store, URL_A, FP);
    const corrupt: Array<(k: StoreKey) => Promise<void>> = [
      async (k) => store.set(k, Uint8Array.of(7, 7, 7, 8).buffer), // same length, other bytes
      async (k) => store.set(k, Uint8Array.of(7, 7).buffer), // truncated
      async (k) => store.delete([k]), // missing
      async (k) => store.set(k, 'not bytes'),
    ];
    for (const damage of corrupt) {
      await c.save('webgpu', 'L1', [Uint8Array.of(1, 1), Uint8Array.of(7, 7, 7, 7)]);
      await damage(['repack', URL_A, 'webgpu', 'L1', 1]);
      expect(await c.load('webgpu', 'L1')).toEqual({ miss: 'corrupted' });
      expect(await store.keys()).toEqual([]);
    }
  });

  it('the head is written last: an interrupted save leaves nothing loadable', async () => {
    const inner = memoryStore();
    const store = failingStore(inner, 3, new Error('disk gone'));
    await expect(repackCache(store, URL_A, FP).save('webgpu', 'L1', [Uint8Array.of(1), Uint8Array.of(2)])).rejects.toThrow('disk gone');
    expect(await repackCache(inner, URL_A, FP).load('webgpu', 'L1')).toEqual({ miss: 'absent' });
  });
});

describe('repack store for backends', () => {
  it('exists only for models in the IndexedDB cache (cache key + content identity)', () => {
    const store = memoryStore();
    expect(openRepackStore({ cacheKey: URL_A, fingerprint: FP }, true, { store })).not.toBeNull();
    expect(openRepackStore({ cacheKey: URL_A, fingerprint: FP }, { dbName: 'x' }, { store })).not.toBeNull();
    expect(openRepackStore({ cacheKey: null, fingerprint: null }, true, { store })).toBeNull();
    expect(openRepackStore({ cacheKey: URL_A, fingerprint: null }, true, { store })).toBeNull();
    expect(openRepackStore({ cacheKey: URL_A, fingerprint: FP }, false, { store })).toBeNull();
    expect(openRepackStore({ cacheKey: URL_A, fingerprint: FP }, { enabled: false }, { store })).toBeNull();
    // Plain Node has no IndexedDB: no store, backends simply repack.
    expect('indexedDB' in globalThis).toBe(false);
    expect(openRepackStore({ cacheKey: URL_A, fingerprint: FP }, true)).toBeNull();
  });

  it('never throws: a full disk becomes a QUOTA_EXCEEDED warning, partial records are removed', async () => {
    const inner = memoryStore();
    const warnings: EngineWarning[] = [];
    const quota = new BitNetError('QUOTA_EXCEEDED', 'browser storage is full');
    const s = openRepackStore({ cacheKey: URL_A, fingerprint: FP }, true, { store: failingStore(inner, 2, quota), onWarning: (w) => warnings.push(w) })!;
    await s.save('webgpu', 'L1', [Uint8Array.of(1), Uint8Array.of(2)]);
    expect(warnings).toEqual([expect.objectContaining({ code: 'QUOTA_EXCEEDED', details: { backend: 'webgpu' } })]);
    expect(warnings[0]!.message).toMatch(/not cached/);
    expect(await inner.keys()).toEqual([]);
    expect(s.stats).toMatchObject({ saved: 0, saveFailures: 1 });
    expect(await s.load('webgpu', 'L1')).toBeNull();
    expect(s.stats.misses.absent).toBe(1);

    const broken: KeyValueStore = { ...inner, get: async () => { throw new BitNetError('STORAGE', 'read failed'); } };
    const r = openRepackStore({ cacheKey: URL_A, fingerprint: FP }, true, { store: broken })!;
    expect(await r.load('webgpu', 'L1')).toBeNull();
    expect(r.stats.misses.error).toBe(1);
  });

  it('counts hits and misses', async () => {
    const s = openRepackStore({ cacheKey: URL_A, fingerprint: FP }, true, { store: memoryStore() })!;
    await s.save('webgpu', 'L1', [Uint8Array.of(5)]);
    expect((await s.load('webgpu', 'L1'))!.map((p) => Array.from(p))).toEqual([[5]]);
    expect(s.stats).toMatchObject({ hits: 1, saved: 1 });
  });

  it('progress events: a skipped repack says so, other events do not carry the flag', () => {
    expect(backendProgress('repack', 1, 1000, 'webgpu', { skipped: true })).toEqual({ phase: 'repack', loaded: 1000, total: 1000, fraction: 1, backend: 'webgpu', skipped: true });
    expect(backendProgress('repack', 0.5, 1000, 'webgpu')).toEqual({ phase: 'repack', loaded: 500, total: 1000, fraction: 0.5, backend: 'webgpu' });
    expect(backendProgress('upload', 1, 10, 'wasm', { skipped: true })).not.toHaveProperty('skipped');
  });
});

describe('WebGPU arena layout id', () => {
  it('is stable for one plan and changes with anything that moves bytes (binding limit, shapes)', () => {
    const base = { maxContext: 16, maxSequences: 1, maxBatch: 4, kvElemBytes: 4 };
    const w = tinyModel({ nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 96, vocabSize: 50, nLayer: 2, contextLength: 16, seed: 1 }).weights;
    const a = arenaLayoutId(planModel(w, { ...base, bindingLimit: 1 << 20 }));
    expect(a).toMatch(/^gpu-words-v1-/);
    expect(arenaLayoutId(planModel(w, { ...base, bindingLimit: 1 << 20 }))).toBe(a);
    expect(arenaLayoutId(planModel(w, { ...base, maxContext: 8, bindingLimit: 1 << 20 }))).toBe(a); // KV size does not touch arenas
    expect(arenaLayoutId(planModel(w, { ...base, bindingLimit: 16384 }))).not.toBe(a); // parts split differently
    const w2 = tinyModel({ nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, vocabSize: 50, nLayer: 2, contextLength: 16, seed: 1 }).weights;
    expect(arenaLayoutId(planModel(w2, { ...base, bindingLimit: 1 << 20 }))).not.toBe(a);
  });
});

describe('stored chunk source', () => {
  it('assembles reads across chunks and keeps only a few chunks in memory', async () => {
    const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    const fetched: number[] = [];
    const src = storedSource({ size: 1000, chunkSize: 128, getChunk: async (i) => (fetched.push(i), data.slice(i * 128, Math.min(1000, (i + 1) * 128))) }, 2);
    expect(Array.from(await src.read(120, 20))).toEqual(Array.from(data.subarray(120, 140)));
    expect(Array.from(await src.read(0, 1000))).toEqual(Array.from(data));
    expect(fetched.slice(0, 2)).toEqual([0, 1]);
    await src.read(0, 4); // chunk 0 was evicted by the full read (keep = 2)
    expect(fetched.at(-1)).toBe(0);
    await expect(src.read(990, 20)).rejects.toMatchObject({ code: 'OUT_OF_BOUNDS' });
    await src.close!();
    await expect(src.read(0, 1)).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
