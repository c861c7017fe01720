/**
 * Repacked weights through the whole engine (Node, fake-indexeddb, Dawn/SwiftShader WebGPU, a model
 * URL served with Range support): the first load repacks and stores the WebGPU layout next to the
 * cached file, the second load reads it instead (one `repack` event with `skipped: true`) and
 * generates the same tokens; a corrupted stored part is detected, dropped and repacked again.
 */
import 'fake-indexeddb/auto';
import { createStore, get, keys, set } from 'idb-keyval';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine, modelCache, type LoadProgress } from '../src/index.js';
import { makeFixture } from '../src/model/fixtures.js';
import { idbStore } from '../src/cache/kv-store.js';
import { repackCache } from '../src/cache/repack-hook.js';
import { startRangeServer, type RangeServer } from './helpers/cache-range-server.js';
import { describeWebGPU, webgpuEnv } from './helpers/webgpu.js';

const env = await webgpuEnv();
const dbName = `bitnet-repack-engine-${process.pid}`;
let server: RangeServer;

beforeAll(async () => {
  const fixture = await makeFixture({ seed: 17, nLayer: 2, nEmbd: 128, nHead: 4, nHeadKv: 2, nFf: 256, vocab: 512, contextLength: 64 });
  server = await startRangeServer({ '/model.gguf': fixture });
});
afterAll(async () => {
  await modelCache({ dbName }).clear().catch(() => undefined);
  await server?.close();
});

type Repack = LoadProgress & { readonly backend?: unknown; readonly skipped?: boolean };

async function load(): Promise<{ text: string; gpuRepack: Repack[]; fingerprint: string | null; warnings: string[] }> {
  const events: LoadProgress[] = [];
  const warnings: string[] = [];
  const engine = await createEngine({
    model: server.url('/model.gguf'), backend: 'webgpu', allowFallbackAdapter: true, worker: false, maxContext: 32,
    cache: { dbName, chunkSize: 65536 }, onProgress: (p) => events.push(p), onWarning: (w) => warnings.push(w.code),
  });
  try {
    expect(engine.backend).toBe('webgpu');
    const text = await engine.generate([1, 2, 3], { maxTokens: 6, temperature: 0 }).text();
    const gpuRepack = events.filter((p): p is Repack => p.phase === 'repack' && p.backend === 'webgpu');
    return { text, gpuRepack, fingerprint: engine.model.fingerprint, warnings };
  } finally {
    await engine.dispose();
  }
}

describeWebGPU('repacked WebGPU weights cached in IndexedDB', env, () => {
  it('first load repacks and stores; second load skips repacking; a corrupted part is repacked again', async () => {
    const idb = createStore(dbName, 'files');
    const first = await load();
    expect(first.warnings).toEqual([]);
    expect(first.gpuRepack.at(-1)).toMatchObject({ fraction: 1 });
    expect(first.gpuRepack.some((p) => p.skipped)).toBe(false);
    const repackKeys = (await keys(idb)).filter((k) => Array.isArray(k) && k[0] === 'repack');
    const head = repackKeys.find((k) => (k as unknown[]).length === 4) as string[];
    expect(head.slice(0, 3)).toEqual(['repack', server.url('/model.gguf'), 'webgpu']);
    expect(head[3]).toMatch(/^gpu-words-v1-/);
    expect(await get<{ fingerprint: string }>(head, idb)).toMatchObject({ fingerprint: first.fingerprint });

    const second = await load();
    expect(second.gpuRepack).toEqual([expect.objectContaining({ phase: 'repack', fraction: 1, skipped: true, backend: 'webgpu' })]);
    expect(second.text).toBe(first.text);

    // Flip one byte of the stored layout: detected on read, dropped, repacked and stored again.
    const partKey = [...head, 0];
    const part = new Uint8Array((await get<ArrayBuffer>(partKey, idb))!.slice(0));
    part[part.length >> 1] ^= 0x55;
    await set(partKey, part.buffer, idb);
    const third = await load();
    expect(third.gpuRepack.some((p) => p.skipped)).toBe(false);
    expect(third.gpuRepack.at(-1)).toMatchObject({ fraction: 1 });
    expect(third.text).toBe(first.text);
    // ... and stored again, intact (the records' own verified read).
    const stored = await repackCache(idbStore(dbName), server.url('/model.gguf'), first.fingerprint!).load('webgpu', head[3]!);
    expect('parts' in stored && stored.parts[0]!.length).toBe(part.length);

    // Removing the model from the cache removes its repacked layouts too.
    const listed = (await modelCache({ dbName }).list()).find((e) => e.key === server.url('/model.gguf'))!;
    expect(listed.repackedBytes).toBeGreaterThanOrEqual(part.length);
    expect((await modelCache({ dbName }).usage()).models).toBe(listed.storedBytes + listed.repackedBytes);
    await modelCache({ dbName }).delete(server.url('/model.gguf'));
    expect((await keys(idb)).filter((k) => Array.isArray(k) && k[0] === 'repack')).toEqual([]);
  });
});
