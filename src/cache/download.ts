/**
 * Downloads a model file by URL into the chunk cache and returns a `ByteSource` over it.
 *
 * - The file is fetched in `chunkSize` pieces with HTTP Range requests, one at a time; each piece is
 *   hashed (sha256) and stored as its own record, so an interrupted download resumes at the first
 *   missing chunk. The manifest (all chunk hashes) is written last: only then is the entry complete.
 * - A complete entry loads without touching the network; with `verify` each chunk is re-hashed and
 *   a chunk that no longer matches (or is missing) is fetched again. A partial entry whose server file
 *   changed (size / ETag / Last-Modified) is discarded and downloaded afresh.
 * - Storage full (`QUOTA_EXCEEDED`) or broken (`STORAGE`) is reported through `onWarning` and the
 *   remaining chunks are kept in memory: the model still runs, it is just not (fully) cached.
 * - The first chunk must start with the GGUF magic, so an HTML error page is rejected (`BAD_MAGIC`)
 *   before gigabytes are pulled.
 */
import { BitNetError, throwIfAborted } from '../errors.js';
import type { ByteSource } from '../model/byte-source.js';
import type { EngineWarning, LoadProgress } from '../api/events.js';
import type { KeyValueStore } from './kv-store.js';
import { fetchRange, withRetries } from './fetch-range.js';
import { sha256Hex } from './sha256.js';
import { requestPersistence, storageReport, type StorageReport } from './storage.js';
import { storedSource } from './stored-source.js';
import {
  RECORD_VERSION, chunkCount, chunkKey, chunkLength, isChunkRecord, isManifest, isPending, manifestKey, pendingKey,
  type ChunkRecord, type ModelManifest, type PendingRecord,
} from './records.js';

export const DEFAULT_CHUNK_SIZE = 32 * 1024 * 1024;
/** Downloads at least this large ask for persistent storage first. */
export const PERSIST_THRESHOLD = 64 * 1024 * 1024;

export interface DownloadOptions {
  /** Where chunks go; null = keep everything in memory (no cache). */
  readonly store: KeyValueStore | null;
  /** Cache key (default: the URL). */
  readonly key?: string;
  readonly chunkSize?: number;
  /** Re-hash stored chunks on load (default true). */
  readonly verify?: boolean;
  /** Extra attempts per chunk for transient failures (default 3). */
  readonly retries?: number;
  readonly retryDelayMs?: number;
  /** Downloads of at least this many bytes call `navigator.storage.persist()` first (default 64 MiB). */
  readonly persistThreshold?: number;
  readonly fetch?: typeof fetch;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly onWarning?: (w: EngineWarning) => void;
}

export interface DownloadedModel {
  readonly source: ByteSource;
  readonly key: string;
  readonly size: number;
  /** sha256 over the chunk digests (same value as the manifest's). */
  readonly fingerprint: string;
  /** Bytes fetched from the network in this call (0 for a fully cached model). */
  readonly downloaded: number;
  /** True when every chunk is in the store and the manifest is written. */
  readonly cached: boolean;
  readonly storage: StorageReport | null;
}

const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46];

function checkMagic(data: Uint8Array, url: string): void {
  if (data.length >= 4 && GGUF_MAGIC.every((b, i) => data[i] === b)) return;
  const head = new TextDecoder('latin1').decode(data.subarray(0, Math.min(16, data.length))).replace(/[^\x20-\x7e]/g, '.');
  throw new BitNetError('BAD_MAGIC', `${url} is not a GGUF model file (it starts with "${head}")`, { details: { url } });
}

export async function fingerprintOf(hashes: readonly string[]): Promise<string> {
  return sha256Hex(new TextEncoder().encode(hashes.join('\n')));
}

