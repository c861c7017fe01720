/** Model loading and caching: inputs → ByteSource, chunked resumable downloads, cache management. */
export { openModel, isNodeRuntime, type ModelInput, type CacheOptions, type OpenModelOptions, type OpenedModel } from './open-model.js';
export { downloadModel, DEFAULT_CHUNK_SIZE, type DownloadOptions, type DownloadedModel } from './download.js';
export { modelCache, cacheKeyOf, type ModelCache, type CachedModelInfo, type CacheUsage } from './manage.js';
export { idbStore, memoryStore, hasIndexedDB, DEFAULT_DB_NAME, type KeyValueStore, type StoreKey } from './kv-store.js';
export { requestPersistence, storageReport, type StorageReport } from './storage.js';
export { repackCache, type RepackCache } from './repack-hook.js';
export { sha256Hex } from './sha256.js';
