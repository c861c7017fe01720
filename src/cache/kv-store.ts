/**
 * The key-value storage the model cache writes to: IndexedDB through idb-keyval, in its own database
 * (default `bitnet-web-models`, object store `files`), so clearing it never touches the page's data.
 *
 * Every failure is mapped to a `BitNetError`: a full disk / exhausted origin quota
 * (`QuotaExceededError`, also when it arrives as the aborted transaction's error) → `QUOTA_EXCEEDED`,
 * anything else → `STORAGE`. The interface is small so tests (and Node without IndexedDB) can swap in
 * another implementation.
 */
import { createStore, del, delMany, get, keys, set, type UseStore } from 'idb-keyval';
import { BitNetError } from '../errors.js';

export type StoreKey = string | number | Array<string | number>;

export interface KeyValueStore {
  get<T>(key: StoreKey): Promise<T | undefined>;
  set(key: StoreKey, value: unknown): Promise<void>;
  delete(keys: StoreKey[]): Promise<void>;
  keys(): Promise<StoreKey[]>;
}

export const DEFAULT_DB_NAME = 'bitnet-web-models';
const STORE_NAME = 'files';

/** True when this environment has IndexedDB (browsers, workers, Node with fake-indexeddb). */
export function hasIndexedDB(): boolean {
  return typeof (globalThis as { indexedDB?: unknown }).indexedDB === 'object' && (globalThis as { indexedDB?: unknown }).indexedDB !== null;
}

/** True for the DOMException (or look-alike) a browser raises when storage is full. */
export function isQuotaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const name = (e as { name?: unknown }).name;
  const code = (e as { code?: unknown }).code;
  // 22 = legacy QUOTA_EXCEEDED_ERR; Firefox once used NS_ERROR_DOM_QUOTA_REACHED.
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22 || code === 'QUOTA_EXCEEDED';
}

/** Wraps a storage failure as `QUOTA_EXCEEDED` or `STORAGE`. */
export function storageError(e: unknown, what: string): BitNetError {
  if (e instanceof BitNetError) return e;
  const msg = (e as Error | undefined)?.message ?? String(e);
  if (isQuotaError(e)) {
    return new BitNetError('QUOTA_EXCEEDED', `${what}: browser storage is full (${msg}); free space or call cache.clear()`, { cause: e });
  }
  return new BitNetError('STORAGE', `${what}: ${msg}`, { cause: e });
}

const stores = new Map<string, UseStore>();

/** idb-keyval's handle on object store `storeName` of database `dbName`, opened once per pair. */
export function idbUseStore(dbName: string, storeName: string): UseStore {
  const id = `${dbName}\u0000${storeName}`;
  let use = stores.get(id);
  if (!use) {
    use = createStore(dbName, storeName);
    stores.set(id, use);
  }
  return use;
}

/** Runs a storage operation; a failure becomes `QUOTA_EXCEEDED` or `STORAGE` naming `what`. */
export async function guardStorage<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw storageError(e, what);
  }
}

/** The idb-keyval store of database `dbName` (opened once per name). */
export function idbStore(dbName: string = DEFAULT_DB_NAME): KeyValueStore {
  if (!hasIndexedDB()) throw new BitNetError('STORAGE', 'IndexedDB is not available in this environment');
  const u = idbUseStore(dbName, STORE_NAME);
  const wrap = guardStorage;
  return {
    get: <T>(key: StoreKey) => wrap(`reading ${describeKey(key)}`, () => get<T>(key, u)),
    set: (key, value) => wrap(`writing ${describeKey(key)}`, () => set(key, value, u)),
    delete: (ks) => wrap('deleting cache records', () => (ks.length === 1 ? del(ks[0]!, u) : delMany(ks, u))),
    keys: () => wrap('listing cache records', () => keys<StoreKey>(u)),
  };
}

/** An in-memory store with the same semantics (used where IndexedDB is absent, and by tests). */
export function memoryStore(): KeyValueStore {
  const m = new Map<string, { key: StoreKey; value: unknown }>();
  const id = (k: StoreKey): string => JSON.stringify(k);
  return {
    get: async <T>(key: StoreKey) => m.get(id(key))?.value as T | undefined,
    set: async (key, value) => {
      m.set(id(key), { key, value });
    },
    delete: async (ks) => {
      for (const k of ks) m.delete(id(k));
    },
    keys: async () => [...m.values()].map((e) => e.key),
  };
}

function describeKey(key: StoreKey): string {
  return Array.isArray(key) ? key.join(' ') : String(key);
}
