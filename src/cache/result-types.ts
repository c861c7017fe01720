/**
 * The result cache's public shapes and defaults: configuration, warnings, hits, entry descriptions,
 * invalidation filters and statistics (the behaviour is in result-cache.ts).
 */
import type { Embedder } from '../embed/embedder.js';
import type { ResultInput } from './result-key.js';
import type { ResultRecord } from './result-record.js';
import type { ResultStore } from './result-store.js';

/**
 * Default cosine threshold of a semantic hit: the lowest threshold with zero false hits on the labelled
 * paraphrase set (bench/paraphrases.json, measured by bench/semantic-threshold.ts) for the project's
 * ONNX sentence embedder. The embedded KJV model's own `engine.embed` has false hits on near-miss pairs
 * at every threshold below 1.0 on that set, which is why semantic hits are opt-in per request.
 */
export const DEFAULT_SEMANTIC_THRESHOLD = 0.93;
export const DEFAULT_RESULT_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_RESULT_MAX_ENTRIES = 1000;
export const DEFAULT_RESULT_MAX_BYTES = 32 * 1024 * 1024;

export type ResultCacheWarningCode = 'RESULT_CACHE_QUOTA' | 'RESULT_CACHE_STORAGE' | 'RESULT_CACHE_EMBEDDER';

export interface ResultCacheWarning {
  readonly code: ResultCacheWarningCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export interface ResultCacheConfig {
  /** Model identity (result-identity.ts). */
  readonly model: string;
  readonly store: ResultStore;
  /** null = exact hits only. */
  readonly embedder: Embedder | null;
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly maxBytes?: number;
  readonly threshold?: number;
  /** Clock in ms (default Date.now); injectable for tests. */
  readonly now?: () => number;
  readonly onWarning?: (w: ResultCacheWarning) => void;
}

/** An answer as the caller saw it. */
export interface ResultAnswer {
  readonly pieces: ReadonlyArray<{ readonly text: string; readonly tokenIds: readonly number[] }>;
  readonly promptTokens: number;
  readonly finishReason: 'stop' | 'length';
  readonly seed: number;
}

export interface ResultHit {
  readonly cached: 'exact' | 'semantic';
  /** 1 for exact hits; the cosine similarity for semantic ones. */
  readonly similarity: number;
  readonly record: ResultRecord;
}

export interface ResultEntryInfo {
  readonly key: string;
  /** The original prompt (a chat's last message); null for token-id prompts. */
  readonly prompt: string | null;
  readonly input: ResultInput;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly bytes: number;
  /** Whether semantic lookups can find it (it has an embedding). */
  readonly semantic: boolean;
}

/** Conditions are combined with AND; an empty filter matches every entry of the model. */
export interface ResultCacheFilter {
  /** Entries whose original prompt (a chat's last message) equals this one, both normalised (result-key.ts). */
  readonly prompt?: string;
  /** Entries created before this time (ms, the cache's clock). */
  readonly createdBefore?: number;
  readonly where?: (entry: ResultEntryInfo) => boolean;
}

export interface ResultCacheStats {
  readonly model: string;
  readonly persistent: boolean;
  readonly entries: number;
  readonly bytes: number;
  readonly lookups: number;
  readonly exactHits: number;
  readonly semanticHits: number;
  readonly misses: number;
  /** exactHits / lookups (0 before any lookup). */
  readonly exactHitRate: number;
  readonly semanticHitRate: number;
  readonly stores: number;
  readonly evictions: number;
  readonly expired: number;
  readonly corrupted: number;
}
