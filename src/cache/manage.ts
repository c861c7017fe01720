/**
 * Cache management: what models are stored, how much space they take, and removing them.
 * Works on the same database the engine downloads into (default `bitnet-web-models`); usable from
 * the main thread and from workers (IndexedDB is shared by the origin).
 */
import { BitNetError } from '../errors.js';
import { DEFAULT_DB_NAME, hasIndexedDB, idbStore, type KeyValueStore, type StoreKey } from './kv-store.js';
import { chunkCount, chunkLength, isManifest, isPending, manifestKey, parseStoreKey, type ModelManifest, type PendingRecord } from './records.js';
import { isRepackHead } from './repack-hook.js';
import { storageReport, type StorageReport } from './storage.js';

export interface CachedModelInfo {
  /** Cache key (the model URL unless a custom key was used). */
  readonly key: string;
  readonly url: string;
  /** File size in bytes. */
  readonly size: number;
  /** False for an interrupted download (it resumes on the next load). */
  readonly complete: boolean;
  /** Bytes this entry occupies in the store (chunks present). */
  readonly storedBytes: number;
  /** Bytes of backend-repacked weight layouts cached for this model (repack-hook.ts); 0 if none. */
  readonly repackedBytes: number;
  readonly chunks: number;
  /** Content identity (sha256 over chunk digests); null while incomplete. */
  readonly fingerprint: string | null;
  /** When the download started (pending) or completed (manifest), ms since epoch. */
  readonly date: number;
}

export interface CacheUsage extends StorageReport {
  /** Bytes held by cached models (sum of `storedBytes` + `repackedBytes`). */
  readonly models: number;
  readonly entries: number;
}

export interface ModelCache {
  list(): Promise<CachedModelInfo[]>;
  /** True when a complete entry exists for the URL / key. */
  has(urlOrKey: string | URL): Promise<boolean>;
  /** Removes one entry (complete or partial); resolves to whether anything was removed. */
  delete(urlOrKey: string | URL): Promise<boolean>;
  /** Removes every entry of this cache's database. */
  clear(): Promise<void>;
  usage(): Promise<CacheUsage>;
}

/** Resolves a relative URL against the page (or worker) location, as the loader does. */
export function cacheKeyOf(urlOrKey: string | URL): string {
  const s = String(urlOrKey);
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return base ? new URL(s, base).href : new URL(s).href;
  } catch {
    return s;
  }
}

interface Scan {
  manifests: Map<string, ModelManifest>;
  pendings: Map<string, PendingRecord>;
  recordKeys: Map<string, StoreKey[]>;
  chunkBytes: Map<string, number>;
  repackBytes: Map<string, number>;
}

async function scan(store: KeyValueStore): Promise<Scan> {
  const s: Scan = { manifests: new Map(), pendings: new Map(), recordKeys: new Map(), chunkBytes: new Map(), repackBytes: new Map() };
  const chunkIdx = new Map<string, number[]>();
  for (const k of await store.keys()) {
    const p = parseStoreKey(k);
    if (!p) continue;
    const list = s.recordKeys.get(p.key) ?? [];
    list.push(k);
    s.recordKeys.set(p.key, list);
    if (p.kind === 'manifest') {
      const m = await store.get<ModelManifest>(k);
      if (isManifest(m)) s.manifests.set(p.key, m);
    } else if (p.kind === 'pending') {
      const v = await store.get<PendingRecord>(k);
      if (isPending(v)) s.pendings.set(p.key, v);
    } else if (p.kind === 'repack' && Array.isArray(k) && k.length === 4) {
      // The head record lists its parts' sizes; part records themselves are not read.
      const head = await store.get<unknown>(k);
      const bytes = isRepackHead(head) ? head.parts.reduce((n, q) => n + q.bytes, 0) : 0;
      s.repackBytes.set(p.key, (s.repackBytes.get(p.key) ?? 0) + bytes);
    } else if (p.kind === 'chunk' && Array.isArray(k) && typeof k[2] === 'number') {
      const arr = chunkIdx.get(p.key) ?? [];
      arr.push(k[2]);
      chunkIdx.set(p.key, arr);
    }
  }
  // Chunk sizes follow from the manifest / pending record without reading chunk data.
  for (const [key, idx] of chunkIdx) {
    const d = s.manifests.get(key) ?? s.pendings.get(key);
    if (!d) continue;
    let bytes = 0;
    for (const i of idx) bytes += chunkLength(d.size, d.chunkSize, i);
    s.chunkBytes.set(key, bytes);
  }
  return s;
}

/** The cache API over a store (default: IndexedDB database `bitnet-web-models`). */
export function modelCache(options: { dbName?: string; store?: KeyValueStore } = {}): ModelCache {
  let store: KeyValueStore | null = options.store ?? null;
  const get = (): KeyValueStore => {
    if (store) return store;
    if (!hasIndexedDB()) throw new BitNetError('STORAGE', 'the model cache needs IndexedDB, which this environment does not have');
    store = idbStore(options.dbName ?? DEFAULT_DB_NAME);
    return store;
  };
  const list = async (): Promise<CachedModelInfo[]> => {
    const s = await scan(get());
    const out: CachedModelInfo[] = [];
    for (const key of s.recordKeys.keys()) {
      const m = s.manifests.get(key);
      const p = s.pendings.get(key);
      const d = m ?? p;
      if (!d) continue;
      out.push({
        key,
        url: d.url,
        size: d.size,
        complete: m !== undefined,
        storedBytes: s.chunkBytes.get(key) ?? 0,
        repackedBytes: s.repackBytes.get(key) ?? 0,
        chunks: chunkCount(d.size, d.chunkSize),
        fingerprint: m?.fingerprint ?? null,
        date: m?.createdAt ?? p?.startedAt ?? 0,
      });
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  };
  return {
    list,
    async has(urlOrKey) {
      return isManifest(await get().get(manifestKey(cacheKeyOf(urlOrKey))));
    },
    async delete(urlOrKey) {
      const key = cacheKeyOf(urlOrKey);
      const ks = (await get().keys()).filter((k) => parseStoreKey(k)?.key === key);
      if (ks.length === 0) return false;
      // Manifest first: an entry without it is treated as incomplete, never as a valid model.
      const manifestFirst = ks.sort((a, b) => Number(parseStoreKey(b)?.kind === 'manifest') - Number(parseStoreKey(a)?.kind === 'manifest'));
      await get().delete(manifestFirst.slice(0, 1));
      if (manifestFirst.length > 1) await get().delete(manifestFirst.slice(1));
      return true;
    },
    async clear() {
      const ks = (await get().keys()).filter((k) => parseStoreKey(k) !== null);
      if (ks.length > 0) await get().delete(ks);
    },
    async usage() {
      const entries = await list();
      const report = await storageReport();
      return { ...report, models: entries.reduce((n, e) => n + e.storedBytes + e.repackedBytes, 0), entries: entries.length };
    },
  };
}
