import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, modelCache, type EngineWarning, type LoadProgress } from '../src/index.js';
import { makeFixture } from '../src/model/fixtures.js';
import { startRangeServer, type RangeServer } from './helpers/cache-range-server.js';

let server: RangeServer;
let fixture: Uint8Array;
const dbName = `bitnet-engine-cache-${process.pid}`;

beforeAll(async () => {
  // Larger than one 64 KiB chunk, so Range support matters.
  fixture = await makeFixture({ seed: 13, nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 1024, contextLength: 64 });
  expect(fixture.length).toBeGreaterThan(2 * 65536);
  server = await startRangeServer({ '/model.gguf': fixture, '/notes.txt': new TextEncoder().encode('just some text, definitely not a GGUF file') });
});
afterAll(async () => {
  await server.close();
});

describe('engine loading a model by URL through the IndexedDB cache', () => {
  it('downloads in Range chunks on the first load and reads from the cache on the second', async () => {
    const phases: LoadProgress[] = [];
    const cache = { dbName, chunkSize: 65536 };
    // resultCache off: the second engine must compute its answer from the cached model, not the result cache.
    const a = await createEngine({ model: server.url('/model.gguf'), backend: 'reference', worker: false, cache, resultCache: false, onProgress: (p) => phases.push(p) });
    const first = await a.generate('Hello', { maxTokens: 4, temperature: 0 }).text();
    expect(a.model).toMatchObject({ source: 'url', cached: true, cacheKey: server.url('/model.gguf'), sizeBytes: fixture.length });
    expect(a.model.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(server.requests.length).toBe(Math.ceil(fixture.length / 65536));
    expect(phases.filter((p) => p.phase === 'download').at(-1)).toMatchObject({ loaded: fixture.length, total: fixture.length, fraction: 1 });
    await a.dispose();

    server.requests.length = 0;
    const phases2: string[] = [];
    const b = await createEngine({ model: server.url('/model.gguf'), backend: 'reference', worker: false, cache, resultCache: false, onProgress: (p) => phases2.push(p.phase) });
    expect(server.requests).toHaveLength(0);
    expect(phases2).toContain('verify');
    expect(b.model.fingerprint).toBe(a.model.fingerprint);
    expect(await b.generate('Hello', { maxTokens: 4, temperature: 0 }).text()).toBe(first);
    await b.dispose();

    const list = await modelCache({ dbName }).list();
    expect(list).toEqual([expect.objectContaining({ url: server.url('/model.gguf'), complete: true, storedBytes: fixture.length })]);
    await modelCache({ dbName }).clear();
  });

  it('surfaces typed load errors and QUOTA/STORAGE problems as warnings', async () => {
    const base = { backend: 'reference' as const, worker: false, cache: { dbName, chunkSize: 65536 } };
    await expect(createEngine({ ...base, model: server.url('/missing.gguf') })).rejects.toMatchObject({ code: 'HTTP_STATUS', details: { status: 404 } });
    await expect(createEngine({ ...base, model: server.url('/notes.txt') })).rejects.toMatchObject({ code: 'BAD_MAGIC' });
    await expect(createEngine({ ...base, model: 'http://127.0.0.1:9/model.gguf', cache: { dbName, retries: 0 } })).rejects.toMatchObject({ code: 'NETWORK' });
    server.mode.ignoreRange = true;
    try {
      await expect(createEngine({ ...base, model: server.url('/model.gguf') })).rejects.toMatchObject({ code: 'RANGE_UNSUPPORTED' });
    } finally {
      server.mode.ignoreRange = false;
    }
    // cache: false downloads to memory and stores nothing.
    const warnings: EngineWarning[] = [];
    const e = await createEngine({ ...base, model: server.url('/model.gguf'), cache: false, onWarning: (w) => warnings.push(w) });
    expect(e.model).toMatchObject({ cached: false, cacheKey: null });
    await e.dispose();
    expect(await modelCache({ dbName }).list()).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
