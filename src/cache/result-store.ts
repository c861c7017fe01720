/**
 * Where the result cache keeps its records: IndexedDB through idb-keyval, in its own database
 * (default `bitnet-results`, object store `results`, separate from the model cache), keyed
 * `[modelIdentity, exactKey]` so one model's records are read with a key range without touching
 * other models'. Where IndexedDB does not exist (plain Node) an in-memory store with the same
 * behaviour is used; it lives as long as the store object (one engine), so nothing persists there.
 *
 * Every failure is a `BitNetError`: `QUOTA_EXCEEDED` when storage is full, `STORAGE` otherwise (the
 * cache turns both into warnings and misses; they never reach a request). Values are structured
 * clones: what the caller keeps after `put` or gets from `get` is never shared with the store.
 */
import { promisifyRequest } from 'idb-keyval';
import { guardStorage, hasIndexedDB, idbUseStore, storageError } from './kv-store.js';

export const DEFAULT_RESULT_DB = 'bitnet-results';
const STORE_NAME = 'results';

export interface ResultStore {
  /** True when records outlive the page (IndexedDB). */
  readonly persistent: boolean;
  get(model: string, key: string): Promise<unknown>;
  put(model: string, key: string, value: unknown): Promise<void>;
  delete(model: string, keys: readonly string[]): Promise<void>;
  /** Every record of `model` as [key, value] (values unchecked: the caller validates them). */
  list(model: string): Promise<Array<[string, unknown]>>;
  /** Removes every record of every model. */
  clear(): Promise<void>;
}

/**
 * The IndexedDB store of database `dbName`.
 * @throws BitNetError STORAGE when this environment has no IndexedDB.
 */
export function idbResultStore(dbName: string = DEFAULT_RESULT_DB): ResultStore {
  if (!hasIndexedDB()) throw storageError(new Error('IndexedDB is not available in this environment'), 'opening the result cache');
  const u = idbUseStore(dbName, STORE_NAME);
  const wrap = guardStorage;
  // [model] sorts before [model, anything]; an array sorts after every string, so [model, []] bounds the range.
  const range = (model: string): IDBKeyRange => IDBKeyRange.bound([model], [model, []]);
  return {
    persistent: true,
    get: (model, key) => wrap('reading a cached result', () => u('readonly', (s) => promisifyRequest(s.get([model, key])))),
    put: (model, key, value) =>
      wrap('storing a result', () =>
        u('readwrite', (s) => {
          s.put(value, [model, key]);
          return promisifyRequest(s.transaction);
        }),
      ),
    delete: (model, keys) =>
      wrap('deleting cached results', () =>
        u('readwrite', (s) => {
          for (const k of keys) s.delete([model, k]);
          return promisifyRequest(s.transaction);
        }),
      ),
    list: (model) =>
      wrap('reading the result cache', () =>
        u('readonly', async (s) => {
          const [ks, vs] = await Promise.all([promisifyRequest(s.getAllKeys(range(model))), promisifyRequest(s.getAll(range(model)))]);
          return ks.map((k, i): [string, unknown] => [String((k as unknown[])[1]), vs[i]]);
        }),
      ),
    clear: () =>
      wrap('clearing the result cache', () =>
        u('readwrite', (s) => {
          s.clear();
          return promisifyRequest(s.transaction);
        }),
      ),
  };
}

/** An in-memory store (one per call) with the semantics of `idbResultStore`. */
export function memoryResultStore(): ResultStore {
  const m = new Map<string, Map<string, unknown>>();
  const clone = <T>(v: T): T => structuredClone(v);
  return {
    persistent: false,
    get: async (model, key) => clone(m.get(model)?.get(key)),
    put: async (model, key, value) => {
      let mm = m.get(model);
      if (!mm) m.set(model, (mm = new Map()));
      mm.set(key, clone(value));
    },
    delete: async (model, keys) => {
      for (const k of keys) m.get(model)?.delete(k);
    },
    list: async (model) => [...(m.get(model) ?? new Map<string, unknown>()).entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, clone(v)]),
    clear: async () => m.clear(),
  };
}

/** IndexedDB where it exists, else memory. */
export function defaultResultStore(dbName: string = DEFAULT_RESULT_DB): ResultStore {
  return hasIndexedDB() ? idbResultStore(dbName) : memoryResultStore();
}
