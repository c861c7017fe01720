/**
 * Connects the result cache (src/cache/result-cache.ts) to the public API: builds an engine's cache
 * from its `resultCache` option, and gives each request its `StreamCache` hook.
 *
 * Which requests use the cache: every request whose `cache` option is not 'off' (default 'exact')
 * and whose output is reproducible (greedy, or sampled with a seed); sampled requests without a seed
 * only when the engine was created with `resultCache.cacheSampled: true`. A request that does not
 * use the cache neither reads nor writes it. Semantic hits are only served to `cache: 'semantic'`,
 * and only answers of 'semantic' requests are stored with an embedding (so only they can be found
 * semantically): 'exact' requests never pay for an embedding.
 *
 * The default embedder is the engine's own `embed` (mean-pooled final hidden state of the loaded
 * model), with id `engine:<model identity>`; `resultCache.embedder` replaces it, `false` removes it.
 */
import { isAbortError } from '../errors.js';
import { functionEmbedder, type Embedder } from '../embed/embedder.js';
import { ResultCache, type ResultCacheFilter, type ResultCacheStats, type ResultCacheWarning, type ResultEntryInfo, type ResultHit } from '../cache/result-cache.js';
import { displayPrompt, isDeterministic, prepareQuery, type ResultInput, type ResultParams, type ResultQuery } from '../cache/result-key.js';
import { defaultResultStore, type ResultStore } from '../cache/result-store.js';
import type { CoreGenerateRequest } from '../worker/protocol.js';
import type { CachedAnswer, StreamCache } from './generation.js';
import type { ResultCacheMode, ResultCacheOptions } from './options.js';

export interface ResultCacheSetup {
  readonly cache: ResultCache;
  readonly cacheSampled: boolean;
  /** Positions per sequence of the engine (part of every key). */
  readonly maxContext: number;
}

export interface ResultCacheSetupInput {
  readonly options: true | ResultCacheOptions;
  /** Model identity (result-identity.ts). */
  readonly model: string;
  readonly nEmbd: number;
  readonly maxContext: number;
  readonly embed: (text: string) => Promise<Float32Array>;
  readonly onWarning: (w: ResultCacheWarning) => void;
}

/**
 * Builds the cache: IndexedDB when the environment has it, memory otherwise (Node). Storage failures
 * later (open, quota) surface as RESULT_CACHE_STORAGE warnings from the cache, never as request errors.
 */
export function createResultCache(i: ResultCacheSetupInput): ResultCacheSetup {
  const o: ResultCacheOptions = i.options === true ? {} : i.options;
  const embedder: Embedder | null = o.embedder === false ? null : (o.embedder ?? functionEmbedder(`engine:${i.model}`, i.nEmbd, i.embed));
  const store: ResultStore = defaultResultStore(o.dbName);
  const cache = new ResultCache({
    model: i.model,
    store,
    embedder,
    ...(o.ttlMs !== undefined ? { ttlMs: o.ttlMs } : {}),
    ...(o.maxEntries !== undefined ? { maxEntries: o.maxEntries } : {}),
    ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    ...(o.now !== undefined ? { now: o.now } : {}),
    onWarning: i.onWarning,
  });
  return { cache, cacheSampled: o.cacheSampled === true, maxContext: i.maxContext };
}

/** `engine.resultCache`: management of the engine's result cache (this model's entries). */
export interface EngineResultCache {
  /** The model identity entries are scoped by (`sha256:…`, see result-identity.ts). */
  readonly model: string;
  /** Cosine similarity a semantic hit needs. */
  readonly threshold: number;
  /** Embedder id of semantic lookups; null = exact lookups only. */
  readonly embedderId: string | null;
  /** Removes this model's entries matching `filter` (all of them without one); resolves to how many. */
  invalidate(filter?: ResultCacheFilter): Promise<number>;
  /** Empties the whole result database (every model). @throws BitNetError STORAGE / QUOTA_EXCEEDED */
  clear(): Promise<void>;
  stats(): Promise<ResultCacheStats>;
  /** This model's entries, most recently used first. */
  list(): Promise<ResultEntryInfo[]>;
  delete(key: string): Promise<boolean>;
  /** Waits until answers being stored are written. */
  flush(): Promise<void>;
}

/** The public management object of a cache (`engine.resultCache`). */
export function managedResultCache(s: ResultCacheSetup): EngineResultCache {
  const c = s.cache;
  return {
    model: c.model,
    threshold: c.threshold,
    embedderId: c.embedderId,
    invalidate: (filter) => c.invalidate(filter),
    clear: () => c.clear(),
    stats: () => c.stats(),
    list: () => c.list(),
    delete: (key) => c.delete(key),
    flush: () => c.flush(),
  };
}

function inputOf(r: CoreGenerateRequest): ResultInput {
  if (r.messages) return { kind: 'messages', messages: r.messages.map((m) => ({ role: m.role, content: m.content })) };
  if (r.promptTokens) return { kind: 'tokens', tokens: [...r.promptTokens] };
  return { kind: 'prompt', prompt: r.prompt ?? '' };
}

function answerOf(hit: ResultHit): CachedAnswer {
  const r = hit.record;
  let at = 0;
  const pieces = r.pieces.map((text, i) => {
    const ids = r.tokenIds.slice(at, at + r.pieceTokens[i]!);
    at += r.pieceTokens[i]!;
    return { text, tokenIds: ids };
  });
  const input = r.input;
  const originalPrompt = input.kind === 'tokens' ? input.tokens : (displayPrompt(input) ?? '');
  return {
    pieces,
    promptTokens: r.promptTokens,
    finishReason: r.finishReason,
    seed: r.seed,
    cached: hit.cached,
    similarity: hit.similarity,
    originalPrompt,
    ...(input.kind === 'messages' ? { originalMessages: input.messages } : {}),
  };
}

/** The request's cache hook, or undefined when the request does not use the cache (see module comment). */
export function streamCacheFor(setup: ResultCacheSetup | null, request: CoreGenerateRequest, mode: ResultCacheMode | undefined): StreamCache | undefined {
  const m = mode ?? 'exact';
  if (!setup || m === 'off') return undefined;
  if (!setup.cacheSampled && !isDeterministic(request)) return undefined;
  const { cache } = setup;
  // The request carries every generation parameter; canonicalParams reads only those (not the input or priority).
  const params: ResultParams = { ...request, maxContext: setup.maxContext };
  let query: ResultQuery | null = null;
  // Only semantic lookups read the scope (exact-mode records are saved without a vector), so only they pay its hash.
  const prepared = prepareQuery(cache.model, inputOf(request), params, m === 'semantic' ? cache.embedderId : null).then((q) => (query = q));
  prepared.catch(() => undefined);
  return {
    async lookup(signal) {
      try {
        const hit = await cache.lookup(await prepared, m, signal);
        return hit ? answerOf(hit) : null;
      } catch (e) {
        if (isAbortError(e)) throw e;
        return null;
      }
    },
    save(answer) {
      if (query) void cache.save(query, answer);
    },
  };
}
