/**
 * Public option types of `createEngine` and `engine.generate`, and their validation. Unknown keys and
 * wrong types are rejected with `BAD_OPTION` naming the option (details.option), before any work.
 */
import { BitNetError } from '../errors.js';
import type { BackendChoice } from '../backends/registry.js';
import type { CacheOptions, ModelInput } from '../cache/open-model.js';
import type { Embedder } from '../embed/embedder.js';
import { resolveSamplingOptions, type SamplingOptions } from '../runtime/sampler.js';
import type { EngineWarning, LoadProgress } from './events.js';

export interface EngineOptions {
  /** URL, Node path, File/Blob or bytes of a GGUF; default: the embedded default model. */
  readonly model?: ModelInput | 'default';
  /** 'auto' (default) picks WebGPU on a hardware adapter, else wasm, else the scalar reference. */
  readonly backend?: BackendChoice;
  /** IndexedDB model cache (default on where IndexedDB exists); false = download to memory only. */
  readonly cache?: boolean | CacheOptions;
  readonly onProgress?: (progress: LoadProgress) => void;
  /** Non-fatal problems (storage full, threads off, backend fallback, GPU loss). Default: console.warn. */
  readonly onWarning?: (warning: EngineWarning) => void;
  /** Run the engine in a Worker (default: true in browsers, false in Node). */
  readonly worker?: boolean;
  /** Worker script location (default: next to this module / the script tag). */
  readonly workerUrl?: string | URL;
  /** Positions per sequence (default and maximum: the model's context length). */
  readonly maxContext?: number;
  /** Most sequences per batched forward pass (default 8). */
  readonly maxBatch?: number;
  /** Prefer a software WebGPU adapter over wasm in 'auto' (default false). */
  readonly allowFallbackAdapter?: boolean;
  /** Longest an idle engine may hold a first request back so that concurrent ones share a batch (ms, >= 0). */
  readonly maxWaitMs?: number;
  /**
   * Result cache of earlier answers (default on: IndexedDB where it exists, else memory for the
   * engine's lifetime); false = off. See `ResultCacheOptions` and README "Result cache".
   */
  readonly resultCache?: boolean | ResultCacheOptions;
  /** Aborts loading. */
  readonly signal?: AbortSignal;
}

export interface ResultCacheOptions {
  /** IndexedDB database (default 'bitnet-results'; separate from the model cache). */
  readonly dbName?: string;
  /** Entry lifetime in ms from when it was stored (default 7 days; Infinity = no expiry). */
  readonly ttlMs?: number;
  /** Most entries kept for this model (default 1000); least recently used go first. */
  readonly maxEntries?: number;
  /** Most (estimated) bytes kept for this model (default 32 MiB); least recently used go first. */
  readonly maxBytes?: number;
  /** Cosine similarity a semantic hit needs, in (0, 1] (default `DEFAULT_SEMANTIC_THRESHOLD`). */
  readonly threshold?: number;
  /** Embedder for semantic lookups (default: the engine's own `embed`); false = exact lookups only. */
  readonly embedder?: Embedder | false;
  /** Also cache and serve sampled requests without a seed (default false: their answers vary by design). */
  readonly cacheSampled?: boolean;
  /** Clock in ms for TTL and LRU (default Date.now); for tests. */
  readonly now?: () => number;
}

/**
 * Per-request use of the result cache: 'off' (neither read nor write), 'exact' (default: serve an
 * identical earlier request's answer), 'semantic' (also serve a similar request's answer). Answers
 * of cacheable requests are stored unless 'off'.
 */
export type ResultCacheMode = 'off' | 'exact' | 'semantic';
export type RequestPriority = 'interactive' | 'background';

/** Sampling fields (temperature, topK, topP, minP, repetition penalty, seed) as the sampler defines them. */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (default 128). */
  readonly maxTokens?: number;
  /** Text that ends generation (not included in the output). */
  readonly stop?: string | readonly string[];
  /** Extra token ids that end generation (EOS / EOT always do). */
  readonly stopTokens?: readonly number[];
  /** Prepend BOS to a text prompt (default: the model's setting). */
  readonly addBos?: boolean;
  /** Result cache use (default 'exact'; no effect when the engine has no result cache). */
  readonly cache?: ResultCacheMode;
  /** Scheduling class (default 'interactive'): interactive requests are admitted first, background ones never starve. */
  readonly priority?: RequestPriority;
  readonly signal?: AbortSignal;
}

