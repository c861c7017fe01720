/**
 * The public engine: `createEngine(options)` loads a model (in a worker by default in browsers) and
 * returns an `Engine` with `generate`, `chat.completions.create`, `embed`, `tokenize`, `metrics` and
 * `dispose`. The engine stays usable after a request fails; after `dispose()` every call throws
 * `DISPOSED`, after a worker crash `WORKER_CRASHED`.
 *
 * Result cache (default on, `resultCache: false` = off): requests are answered from earlier answers
 * of the same model before any model work (see result-hooks.ts for which requests); `engine.resultCache`
 * manages it. Its model identity is computed while the model loads (result-identity.ts).
 */
import type { BackendName } from '../backends/backend.js';
import { BitNetError, abortError, isBitNetError } from '../errors.js';
import { resolveModelSource } from '../model/load-model.js';
import type { CapabilityReport } from '../probe/index.js';
import type { CoreEvent, CoreInitOptions, CoreInitResult, CoreMetrics, ModelInfo } from '../worker/protocol.js';
import type { BackendSelection } from '../worker/select-backend.js';
import { assetBase } from '../worker/assets.js';
import { chatRequest, chunkStream, collectCompletion, type ChatCompletion, type ChatCompletionCreateParams, type ChatCompletionStream } from './chat.js';
import type { EngineWarning } from './events.js';
import { GenerationStream, type GenerationStats } from './generation.js';
import { badOption, validateEngineOptions, validateGenerateOptions, type EngineOptions, type GenerateOptions, type ResultCacheOptions } from './options.js';
import { createResultCache, managedResultCache, streamCacheFor, type EngineResultCache, type ResultCacheSetup } from './result-hooks.js';
import { RecentRequests, type RecentRequest } from './recent-requests.js';
import { contentIdentity, resultModelIdentity } from '../cache/result-identity.js';
import type { ResultCacheStats } from '../cache/result-cache.js';

export type { EngineResultCache } from './result-hooks.js';
import { localTransport, workerTransport, type CoreTransport } from './transport.js';

export interface EngineMetrics extends Omit<CoreMetrics, 'scheduler'> {
  readonly requests: { readonly active: number; readonly queued: number; readonly queuedByPriority: CoreMetrics['scheduler']['queuedByPriority']; readonly completed: number; readonly failed: number; readonly cancelled: number };
  /** Core-side scheduling: per-request TTFT / queue time / decode tok/s by priority, aging promotions, maxWaitMs holds. */
  readonly scheduling: { readonly byPriority: CoreMetrics['scheduler']['latency']; readonly promoted: number; readonly holds: number; readonly heldMs: number };
  readonly tokens: { readonly prompt: number; readonly generated: number };
  readonly batching: { readonly steps: number; readonly meanBatchSize: number; readonly batchSizeCounts: readonly number[] };
  /** Over requests the model computed that completed, as the caller saw them (result-cache hits excluded). */
  readonly latency: { readonly requests: number; readonly meanTtftMs: number; readonly meanDecodeTokensPerS: number; readonly last: GenerationStats | null };
  /** Result cache counters (hit rates over lookups, entries, bytes); null when the engine has no result cache. */
  readonly resultCache: ResultCacheStats | null;
  /** The most recent completed requests (at most 64, oldest first), cache hits included. */
  readonly recentRequests: readonly RecentRequest[];
}

/** @internal what createEngine hands the Engine besides the core's init result. */
export interface EngineExtras {
  readonly resultCache?: { readonly options: true | ResultCacheOptions; readonly model: string } | null;
  readonly onWarning?: (w: EngineWarning) => void;
}

let threadsWarned = false;

