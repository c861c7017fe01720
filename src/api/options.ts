/**
 * Public option types of `createEngine` and `engine.generate`, and their validation. Unknown keys and
 * wrong types are rejected with `BAD_OPTION` naming the option (details.option), before any work.
 */
import { BitNetError } from '../errors.js';
import type { BackendChoice } from '../backends/registry.js';
import type { CacheOptions, ModelInput } from '../cache/open-model.js';
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
  /** Aborts loading. */
  readonly signal?: AbortSignal;
}

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
  readonly signal?: AbortSignal;
}

const ENGINE_KEYS = ['model', 'backend', 'cache', 'onProgress', 'onWarning', 'worker', 'workerUrl', 'maxContext', 'maxBatch', 'allowFallbackAdapter', 'signal'] as const;
const CACHE_KEYS = ['enabled', 'chunkSize', 'dbName', 'verify', 'retries', 'key', 'headers'] as const;
const GENERATE_KEYS = ['maxTokens', 'temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'repetitionLastN', 'seed', 'stop', 'stopTokens', 'addBos', 'signal'] as const;
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
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && 'aborted' in o.signal)) throw badOption('signal', 'expected an AbortSignal');
  return o as EngineOptions;
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
  if (g.signal !== undefined && !(typeof g.signal === 'object' && g.signal !== null && 'aborted' in g.signal)) throw badOption('signal', 'expected an AbortSignal');
  return { maxTokens, stop, options: g };
}