const ENGINE_KEYS = ['model', 'backend', 'cache', 'onProgress', 'onWarning', 'worker', 'workerUrl', 'maxContext', 'maxBatch', 'allowFallbackAdapter', 'maxWaitMs', 'resultCache', 'signal'] as const;
const RESULT_CACHE_KEYS = ['dbName', 'ttlMs', 'maxEntries', 'maxBytes', 'threshold', 'embedder', 'cacheSampled', 'now'] as const;
const CACHE_MODES: readonly string[] = ['off', 'exact', 'semantic'];
const PRIORITIES: readonly string[] = ['interactive', 'background'];
const CACHE_KEYS = ['enabled', 'chunkSize', 'dbName', 'verify', 'retries', 'key', 'headers'] as const;
const GENERATE_KEYS = ['maxTokens', 'temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'repetitionLastN', 'seed', 'stop', 'stopTokens', 'addBos', 'cache', 'priority', 'signal'] as const;
const BACKENDS = ['auto', 'webgpu', 'wasm', 'reference'];

export function badOption(option: string, message: string): BitNetError {
  return new BitNetError('BAD_OPTION', `${option}: ${message}`, { details: { option } });
}

function checkKeys(obj: object, allowed: readonly string[], prefix: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw badOption(prefix + k, `unknown option (known: ${allowed.join(', ')})`);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const positiveInt = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) > 0;

/** @throws BitNetError BAD_OPTION */
export function validateEngineOptions(o: unknown): EngineOptions {
  if (o === undefined) return {};
  if (!isPlainObject(o)) throw badOption('options', 'expected an object');
  checkKeys(o, ENGINE_KEYS, '');
  const m = o.model;
  const okModel =
    m === undefined || typeof m === 'string' || m instanceof URL || m instanceof ArrayBuffer || ArrayBuffer.isView(m) || (typeof Blob !== 'undefined' && m instanceof Blob);
  if (!okModel) throw badOption('model', 'expected a URL, path, File, Blob, ArrayBuffer or typed array');
  if (typeof m === 'string' && m.length === 0) throw badOption('model', 'empty string');
  if (o.backend !== undefined && !BACKENDS.includes(o.backend as string)) throw badOption('backend', `expected ${BACKENDS.join(' | ')}, got ${String(o.backend)}`);
  if (o.cache !== undefined && typeof o.cache !== 'boolean') {
    if (!isPlainObject(o.cache)) throw badOption('cache', 'expected a boolean or an object');
    checkKeys(o.cache, CACHE_KEYS, 'cache.');
    const c = o.cache;
    if (c.chunkSize !== undefined && (!positiveInt(c.chunkSize) || (c.chunkSize as number) < 65536)) throw badOption('cache.chunkSize', 'expected an integer >= 65536');
    if (c.retries !== undefined && !(Number.isSafeInteger(c.retries) && (c.retries as number) >= 0)) throw badOption('cache.retries', 'expected an integer >= 0');
    for (const k of ['enabled', 'verify'] as const) if (c[k] !== undefined && typeof c[k] !== 'boolean') throw badOption(`cache.${k}`, 'expected a boolean');
    for (const k of ['dbName', 'key'] as const) if (c[k] !== undefined && (typeof c[k] !== 'string' || c[k] === '')) throw badOption(`cache.${k}`, 'expected a non-empty string');
    if (c.headers !== undefined && !isPlainObject(c.headers)) throw badOption('cache.headers', 'expected an object of strings');
  }
  for (const k of ['onProgress', 'onWarning'] as const) if (o[k] !== undefined && typeof o[k] !== 'function') throw badOption(k, 'expected a function');
  for (const k of ['worker', 'allowFallbackAdapter'] as const) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw badOption(k, 'expected a boolean');
  for (const k of ['maxContext', 'maxBatch'] as const) if (o[k] !== undefined && !positiveInt(o[k])) throw badOption(k, `expected a positive integer, got ${String(o[k])}`);
  if (o.workerUrl !== undefined && typeof o.workerUrl !== 'string' && !(o.workerUrl instanceof URL)) throw badOption('workerUrl', 'expected a URL');
  if (o.maxWaitMs !== undefined && !(typeof o.maxWaitMs === 'number' && Number.isFinite(o.maxWaitMs) && o.maxWaitMs >= 0)) throw badOption('maxWaitMs', `expected a finite number >= 0, got ${String(o.maxWaitMs)}`);
  if (o.resultCache !== undefined && typeof o.resultCache !== 'boolean') validateResultCacheOptions(o.resultCache);
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal)) throw badOption('signal', 'expected an AbortSignal');
  return o as EngineOptions;
}

