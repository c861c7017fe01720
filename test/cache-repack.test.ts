import { describe, expect, it } from 'vitest';
import { memoryStore } from '../src/cache/kv-store.js';
import { repackCache } from '../src/cache/repack-hook.js';
import { storedSource } from '../src/cache/stored-source.js';

describe('repacked-weights cache hook', () => {
  it('stores, loads and clears parts per (model, backend, variant)', async () => {
    const store = memoryStore();
    const a = repackCache(store, 'https://x/model.gguf');
    const b = repackCache(store, 'https://x/other.gguf');
    expect(await a.load('wasm', 'tiles-v1')).toBeNull();
    await a.save('wasm', 'tiles-v1', [Uint8Array.of(1, 2, 3), Uint8Array.of(4)]);
    expect((await a.load('wasm', 'tiles-v1'))!.map((p) => Array.from(p))).toEqual([[1, 2, 3], [4]]);
    expect(await a.load('wasm', 'tiles-v2')).toBeNull();
    expect(await b.load('wasm', 'tiles-v1')).toBeNull();
    await a.clear('wasm');
    expect(await a.load('wasm', 'tiles-v1')).toBeNull();
    expect(await store.keys()).toEqual([]);
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