/** Downloads (or loads from the cache) `url`. See the module comment for the behaviour. */
export async function downloadModel(url: string, o: DownloadOptions): Promise<DownloadedModel> {
  const key = o.key ?? url;
  const verify = o.verify ?? true;
  const retries = o.retries ?? 3;
  const signal = o.signal;
  let store = o.store;
  const memory = new Map<number, Uint8Array>();
  const warned = new Set<string>();

  /** Stops using the store after a failure, keeping the model in memory. */
  const storeFailed = (e: unknown, what: string): void => {
    const code = e instanceof BitNetError && e.code === 'QUOTA_EXCEEDED' ? 'QUOTA_EXCEEDED' : 'STORAGE';
    if (!warned.has(code)) {
      warned.add(code);
      const msg = (e as Error).message ?? String(e);
      o.onWarning?.({
        code,
        message: `${what}: ${msg}. The model runs from memory and will be downloaded again next time.`,
        details: { key },
      });
    }
    store = null;
  };
  const storeGet = async <T>(k: Parameters<KeyValueStore['get']>[0]): Promise<T | undefined> => {
    if (!store) return undefined;
    try {
      return await store.get<T>(k);
    } catch (e) {
      storeFailed(e, 'reading the model cache failed');
      return undefined;
    }
  };
  const storePut = async (k: Parameters<KeyValueStore['set']>[0], v: unknown): Promise<boolean> => {
    if (!store) return false;
    try {
      await store.set(k, v);
      return true;
    } catch (e) {
      storeFailed(e, 'storing the model failed');
      return false;
    }
  };

  const fetchChunk = (i: number, chunkSize: number, onBytes?: (n: number) => void) =>
    withRetries(
      () => fetchRange(url, i * chunkSize, (i + 1) * chunkSize, { fetch: o.fetch, headers: o.headers, signal, onBytes }),
      retries,
      signal,
      o.retryDelayMs,
    );

  const manifest = await storeGet<ModelManifest>(manifestKey(key));
  if (isManifest(manifest)) {
    return loadComplete(manifest);
  }

  // ---- fresh or resumed download ----
  let pending = await storeGet<PendingRecord>(pendingKey(key));
  if (pending !== undefined && !isPending(pending)) pending = undefined;
  let size: number;
  let chunkSize: number;
  let etag: string | null = null;
  let lastModified: string | null = null;
  let first: Uint8Array | null = null;
  let downloaded = 0;
  if (pending) {
    size = pending.size;
    chunkSize = pending.chunkSize;
    etag = pending.etag;
    lastModified = pending.lastModified;
  } else {
    chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const r = await fetchChunk(0, chunkSize);
    checkMagic(r.data, url);
    size = r.total;
    etag = r.etag;
    lastModified = r.lastModified;
    first = r.data;
    downloaded += r.data.length;
  }
  const n = chunkCount(size, chunkSize);
  const hashes: (string | null)[] = new Array<string | null>(n).fill(null);

  // Which chunks are already stored and intact (re-hashed: a resumed entry may hold a torn write).
  let have = 0;
  if (pending) {
    for (let i = 0; i < n; i++) {
      throwIfAborted(signal);
      const rec = await storeGet<ChunkRecord>(chunkKey(key, i));
      if (isChunkRecord(rec) && rec.data.byteLength === chunkLength(size, chunkSize, i) && (await sha256Hex(new Uint8Array(rec.data))) === rec.sha256) {
        if (i === 0) checkMagic(new Uint8Array(rec.data), url);
        hashes[i] = rec.sha256;
        have += rec.data.byteLength;
      }
    }
  }
  let storage: StorageReport | null = null;
  if (store) {
    const missing = size - have;
    if (missing >= (o.persistThreshold ?? PERSIST_THRESHOLD)) await requestPersistence();
    storage = await storageReport();
    if (storage.quota !== null && storage.usage !== null && storage.quota - storage.usage < missing) {
      storeFailed(
        new BitNetError('QUOTA_EXCEEDED', `not enough browser storage for ${missing} bytes (quota ${storage.quota}, used ${storage.usage})`),
        'caching the model was skipped',
      );
    }
  }
  if (!pending && store) {
    const p: PendingRecord = { version: RECORD_VERSION, key, url, size, chunkSize, etag, lastModified, startedAt: Date.now() };
    await storePut(pendingKey(key), p);
  }

  let loaded = have;
  const progress = (): void => o.onProgress?.({ phase: 'download', loaded, total: size, fraction: size > 0 ? loaded / size : 1, cached: have });
  progress();
  for (let i = 0; i < n; i++) {
    if (hashes[i] !== null) continue;
    throwIfAborted(signal);
    let data: Uint8Array;
    if (i === 0 && first) {
      data = first;
      loaded += data.length;
    } else {
      const r = await fetchChunk(i, chunkSize, (b) => {
        loaded += b;
        progress();
      });
      if (pending && (r.total !== size || (etag !== null && r.etag !== null && r.etag !== etag) || (lastModified !== null && r.lastModified !== null && r.lastModified !== lastModified))) {
        // The file on the server changed since the interrupted download: start over.
        await discardEntry(key, size, chunkSize);
        return downloadModel(url, o);
      }
      data = r.data;
      downloaded += data.length;
      if (i === 0) checkMagic(data, url);
      if (data.length !== chunkLength(size, chunkSize, i)) {
        throw new BitNetError('NETWORK', `chunk ${i} of ${url} has ${data.length} bytes, expected ${chunkLength(size, chunkSize, i)}`, { details: { url } });
      }
    }
    const h = await sha256Hex(data);
    hashes[i] = h;
    const buf = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? data.buffer : data.slice().buffer;
    if (!(await storePut(chunkKey(key, i), { data: buf, sha256: h } satisfies ChunkRecord))) memory.set(i, data);
    progress();
  }
  const all = hashes as string[];
  const fingerprint = await fingerprintOf(all);
  let cached = false;
  if (store && memory.size === 0) {
    const m: ModelManifest = { version: RECORD_VERSION, key, url, size, chunkSize, chunks: all, etag, lastModified, fingerprint, createdAt: Date.now() };
    cached = await storePut(manifestKey(key), m);
    if (cached) await store?.delete([pendingKey(key)]).catch(() => undefined);
  }
  return { source: makeSource(size, chunkSize), key, size, fingerprint, downloaded, cached, storage };

  function makeSource(total: number, cs: number): ByteSource {
    const s = o.store;
    return storedSource({
      size: total,
      chunkSize: cs,
      async getChunk(i: number): Promise<Uint8Array> {
        const m = memory.get(i);
        if (m) return m;
        const rec = s ? await s.get<ChunkRecord>(chunkKey(key, i)) : undefined;
        if (!isChunkRecord(rec)) throw new BitNetError('STORAGE', `cached chunk ${i} of ${url} disappeared while the model was loading`, { details: { key } });
        return new Uint8Array(rec.data);
      },
    });
  }

  async function discardEntry(k: string, total: number, cs: number): Promise<void> {
    const ks = [pendingKey(k), manifestKey(k)];
    for (let i = 0; i < chunkCount(total, cs); i++) ks.push(chunkKey(k, i));
    await o.store?.delete(ks).catch(() => undefined);
  }

  async function loadComplete(m: ModelManifest): Promise<DownloadedModel> {
    const total = m.size;
    o.onProgress?.({ phase: 'download', loaded: total, total, fraction: 1, cached: total });
    let fetched = 0;
    if (verify) {
      let checked = 0;
      o.onProgress?.({ phase: 'verify', loaded: 0, total, fraction: 0 });
      for (let i = 0; i < m.chunks.length; i++) {
        throwIfAborted(signal);
        const len = chunkLength(total, m.chunkSize, i);
        const rec = await storeGet<ChunkRecord>(chunkKey(key, i));
        const ok = isChunkRecord(rec) && rec.data.byteLength === len && (await sha256Hex(new Uint8Array(rec.data))) === m.chunks[i];
        if (!ok) {
          // Missing or corrupted: fetch this chunk again; it must match the manifest's digest.
          const r = await fetchChunk(i, m.chunkSize);
          const h = await sha256Hex(r.data);
          if (h !== m.chunks[i] || r.total !== total) {
            await discardEntry(key, total, m.chunkSize);
            throw new BitNetError('INTEGRITY', `chunk ${i} of ${url} does not match the cached manifest and the server's file changed; the cache entry was dropped, load again to download afresh`, {
              details: { key, chunk: i },
            });
          }
          fetched += r.data.length;
          if (!(await storePut(chunkKey(key, i), { data: r.data.slice().buffer, sha256: h } satisfies ChunkRecord))) memory.set(i, r.data);
        }
        checked += len;
        o.onProgress?.({ phase: 'verify', loaded: checked, total, fraction: total > 0 ? checked / total : 1 });
      }
    }
    return { source: makeSource(total, m.chunkSize), key, size: total, fingerprint: m.fingerprint, downloaded: fetched, cached: true, storage: await storageReport() };
  }
}
