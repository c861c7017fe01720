import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { downloadModel } from '../src/cache/download.js';
import { idbStore, type KeyValueStore } from '../src/cache/kv-store.js';
import { modelCache } from '../src/cache/manage.js';
import { chunkKey } from '../src/cache/records.js';
import { sha256Hex, sha256Scalar } from '../src/cache/sha256.js';
import { openModel } from '../src/cache/open-model.js';
import type { EngineWarning, LoadProgress } from '../src/api/events.js';
import { BitNetError } from '../src/errors.js';
import { fakeGguf, startRangeServer, type RangeServer } from './helpers/cache-range-server.js';

const CHUNK = 65536;
const SIZE = 5 * CHUNK + 1234; // 6 chunks, the last one short
const file = fakeGguf(SIZE, 7);
let server: RangeServer;
let dbCounter = 0;
const freshDb = (): string => `bitnet-test-${process.pid}-${++dbCounter}`;

beforeAll(async () => {
  server = await startRangeServer({ '/m.gguf': file, '/small.gguf': fakeGguf(1000, 3), '/page.html': new TextEncoder().encode('<!DOCTYPE html><html>not a model</html>'.padEnd(CHUNK * 2, ' ')) });
});
afterAll(async () => {
  await server.close();
});

function resetServer(): void {
  server.requests.length = 0;
  server.mode.ignoreRange = false;
  server.mode.cutAfter = null;
  server.mode.cutCount = 0;
  server.mode.status = null;
  server.mode.etag = '"v1"';
}

async function readAll(src: { size: number; read(o: number, n: number): Promise<Uint8Array> }): Promise<Uint8Array> {
  // Odd-sized windows so reads straddle chunk boundaries.
  const out = new Uint8Array(src.size);
  for (let o = 0; o < src.size; o += 50_001) out.set(await src.read(o, Math.min(50_001, src.size - o)), o);
  return out;
}

/** Byte equality without vitest's slow element-wise diffing of large typed arrays. */
function expectBytes(a: Uint8Array, b: Uint8Array): void {
  expect(a.length).toBe(b.length);
  expect(Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length))).toBe(0);
}

const rangeStarts = (): number[] => server.requests.map((r) => Number(/bytes=(\d+)-/.exec(r.range ?? '')?.[1] ?? -1));