/** @throws BitNetError BAD_OPTION naming `resultCache.<key>` */
function validateResultCacheOptions(r: unknown): void {
  if (!isPlainObject(r)) throw badOption('resultCache', 'expected a boolean or an object');
  checkKeys(r, RESULT_CACHE_KEYS, 'resultCache.');
  if (r.dbName !== undefined && (typeof r.dbName !== 'string' || r.dbName === '')) throw badOption('resultCache.dbName', 'expected a non-empty string');
  if (r.ttlMs !== undefined && !(typeof r.ttlMs === 'number' && r.ttlMs > 0)) throw badOption('resultCache.ttlMs', `expected a number > 0 (Infinity = no expiry), got ${String(r.ttlMs)}`);
  for (const k of ['maxEntries', 'maxBytes'] as const) if (r[k] !== undefined && !positiveInt(r[k])) throw badOption(`resultCache.${k}`, `expected a positive integer, got ${String(r[k])}`);
  if (r.threshold !== undefined && !(typeof r.threshold === 'number' && r.threshold > 0 && r.threshold <= 1)) throw badOption('resultCache.threshold', `expected a number in (0, 1], got ${String(r.threshold)}`);
  const e = r.embedder as Record<string, unknown> | false | undefined;
  if (e !== undefined && e !== false) {
    const ok = typeof e === 'object' && e !== null && typeof e.id === 'string' && e.id !== '' && typeof e.embed === 'function' && typeof e.dimensions === 'number';
    if (!ok) throw badOption('resultCache.embedder', 'expected an Embedder ({ id, dimensions, embed(texts) }) or false');
  }
  if (r.cacheSampled !== undefined && typeof r.cacheSampled !== 'boolean') throw badOption('resultCache.cacheSampled', 'expected a boolean');
  if (r.now !== undefined && typeof r.now !== 'function') throw badOption('resultCache.now', 'expected a function returning ms');
}

/** @throws BitNetError BAD_OPTION for a `cache` / `priority` value outside its union. */
export function validateRequestRouting(cache: unknown, priority: unknown): void {
  if (cache !== undefined && !CACHE_MODES.includes(cache as string)) throw badOption('cache', `expected ${CACHE_MODES.join(' | ')}, got ${String(cache)}`);
  if (priority !== undefined && !PRIORITIES.includes(priority as string)) throw badOption('priority', `expected ${PRIORITIES.join(' | ')}, got ${String(priority)}`);
}

export interface ValidatedGenerate {
  readonly maxTokens: number;
  readonly stop: string[];
  readonly options: GenerateOptions;
}

/** @throws BitNetError BAD_OPTION */
export function validateGenerateOptions(o: unknown, defaultMaxTokens = 128): ValidatedGenerate {
  if (o === undefined) return { maxTokens: defaultMaxTokens, stop: [], options: {} };
  if (!isPlainObject(o)) throw badOption('options', 'expected an object');
  checkKeys(o, GENERATE_KEYS, '');
  const g = o as GenerateOptions;
  // Sampling values: the sampler's own validation (same messages in and out of the worker).
  resolveSamplingOptions({ ...g, seed: g.seed ?? 0 });
  const maxTokens = g.maxTokens ?? defaultMaxTokens;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw badOption('maxTokens', `expected an integer >= 0, got ${String(g.maxTokens)}`);
  const stop = g.stop === undefined ? [] : typeof g.stop === 'string' ? [g.stop] : Array.isArray(g.stop) ? [...g.stop] : null;
  if (!stop || stop.some((s) => typeof s !== 'string' || s.length === 0)) throw badOption('stop', 'expected a non-empty string or an array of them');
  if (g.stopTokens !== undefined && (!Array.isArray(g.stopTokens) || g.stopTokens.some((t) => !Number.isSafeInteger(t) || t < 0))) {
    throw badOption('stopTokens', 'expected an array of token ids');
  }
  if (g.addBos !== undefined && typeof g.addBos !== 'boolean') throw badOption('addBos', 'expected a boolean');
  validateRequestRouting(g.cache, g.priority);
  if (g.signal !== undefined && !(typeof g.signal === 'object' && g.signal !== null && 'aborted' in g.signal)) throw badOption('signal', 'expected an AbortSignal');
  return { maxTokens, stop, options: g };
}
