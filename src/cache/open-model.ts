/**
 * Turns whatever the caller passed as `model` into a `ByteSource` the GGUF loader reads:
 *
 * | input                                    | how it is read                                          |
 * |------------------------------------------|---------------------------------------------------------|
 * | `http(s)://…` string or `URL`            | chunked Range download into the IndexedDB cache (download.ts) |
 * | `blob:` / `data:` URL                    | fetched once into a Blob (no Range, not cached)         |
 * | `File` / `Blob`                          | `blob.slice` windows                                     |
 * | `ArrayBuffer` / typed array              | in memory                                                |
 * | other string in Node (or `file:` URL)    | a local file path, read with a file handle              |
 *
 * In a browser a relative string is a URL relative to the page; the main thread makes it absolute
 * before it reaches the worker.
 */
import { BitNetError, isAbortError } from '../errors.js';
import { blobSource, bufferSource, fileSource, type ByteSource } from '../model/byte-source.js';
import type { EngineWarning, LoadProgress } from '../api/events.js';
import { DEFAULT_CHUNK_SIZE, downloadModel } from './download.js';
import { DEFAULT_DB_NAME, hasIndexedDB, idbStore, type KeyValueStore } from './kv-store.js';
import type { StorageReport } from './storage.js';

export type ModelInput = string | URL | Blob | ArrayBuffer | ArrayBufferView;

export interface CacheOptions {
  /** Store downloaded models in IndexedDB (default: true where IndexedDB exists). */
  readonly enabled?: boolean;
  /** Download chunk size in bytes (default 32 MiB, at least 64 KiB). */
  readonly chunkSize?: number;
  /** IndexedDB database name (default `bitnet-web-models`). */
  readonly dbName?: string;
  /** Re-hash cached chunks on every load and re-fetch corrupted ones (default true). */
  readonly verify?: boolean;
  /** Extra attempts per chunk on transient network errors (default 3). */
  readonly retries?: number;
  /** Cache key instead of the URL (e.g. when the URL carries a changing token). */
  readonly key?: string;
  /** Extra request headers (e.g. Authorization). */
  readonly headers?: Record<string, string>;
}

export interface OpenModelOptions {
  readonly cache?: boolean | CacheOptions;
  /** Test hook: a store used instead of IndexedDB. */
  readonly store?: KeyValueStore;
  readonly fetch?: typeof fetch;
  readonly signal?: AbortSignal;
  readonly retryDelayMs?: number;
  readonly onProgress?: (p: LoadProgress) => void;
  readonly onWarning?: (w: EngineWarning) => void;
}

export interface OpenedModel {
  readonly source: ByteSource;
  readonly kind: 'url' | 'file' | 'blob' | 'buffer';
  /** URL, path or file name (for messages and stats). */
  readonly name: string;
  /** Cache key when the model came through the cache. */
  readonly cacheKey: string | null;
  /** Content identity when known without extra work (URL downloads); null otherwise. */
  readonly fingerprint: string | null;
  /** True when the model is completely stored in the cache. */
  readonly cached: boolean;
  readonly storage: StorageReport | null;
}

export function isNodeRuntime(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

function normaliseCache(c: boolean | CacheOptions | undefined): CacheOptions & { enabled: boolean } {
  if (c === undefined || c === true) return { enabled: true };
  if (c === false) return { enabled: false };
  return { ...c, enabled: c.enabled ?? true };
}

async function fetchWhole(url: string, o: OpenModelOptions): Promise<ByteSource> {
  const f = o.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await f(url, { signal: o.signal ?? null });
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new BitNetError('NETWORK', `cannot read ${url.slice(0, 64)}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) throw new BitNetError('HTTP_STATUS', `reading ${url.slice(0, 64)} failed: HTTP ${res.status}`, { details: { status: res.status } });
  const blob = await res.blob();
  o.onProgress?.({ phase: 'download', loaded: blob.size, total: blob.size, fraction: 1, cached: 0 });
  return blobSource(blob);
}

async function nodePath(p: string): Promise<string> {
  if (!p.startsWith('file:')) return p;
  const modName = 'node:url';
  const url = (await import(/* @vite-ignore */ modName)) as { fileURLToPath(u: string): string };
  return url.fileURLToPath(p);
}

/** Opens a model input. Errors: IO (path), NETWORK / HTTP_STATUS / RANGE_UNSUPPORTED (URL), BAD_MAGIC, BAD_OPTION. */
export async function openModel(input: ModelInput, o: OpenModelOptions = {}): Promise<OpenedModel> {
  const none = { cacheKey: null, fingerprint: null, cached: false, storage: null } as const;
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const name = (input as { name?: unknown }).name;
    o.onProgress?.({ phase: 'download', loaded: input.size, total: input.size, fraction: 1, cached: 0 });
    return { source: blobSource(input), kind: 'blob', name: typeof name === 'string' ? name : 'blob', ...none };
  }
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    const bytes = input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    o.onProgress?.({ phase: 'download', loaded: bytes.length, total: bytes.length, fraction: 1, cached: 0 });
    return { source: bufferSource(bytes), kind: 'buffer', name: 'buffer', ...none };
  }
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new BitNetError('BAD_OPTION', `model: expected a URL, path, File, Blob or ArrayBuffer, got ${Object.prototype.toString.call(input)}`, { details: { option: 'model' } });
  }
  const s = String(input);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
  if (scheme === 'blob' || scheme === 'data') {
    return { source: await fetchWhole(s, o), kind: 'blob', name: scheme + ':', ...none };
  }
  if (scheme === 'http' || scheme === 'https') {
    const c = normaliseCache(o.cache);
    if (c.chunkSize !== undefined && (!Number.isSafeInteger(c.chunkSize) || c.chunkSize < 65536)) {
      throw new BitNetError('BAD_OPTION', `cache.chunkSize: expected an integer >= 65536, got ${String(c.chunkSize)}`, { details: { option: 'cache.chunkSize' } });
    }
    let store: KeyValueStore | null = null;
    if (c.enabled) store = o.store ?? (hasIndexedDB() ? idbStore(c.dbName ?? DEFAULT_DB_NAME) : null);
    const d = await downloadModel(s, {
      store,
      key: c.key,
      chunkSize: c.chunkSize ?? DEFAULT_CHUNK_SIZE,
      verify: c.verify,
      retries: c.retries,
      retryDelayMs: o.retryDelayMs,
      headers: c.headers,
      fetch: o.fetch,
      signal: o.signal,
      onProgress: o.onProgress,
      onWarning: o.onWarning,
    });
    return { source: d.source, kind: 'url', name: s, cacheKey: store ? d.key : null, fingerprint: d.fingerprint, cached: d.cached, storage: d.storage };
  }
  if (!isNodeRuntime() && scheme !== 'file') {
    throw new BitNetError('BAD_OPTION', `model: "${s}" is not an absolute http(s) URL (relative URLs are resolved by createEngine)`, { details: { option: 'model' } });
  }
  if (!isNodeRuntime()) throw new BitNetError('IO', `model: file paths (${s}) can only be read in Node; pass a URL or a File`);
  const path = await nodePath(s);
  const source = await fileSource(path);
  o.onProgress?.({ phase: 'download', loaded: source.size, total: source.size, fraction: 1, cached: 0 });
  return { source, kind: 'file', name: path, ...none };
}