describe('chunked download into IndexedDB', () => {
  it('downloads in Range chunks, reports progress, writes a manifest and reads back exactly', async () => {
    resetServer();
    const store = idbStore(freshDb());
    const events: LoadProgress[] = [];
    const d = await downloadModel(server.url('/m.gguf'), { store, chunkSize: CHUNK, onProgress: (p) => events.push(p) });
    expect(d.cached).toBe(true);
    expect(d.size).toBe(SIZE);
    expect(d.downloaded).toBe(SIZE);
    expect(rangeStarts()).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * CHUNK));
    expect(server.requests.every((r) => r.range !== null)).toBe(true);
    const dl = events.filter((e) => e.phase === 'download');
    for (let i = 1; i < dl.length; i++) expect(dl[i]!.loaded).toBeGreaterThanOrEqual(dl[i - 1]!.loaded);
    expect(dl.at(-1)).toMatchObject({ loaded: SIZE, total: SIZE, fraction: 1 });
    expectBytes(await readAll(d.source), file);
    expect(d.fingerprint).toMatch(/^[0-9a-f]{64}$/);

    // Second load: no network, verify phase, same fingerprint.
    server.requests.length = 0;
    const events2: LoadProgress[] = [];
    const d2 = await downloadModel(server.url('/m.gguf'), { store, chunkSize: CHUNK, onProgress: (p) => events2.push(p) });
    expect(server.requests).toHaveLength(0);
    expect(d2.downloaded).toBe(0);
    expect(d2.fingerprint).toBe(d.fingerprint);
    expect(events2.some((e) => e.phase === 'verify' && e.fraction === 1)).toBe(true);
    expectBytes(await readAll(d2.source), file);
  });

  it('resumes an interrupted download at the first missing chunk', async () => {
    resetServer();
    const store = idbStore(freshDb());
    let calls = 0;
    const flaky: typeof fetch = (input, init) => {
      if (++calls > 3) return Promise.reject(new TypeError('network down'));
      return fetch(input, init);
    };
    const err = await downloadModel(server.url('/m.gguf'), { store, chunkSize: CHUNK, fetch: flaky, retries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BitNetError);
    expect((err as BitNetError).code).toBe('NETWORK');
    const listed = await modelCache({ store }).list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ complete: false, storedBytes: 3 * CHUNK, size: SIZE });
    expect(await modelCache({ store }).has(server.url('/m.gguf'))).toBe(false);

    server.requests.length = 0;
    const events: LoadProgress[] = [];
    const d = await downloadModel(server.url('/m.gguf'), { store, chunkSize: 4 * CHUNK /* ignored: resume keeps the stored chunking */, onProgress: (p) => events.push(p) });
    expect(rangeStarts()).toEqual([3, 4, 5].map((i) => i * CHUNK));
    expect(events[0]).toMatchObject({ phase: 'download', loaded: 3 * CHUNK, cached: 3 * CHUNK });
    expect(d.downloaded).toBe(SIZE - 3 * CHUNK);
    expectBytes(await readAll(d.source), file);
    expect(await modelCache({ store }).has(server.url('/m.gguf'))).toBe(true);
  });

  it('retries a body cut off midway, and fails with NETWORK when it keeps happening', async () => {
    resetServer();
    server.mode.cutAfter = 1000;
    server.mode.cutCount = 1;
    const d = await downloadModel(server.url('/m.gguf'), { store: null, chunkSize: CHUNK, retries: 2, retryDelayMs: 1 });
    expectBytes(await readAll(d.source), file);
    expect(d.cached).toBe(false);

    resetServer();
    server.mode.cutAfter = 1000;
    server.mode.cutCount = 100;
    const err = await downloadModel(server.url('/m.gguf'), { store: null, chunkSize: CHUNK, retries: 1, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NETWORK' });
    expect(String((err as Error).message)).toMatch(/closed after|interrupted/);
  });

  it('re-fetches only a corrupted chunk of a complete entry', async () => {
    resetServer();
    const store = idbStore(freshDb());
    const url = server.url('/m.gguf');
    await downloadModel(url, { store, chunkSize: CHUNK });
    const rec = (await store.get<{ data: ArrayBuffer; sha256: string }>(chunkKey(url, 2)))!;
    const bad = new Uint8Array(rec.data.slice(0));
    bad[100] = bad[100]! ^ 0xff;
    await store.set(chunkKey(url, 2), { data: bad.buffer, sha256: rec.sha256 });
    await store.delete([chunkKey(url, 4)]);
    server.requests.length = 0;
    const d = await downloadModel(url, { store, chunkSize: CHUNK });
    expect(rangeStarts()).toEqual([2 * CHUNK, 4 * CHUNK]);
    expectBytes(await readAll(d.source), file);
    const fixed = (await store.get<{ data: ArrayBuffer }>(chunkKey(url, 2)))!;
    expectBytes(new Uint8Array(fixed.data), file.subarray(2 * CHUNK, 3 * CHUNK));
  });

  it('starts over when the server file changed under a partial download', async () => {
    resetServer();
    const store = idbStore(freshDb());
    let calls = 0;
    const flaky: typeof fetch = (input, init) => (++calls > 2 ? Promise.reject(new TypeError('down')) : fetch(input, init));
    await expect(downloadModel(server.url('/m.gguf'), { store, chunkSize: CHUNK, fetch: flaky, retries: 0 })).rejects.toMatchObject({ code: 'NETWORK' });
    server.mode.etag = '"v2"';
    server.requests.length = 0;
    const d = await downloadModel(server.url('/m.gguf'), { store, chunkSize: CHUNK });
    expect(rangeStarts()[0]).toBe(2 * CHUNK); // detects the change on the first resumed chunk
    expect(rangeStarts().slice(1)).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * CHUNK));
    expectBytes(await readAll(d.source), file);
  });
});