function isBrowserMainThread(): boolean {
  return typeof (globalThis as { window?: unknown }).window !== 'undefined' && typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

/** Makes the model input absolute (a worker resolves relative URLs against its own script). */
function resolveModel(model: EngineOptions['model']): CoreInitOptions['model'] {
  const m = model === undefined || model === 'default' ? resolveModelSource('default') : model;
  if (typeof m === 'string' || m instanceof URL) {
    const href = (globalThis as { location?: { href?: string } }).location?.href;
    const s = String(m);
    if (href && !/^[a-z][a-z0-9+.-]*:/i.test(s)) return new URL(s, href).href;
    return s;
  }
  return m as CoreInitOptions['model'];
}

export class Engine {
  /** Capability report taken in the engine's thread at load. */
  readonly probe: CapabilityReport;
  readonly model: ModelInfo;
  readonly chat: { readonly completions: { create(params: ChatCompletionCreateParams & { stream: true }): Promise<ChatCompletionStream>; create(params: ChatCompletionCreateParams & { stream?: false | null }): Promise<ChatCompletion>; create(params: ChatCompletionCreateParams): Promise<ChatCompletion | ChatCompletionStream> } };
  private backendName: BackendName;
  private selectionRef: BackendSelection;
  private readonly warningList: EngineWarning[];
  private readonly streams = new Set<GenerationStream>();
  private done = { requests: 0, ttft: 0, decode: 0, last: null as GenerationStats | null };
  private readonly recent = new RecentRequests(64);
  private disposedFlag = false;
  /** Warnings that came from the core (their indices), as opposed to the API's own. */
  private coreWarnings: number;
  private readonly results: ResultCacheSetup | null;
  /** The result cache; null when created with `resultCache: false`. */
  readonly resultCache: EngineResultCache | null;

  /** @internal use `createEngine` */
  constructor(private readonly transport: CoreTransport, init: CoreInitResult, extras: EngineExtras = {}) {
    this.probe = init.probe;
    this.model = init.model;
    this.backendName = init.backend;
    this.selectionRef = init.selection;
    this.warningList = [...init.warnings];
    this.coreWarnings = init.warnings.length;
    const create = (params: ChatCompletionCreateParams): Promise<ChatCompletion | ChatCompletionStream> => this.createChat(params);
    this.chat = { completions: { create: create as Engine['chat']['completions']['create'] } };
    const rc = extras.resultCache;
    this.results = rc
      ? createResultCache({
          options: rc.options,
          model: rc.model,
          nEmbd: init.model.nEmbd,
          maxContext: init.model.maxContext,
          // Not gated on `disposed`: answers finishing while dispose() flushes are still embedded.
          embed: (text) => this.run(() => this.transport.call('embed', text)),
          onWarning: (w) => {
            this.warningList.push(w);
            extras.onWarning?.(w);
          },
        })
      : null;
    this.resultCache = this.results ? managedResultCache(this.results) : null;
  }

  /** The backend running the model now (changes after a GPU device loss). */
  get backend(): BackendName {
    return this.backendName;
  }

  /** Why this backend: every candidate with its status and reason, plus later hand-offs. */
  get selection(): BackendSelection {
    return this.selectionRef;
  }

  get warnings(): readonly EngineWarning[] {
    return this.warningList;
  }

  get disposed(): boolean {
    return this.disposedFlag;
  }

  /** @internal */
  handleEvent(e: CoreEvent): void {
    if (e.type === 'backend') {
      // Hand-offs only accumulate: a stale event (fewer hand-offs) never overwrites a newer state.
      if (e.selection.handoffs.length >= this.selectionRef.handoffs.length) {
        this.backendName = e.backend;
        this.selectionRef = e.selection;
      }
    } else if (e.type === 'warning' && e.index >= this.coreWarnings) {
      this.coreWarnings = e.index + 1;
      this.warningList.push(e.warning);
    }
  }

  private alive(): void {
    if (this.disposedFlag) throw new BitNetError('DISPOSED', 'the engine has been disposed');
    if (this.transport.crashed) throw this.transport.crashed;
  }

  private mapError = (e: unknown): unknown => {
    if (this.disposedFlag && !isBitNetError(e, 'DISPOSED')) return new BitNetError('DISPOSED', 'the engine was disposed while the request ran', { cause: e });
    return e;
  };

  /**
   * Generates a continuation of `prompt` (text, or token ids). Returns at once; iterate the result.
   * @throws BitNetError BAD_OPTION for invalid options, DISPOSED / WORKER_CRASHED (synchronously).
   */
  generate(prompt: string | readonly number[], options?: GenerateOptions): GenerationStream {
    this.alive();
    const v = validateGenerateOptions(options);
    const o = v.options;
    const isTokens = Array.isArray(prompt);
    if (!isTokens && typeof prompt !== 'string') throw new BitNetError('BAD_INPUT', 'generate: prompt must be a string or an array of token ids');
    if (isTokens && !(prompt as readonly number[]).every((t) => Number.isSafeInteger(t) && t >= 0)) throw new BitNetError('BAD_INPUT', 'generate: token ids must be non-negative integers');
    const request = {
      ...(isTokens ? { promptTokens: [...(prompt as readonly number[])] } : { prompt: prompt as string }),
      maxTokens: v.maxTokens,
      stop: v.stop,
      ...(o.stopTokens ? { stopTokens: [...o.stopTokens] } : {}),
      ...pick(o, ['temperature', 'topK', 'topP', 'minP', 'repetitionPenalty', 'repetitionLastN', 'seed', 'addBos', 'priority']),
    };
    return this.track(new GenerationStream(this.streamContext(), request, o.signal, streamCacheFor(this.results, request, o.cache)));
  }

  private streamContext(): ConstructorParameters<typeof GenerationStream>[0] {
    return {
      transport: this.transport,
      backend: () => this.backendName,
      mapError: this.mapError,
      onEnd: (stats) => {
        if (!stats) return;
        this.recent.add(stats);
        if (stats.cached) return;
        this.done.requests++;
        this.done.ttft += stats.ttftMs;
        this.done.decode += stats.decodeTokensPerS;
        this.done.last = stats;
      },
    };
  }

  private track(s: GenerationStream): GenerationStream {
    this.streams.add(s);
    s.stats.then(() => this.streams.delete(s), () => this.streams.delete(s));
    return s;
  }

  private async createChat(params: ChatCompletionCreateParams): Promise<ChatCompletion | ChatCompletionStream> {
    this.alive();
    const { request, signal, stream, includeUsage, cache } = chatRequest(params);
    const gen = this.track(new GenerationStream(this.streamContext(), request, signal, streamCacheFor(this.results, request, cache)));
    const model = params.model ?? this.model.name;
    if (stream) return chunkStream(gen, model, () => this.backendName, includeUsage);
    return collectCompletion(gen, model);
  }

  /** Mean of the final hidden states of `text`'s tokens, L2-normalised (length = model width). */
  async embed(text: string): Promise<Float32Array> {
    this.alive();
    if (typeof text !== 'string') throw new BitNetError('BAD_INPUT', 'embed: text must be a string');
    return this.run(() => this.transport.call('embed', text));
  }

  async tokenize(text: string, options: { addBos?: boolean } = {}): Promise<number[]> {
    this.alive();
    if (typeof text !== 'string') throw new BitNetError('BAD_INPUT', 'tokenize: text must be a string');
    return this.run(() => this.transport.call('tokenize', text, options.addBos));
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    this.alive();
    return this.run(() => this.transport.call('detokenize', [...ids]));
  }

  async metrics(): Promise<EngineMetrics> {
    this.alive();
    const m = await this.run(() => this.transport.call('metrics'));
    const s = m.scheduler;
    const n = this.done.requests;
    return {
      backend: m.backend,
      uptimeMs: m.uptimeMs,
      embeddings: m.embeddings,
      handoffs: m.handoffs,
      requests: { active: s.active, queued: s.queued, queuedByPriority: s.queuedByPriority, completed: s.completed, failed: s.failed, cancelled: s.cancelled },
      scheduling: { byPriority: s.latency, promoted: s.promoted, holds: s.holds, heldMs: s.heldMs },
      tokens: { prompt: s.promptTokens, generated: s.generatedTokens },
      batching: { steps: s.steps, meanBatchSize: s.steps > 0 ? s.batchedSequences / s.steps : 0, batchSizeCounts: s.batchSizeCounts },
      latency: { requests: n, meanTtftMs: n > 0 ? this.done.ttft / n : 0, meanDecodeTokensPerS: n > 0 ? this.done.decode / n : 0, last: this.done.last },
      resultCache: this.results ? this.results.cache.statsNow() : null,
      recentRequests: this.recent.list(),
    };
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.mapError(e);
    }
  }

  /**
   * Stops every request (they reject with DISPOSED), writes the answers the result cache is still
   * storing, frees the model and ends the worker. Idempotent.
   */
  async dispose(): Promise<void> {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    if (!this.transport.crashed) await this.results?.cache.close().catch(() => undefined);
    if (!this.transport.crashed) await this.transport.call('dispose').catch(() => undefined);
    await this.transport.close();
  }
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * Loads a model and returns a ready engine.
 * @throws BitNetError BAD_OPTION (before any work), load errors (NETWORK, HTTP_STATUS, RANGE_UNSUPPORTED,
 *   BAD_MAGIC, ...), BACKEND_UNAVAILABLE / BACKEND_FAILED, WORKER_CRASHED; AbortError via `signal`.
 */
export async function createEngine(options?: EngineOptions): Promise<Engine> {
  const o = validateEngineOptions(options);
  if (o.signal?.aborted) throw abortError(o.signal.reason);
  const useWorker = o.worker ?? isBrowserMainThread();
  if (!useWorker && o.workerUrl !== undefined) throw badOption('workerUrl', 'only used with worker: true');
  const transport = useWorker ? await workerTransport(o.workerUrl) : await localTransport();
  let engine: Engine | null = null;
  const early: CoreEvent[] = [];
  // Events travel on their own port (a worker's callback proxy) and may arrive after init's result:
  // each warning is delivered once (by index) and progress ends with exactly one 'ready'.
  const delivered = new Set<number>();
  let readySent = false;
  /** Hands a warning to options.onWarning, or to console.warn when there is none. */
  const report = (w: EngineWarning): void => {
    if (!o.onWarning) console.warn(`bitnet-web: ${w.message}`);
    o.onWarning?.(w);
  };
  const deliverWarning = (w: EngineWarning, index: number): void => {
    if (delivered.has(index)) return;
    delivered.add(index);
    if (w.code === 'THREADS_DISABLED') {
      if (!threadsWarned) console.warn(w.message);
      threadsWarned = true;
      o.onWarning?.(w);
    } else report(w);
  };
  const onEvent = (e: CoreEvent): void => {
    if (e.type === 'progress') {
      if (readySent) return;
      if (e.progress.phase === 'ready') readySent = true;
      o.onProgress?.(e.progress);
      return;
    }
    if (e.type === 'warning') deliverWarning(e.warning, e.index);
    if (engine) engine.handleEvent(e);
    else early.push(e);
  };
  const init: CoreInitOptions = {
    model: resolveModel(o.model),
    backend: o.backend ?? 'auto',
    cache: o.cache ?? true,
    ...(o.maxContext !== undefined ? { maxContext: o.maxContext } : {}),
    ...(o.maxBatch !== undefined ? { maxBatch: o.maxBatch } : {}),
    ...(o.maxWaitMs !== undefined ? { maxWaitMs: o.maxWaitMs } : {}),
    ...(o.allowFallbackAdapter !== undefined ? { allowFallbackAdapter: o.allowFallbackAdapter } : {}),
    ...(useWorker && assetBase() ? { assetBase: assetBase()! } : {}),
  };
  // The result cache's model identity: hashed from the bytes while the model loads, unless the
  // download provides a fingerprint (result-identity.ts).
  const identity = o.resultCache === false ? null : contentIdentity(init.model);
  const aborted = new Promise<never>((_, reject) => o.signal?.addEventListener('abort', () => reject(abortError(o.signal!.reason)), { once: true }));
  aborted.catch(() => undefined);
  let result: CoreInitResult;
  try {
    result = await Promise.race([transport.call('init', init, transport.callback(onEvent)), aborted]);
  } catch (e) {
    await transport.call('dispose').catch(() => undefined);
    await transport.close().catch(() => undefined);
    throw e;
  }
  result.warnings.forEach((w, i) => deliverWarning(w, i));
  if (!readySent) {
    readySent = true;
    o.onProgress?.(result.ready);
  }
  const rc = o.resultCache;
  const resultCache = identity && rc !== false ? { options: rc === undefined || rc === true ? (true as const) : rc, model: await resultModelIdentity(result.model, identity) } : null;
  engine = new Engine(transport, result, { resultCache, onWarning: report });
  for (const e of early) engine.handleEvent(e);
  return engine;
}
