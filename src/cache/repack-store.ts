/**
 * The repacked-weights cache as backends see it (`BackendLoadOptions.repackStore`), for a model
 * that came through the IndexedDB model cache.
 *
 * - Only models with a cache key and a content identity get one (URL downloads into the cache);
 *   files, blobs, buffers, `cache: false`, or no IndexedDB (plain Node): no store, backends repack.
 * - It never throws: a failed read is a miss (backends repack), a failed write becomes a warning —
 *   `QUOTA_EXCEEDED` when storage is full, else `STORAGE` — and the model runs anyway.
 * - `stats` counts what happened (hits, misses by reason, saves), for tests and diagnostics.
 */
import type { EngineWarning, LoadProgress } from '../api/events.js';
import type { BackendName, RepackProgressInfo, RepackStore } from '../backends/backend.js';
import { isBitNetError } from '../errors.js';
import { DEFAULT_DB_NAME, hasIndexedDB, idbStore, type KeyValueStore } from './kv-store.js';
import type { CacheOptions } from './open-model.js';
import { repackCache, type RepackMiss } from './repack-hook.js';

export interface RepackStoreStats {
  hits: number;
  misses: Record<RepackMiss | 'error', number>;
  saved: number;
  saveFailures: number;
}

export interface EngineRepackStore extends RepackStore {
  readonly stats: RepackStoreStats;
}

export interface OpenRepackStoreOptions {
  /** Test hook: a store used instead of IndexedDB. */
  readonly store?: KeyValueStore;
  readonly onWarning?: (w: EngineWarning) => void;
}

/** The model as `openModel` returned it (only these fields matter). */
export interface RepackModelIdentity {
  readonly cacheKey: string | null;
  readonly fingerprint: string | null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A repack store for the model, or null when the model is not in the IndexedDB cache. */
export function openRepackStore(model: RepackModelIdentity, cache: boolean | CacheOptions | undefined, o: OpenRepackStoreOptions = {}): EngineRepackStore | null {
  const enabled = cache === undefined || cache === true || (typeof cache === 'object' && cache.enabled !== false);
  if (!enabled || model.cacheKey === null || model.fingerprint === null) return null;
  let kv: KeyValueStore;
  if (o.store) kv = o.store;
  else if (hasIndexedDB()) kv = idbStore((typeof cache === 'object' ? cache.dbName : undefined) ?? DEFAULT_DB_NAME);
  else return null;
  const records = repackCache(kv, model.cacheKey, model.fingerprint);
  const stats: RepackStoreStats = { hits: 0, misses: { absent: 0, stale: 0, corrupted: 0, error: 0 }, saved: 0, saveFailures: 0 };
  return {
    stats,
    async load(backend: BackendName, layout: string) {
      try {
        const r = await records.load(backend, layout);
        if ('parts' in r) {
          stats.hits++;
          return r.parts;
        }
        stats.misses[r.miss]++;
      } catch {
        stats.misses.error++;
      }
      return null;
    },
    async save(backend: BackendName, layout: string, parts: readonly Uint8Array[]) {
      try {
        await records.save(backend, layout, parts);
        stats.saved++;
      } catch (e) {
        stats.saveFailures++;
        await records.clear(backend).catch(() => undefined);
        const quota = isBitNetError(e, 'QUOTA_EXCEEDED');
        o.onWarning?.({
          code: quota ? 'QUOTA_EXCEEDED' : 'STORAGE',
          message: `the repacked ${backend} weights were not cached (${message(e)}); the next load repacks them again`,
          details: { backend },
        });
      }
    },
  };
}

/**
 * The engine's progress event for a backend's repack / upload step. A skipped repack (layout read
 * from the cache) is one `repack` event at fraction 1 with `skipped: true`.
 */
export function backendProgress(
  phase: 'repack' | 'upload', fraction: number, total: number, backend: BackendName | null, info?: RepackProgressInfo,
): LoadProgress {
  return { phase, loaded: Math.round(fraction * total), total, fraction, backend, ...(phase === 'repack' && info?.skipped ? { skipped: true } : {}) };
}

/** `{ repackStore }` for `BackendLoadOptions` when the model has one (see `openRepackStore`), else `{}`. */
export function repackLoadOptions(
  model: RepackModelIdentity, cache: boolean | CacheOptions | undefined, onWarning?: (w: EngineWarning) => void,
): { repackStore?: EngineRepackStore } {
  const s = openRepackStore(model, cache, onWarning ? { onWarning } : {});
  return s ? { repackStore: s } : {};
}