describe('typed download errors', () => {
  it('refuses a server that ignores Range for a file larger than one chunk', async () => {
    resetServer();
    server.mode.ignoreRange = true;
    const err = await downloadModel(server.url('/m.gguf'), { store: null, chunkSize: CHUNK }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'BitNetError', code: 'RANGE_UNSUPPORTED' });
    expect((err as Error).message).toMatch(/ignores HTTP Range/);
    // A small file that fits in the first window is fine even without Range support.
    const d = await downloadModel(server.url('/small.gguf'), { store: null, chunkSize: CHUNK });
    expect(d.size).toBe(1000);
  });

  it('maps HTTP errors, unreachable hosts and non-model files', async () => {
    resetServer();
    await expect(downloadModel(server.url('/missing.gguf'), { store: null, chunkSize: CHUNK })).rejects.toMatchObject({ code: 'HTTP_STATUS', details: { status: 404 } });
    server.mode.status = 500;
    await expect(downloadModel(server.url('/m.gguf'), { store: null, chunkSize: CHUNK, retries: 1, retryDelayMs: 1 })).rejects.toMatchObject({ code: 'HTTP_STATUS', details: { status: 500 } });
    expect(server.requests).toHaveLength(3); // 404 once, 500 twice (retried)
    resetServer();
    await expect(downloadModel('http://127.0.0.1:9/x.gguf', { store: null, chunkSize: CHUNK, retries: 0 })).rejects.toMatchObject({ code: 'NETWORK' });
    const err = await downloadModel(server.url('/page.html'), { store: null, chunkSize: CHUNK }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_MAGIC' });
    expect((err as Error).message).toContain('<!DOCTYPE');
    expect(server.requests).toHaveLength(1); // stopped after the first chunk
  });

  it('rejects with AbortError when aborted', async () => {
    resetServer();
    const ac = new AbortController();
    ac.abort();
    await expect(downloadModel(server.url('/m.gguf'), { store: null, chunkSize: CHUNK, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('storage full and persistence', () => {
  it('keeps running from memory on QuotaExceededError, with a typed warning', async () => {
    resetServer();
    const real = idbStore(freshDb());
    let writes = 0;
    const full: KeyValueStore = {
      ...real,
      set: async (k, v) => {
        if (Array.isArray(k) && k[0] === 'chunk' && ++writes > 2) {
          // What IndexedDB rejects with once the origin's quota is used up (mapped by idbStore).
          const { storageError } = await import('../src/cache/kv-store.js');
          throw storageError(new DOMException('The quota has been exceeded.', 'QuotaExceededError'), 'writing');
        }
        return real.set(k, v);
      },
    };
    const warnings: EngineWarning[] = [];
    const opened = await openModel(server.url('/m.gguf'), { store: full, cache: { chunkSize: CHUNK }, onWarning: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(warnings[0]!.message).toMatch(/runs from memory/);
    expect(opened.cached).toBe(false);
    expectBytes(await readAll(opened.source), file);
    expect((await modelCache({ store: real }).list())[0]).toMatchObject({ complete: false, storedBytes: 2 * CHUNK });
  });

  it('asks for persistent storage before a large download and skips caching when the estimate is too small', async () => {
    resetServer();
    const persist = vi.fn(async () => true);
    vi.stubGlobal('navigator', { storage: { persist, persisted: async () => false, estimate: async () => ({ quota: 100_000, usage: 50_000 }) } });
    try {
      const PERSIST_THRESHOLD = 3 * CHUNK;
      const big = fakeGguf(PERSIST_THRESHOLD + 10, 9);
      server.files.set('/big.gguf', big);
      const warnings: EngineWarning[] = [];
      const d = await downloadModel(server.url('/big.gguf'), { store: idbStore(freshDb()), chunkSize: CHUNK, persistThreshold: PERSIST_THRESHOLD, onWarning: (w) => warnings.push(w) });
      expect(persist).toHaveBeenCalledTimes(1);
      expect(d.storage).toEqual({ persisted: false, quota: 100_000, usage: 50_000 });
      expect(warnings.map((w) => w.code)).toEqual(['QUOTA_EXCEEDED']);
      expect(d.cached).toBe(false);
      expectBytes(await d.source.read(PERSIST_THRESHOLD, 10), big.subarray(PERSIST_THRESHOLD));
    } finally {
      vi.unstubAllGlobals();
      server.files.delete('/big.gguf');
    }
  });
});

describe('cache management', () => {
  it('lists, measures, deletes and clears entries', async () => {
    resetServer();
    const dbName = freshDb();
    const store = idbStore(dbName);
    await downloadModel(server.url('/m.gguf'), { store, chunkSize: CHUNK });
    await downloadModel(server.url('/small.gguf'), { store, chunkSize: CHUNK });
    const cache = modelCache({ dbName });
    const list = await cache.list();
    expect(list.map((e) => [e.url, e.complete, e.storedBytes])).toEqual([
      [server.url('/m.gguf'), true, SIZE],
      [server.url('/small.gguf'), true, 1000],
    ]);
    expect((await cache.usage()).models).toBe(SIZE + 1000);
    expect(await cache.has(server.url('/small.gguf'))).toBe(true);
    expect(await cache.delete(server.url('/small.gguf'))).toBe(true);
    expect(await cache.delete(server.url('/small.gguf'))).toBe(false);
    expect(await cache.has(server.url('/small.gguf'))).toBe(false);
    expect((await cache.list()).length).toBe(1);
    await cache.clear();
    expect(await cache.list()).toEqual([]);
    expect((await store.keys()).length).toBe(0);
  });
});

describe('sha256', () => {
  it('the scalar fallback agrees with crypto.subtle', async () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 1000, 70_000]) {
      const d = fakeGguf(Math.max(n, 4), n).subarray(0, n);
      expect(sha256Scalar(d)).toBe(await sha256Hex(d));
    }
    expect(sha256Scalar(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
