/**
 * "Disk full" through the public API (Node, fake-indexeddb whose `put` starts failing with the
 * browser's `QuotaExceededError` after a few chunks): `createEngine` still loads the model (the rest
 * of it from memory), reports one typed `QUOTA_EXCEEDED` warning naming the fix, the model is not
 * marked cached, and generation streams token ids and ends with complete statistics.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, modelCache, type EngineWarning, type GenerationEvent } from '../src/index.js';
import { makeFixture } from '../src/model/fixtures.js';
import { startRangeServer, type RangeServer } from './helpers/cache-range-server.js';

const dbName = `bitnet-quota-engine-${process.pid}`;
let server: RangeServer;
let fixture: Uint8Array;

beforeAll(async () => {
  fixture = await makeFixture({ seed: 31, nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 1536, contextLength: 64 });
  expect(fixture.length).toBeGreaterThan(3 * 65536);
  server = await startRangeServer({ '/model.gguf': fixture });
});
afterAll(async () => {
  await modelCache({ dbName }).clear().catch(() => undefined);
  await server?.close();
});

describe('disk full while caching a model', () => {
  it('becomes a QUOTA_EXCEEDED warning; the engine runs from memory and generates with full stats', async () => {
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    const realPut = proto.put;
    let chunkWrites = 0;
    proto.put = function (this: unknown, value: unknown, ...rest: unknown[]) {
      const isChunk = typeof value === 'object' && value !== null && 'sha256' in value && 'data' in value;
      if (isChunk && ++chunkWrites > 2) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return realPut.call(this, value, ...rest);
    };
    const warnings: EngineWarning[] = [];
    let engine;
    try {
      engine = await createEngine({
        model: server.url('/model.gguf'), backend: 'reference', worker: false, cache: { dbName, chunkSize: 65536 }, onWarning: (w) => warnings.push(w),
      });
    } finally {
      proto.put = realPut;
    }
    try {
      expect(chunkWrites).toBeGreaterThan(2);
      expect(warnings.map((w) => w.code)).toEqual(['QUOTA_EXCEEDED']);
      expect(warnings[0]!.message).toMatch(/storage is full/);
      expect(engine.model).toMatchObject({ cached: false, sizeBytes: fixture.length });
      const events: GenerationEvent[] = [];
      for await (const e of engine.generate([1, 2, 3], { maxTokens: 5, temperature: 0 })) events.push(e);
      const end = events.at(-1)!;
      expect(end.done).toBe(true);
      const ids = events.flatMap((e) => e.tokenIds);
      expect(ids.length).toBeGreaterThan(0);
      if (!end.done) throw new Error('no end');
      expect(end.stats).toMatchObject({ promptTokens: 3, generatedTokens: ids.length, backend: 'reference' });
      for (const k of ['ttftMs', 'prefillTokensPerS', 'decodeTokensPerS', 'totalMs'] as const) expect(end.stats[k]).toBeGreaterThanOrEqual(0);
      expect(end.stats.ttftMs).toBeGreaterThan(0);
      // The partial entry stays (it resumes on a later load) and is reported as incomplete.
      expect((await modelCache({ dbName }).list())[0]).toMatchObject({ complete: false, storedBytes: 2 * 65536 });
    } finally {
      await engine.dispose();
    }
  });
});
