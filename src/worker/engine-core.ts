/**
 * The engine proper: owns the model, the backend and the scheduler. It runs inside the engine worker
 * (behind rpc.ts) or in-process when `worker: false`; the main-thread API talks to it only through
 * `CoreApi`, pulling each request's output with `next(id)`.
 *
 * Load: probe → open the model (download/cache) → GGUF + tokenizer + weights → backend selection →
 * scheduler (`maxBatch`, `maxWaitMs`; each request's `priority` orders its admission). Weights are
 * not kept after the backend took its copy; after a GPU device loss they are read again from the
 * (cached) source for the replacement backend. `metrics()` reports the scheduler's queue lengths
 * (total and by priority), batch-size histogram and per-request TTFT / tokens/s (SchedulerStats).
 */
import type { Backend, BackendName } from '../backends/backend.js';
import { listBackendFactories } from '../backends/registry.js';
import { BitNetError, isAbortError } from '../errors.js';
import { openModel } from '../cache/open-model.js';
import { backendProgress, repackLoadOptions } from '../cache/repack-store.js';
import type { EngineWarning, LoadProgress } from '../api/events.js';
import { probeCapabilities, type CapabilityReport } from '../probe/index.js';
import { detectChatFormat, renderChat } from '../model/tokenizer/index.js';
import { Sampler } from '../runtime/sampler.js';
import { Scheduler } from '../runtime/scheduler.js';
import { validateMaxWaitMs } from '../runtime/batch-window.js';
import { loadGGUFModel, weightBytes, type OpenedGGUFModel } from './model-loader.js';
import { PullQueue, type PullResult } from './pull-queue.js';
import { selectBackend, type BackendSelection } from './select-backend.js';
import { setAssetBase } from './assets.js';
import type { CoreApi, CoreEvent, CoreGenerateRequest, CoreInitOptions, CoreInitResult, CoreMetrics, CoreStarted, ModelInfo } from './protocol.js';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class EngineCore implements CoreApi {
  private model: OpenedGGUFModel | null = null;
  private scheduler: Scheduler | null = null;
  private selection: BackendSelection | null = null;
  private probe: CapabilityReport | null = null;
  private options: CoreInitOptions | null = null;
  private readonly queues = new Map<number, PullQueue>();
  private readonly warnings: EngineWarning[] = [];
  private onEvent: (e: CoreEvent) => void = () => undefined;
  private readonly t0 = now();
  private embeddings = 0;
  private disposed = false;
  private initialising = false;
  private unwatch: (() => void) | null = null;

  async init(options: CoreInitOptions, onEvent?: (e: CoreEvent) => void): Promise<CoreInitResult> {
    if (this.initialising || this.model) throw new BitNetError('BAD_OPTION', 'the engine core is already initialised');
    validateMaxWaitMs(options.maxWaitMs); // before any work (the scheduler is built after the backend)
    this.initialising = true;
    this.options = options;
    if (onEvent) this.onEvent = (e) => void Promise.resolve(onEvent(e)).catch(() => undefined);
    if (options.assetBase) setAssetBase(options.assetBase);
    const warn = (w: EngineWarning): void => this.warn(w);
    const progress = (p: LoadProgress): void => this.onEvent({ type: 'progress', progress: p });

    // Asking for a GPU adapter is skipped when WebGPU cannot be chosen anyway (it loads Dawn in Node).
    const gpuPossible = (options.backend === 'auto' || options.backend === 'webgpu') && listBackendFactories().some((f) => f.name === 'webgpu');
    this.probe = await probeCapabilities({ webgpu: gpuPossible });
    const opened = await openModel(options.model, { cache: options.cache, onProgress: progress, onWarning: warn });
    const fileSize = opened.source.size;
    const { model, weights } = await loadGGUFModel(opened.source, {
      onWeightsProgress: (loaded, total) => progress({ phase: 'repack', loaded, total, fraction: total > 0 ? loaded / total : 1, backend: null }),
      onWarning: (m) => warn({ code: 'STORAGE', message: m }),
    });
    this.model = model;
    try {
      const maxContext = Math.min(options.maxContext ?? model.config.contextLength, model.config.contextLength);
      const total = weightBytes(model.file);
      const { backend, selection } = await selectBackend(weights, {
        choice: options.backend,
        factories: listBackendFactories(),
        probe: this.probe,
        allowFallbackAdapter: options.allowFallbackAdapter,
        load: { maxContext, ...repackLoadOptions(opened, options.cache, warn) },
        onProgress: (name, phase, fraction, info) => progress(backendProgress(phase, fraction, total, name, info)),
        onFailure: (name, e) => warn({ code: 'BACKEND_FAILED', message: `backend ${name} failed to initialise (${e instanceof Error ? e.message : String(e)}); trying the next one`, details: { backend: name } }),
      });
      this.selection = selection;
      this.maybeWarnThreads(backend.name);
      this.scheduler = new Scheduler(backend, {
        maxContext,
        ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
        ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
        replaceBackend: (lost, error) => this.replaceBackend(lost, error),
      });
      this.watchDeviceLoss(backend);
      const info: ModelInfo = {
        name: model.config.name,
        architecture: model.config.architecture,
        source: opened.kind,
        location: opened.name,
        sizeBytes: fileSize,
        vocabSize: model.config.vocabSize,
        contextLength: model.config.contextLength,
        maxContext,
        nLayer: model.config.nLayer,
        nEmbd: model.config.nEmbd,
        fingerprint: opened.fingerprint,
        cacheKey: opened.cacheKey,
        cached: opened.cached,
        storage: opened.storage,
        chatFormat: detectChatFormat(model.tokenizer),
      };
      if (this.disposed) {
        // dispose() arrived while loading (e.g. the caller aborted createEngine): release what was built.
        this.scheduler.close();
        await backend.dispose().catch(() => undefined);
        throw new BitNetError('DISPOSED', 'the engine was disposed while it was loading');
      }
      const ready: LoadProgress = { phase: 'ready', loaded: total, total, fraction: 1, backend: backend.name };
      progress(ready);
      return { backend: backend.name, selection, model: info, probe: this.probe, warnings: [...this.warnings], ready };
    } catch (e) {
      await model.close().catch(() => undefined);
      this.model = null;
      throw e;
    }
  }

  /** Records a warning and reports it; `index` lets the API deliver each exactly once. */
  private warn(w: EngineWarning): void {
    this.warnings.push(w);
    this.onEvent({ type: 'warning', warning: w, index: this.warnings.length - 1 });
  }

  /** Threads only matter for CPU backends the caller did not pin to the scalar reference. */
  private maybeWarnThreads(chosen: BackendName): void {
    const t = this.probe?.threads;
    const cpu = chosen === 'wasm' || (chosen === 'reference' && this.options?.backend === 'auto');
    if (!cpu || !t || t.usable || t.crossOriginIsolated !== false) return;
    this.warn({ code: 'THREADS_DISABLED', message: `bitnet-web: wasm runs single-threaded because ${t.reason ?? 'threads are unavailable'}` });
  }

  /** Subscribes to a backend's device-lost event, if it has one (WebGPU: `onDeviceLost(listener)`). */
  private watchDeviceLoss(backend: Backend): void {
    this.unwatch?.();
    this.unwatch = null;
    const hook = (backend as { onDeviceLost?: unknown }).onDeviceLost;
    if (typeof hook !== 'function') return;
    try {
      const off = (hook as (cb: (info?: unknown) => void) => unknown).call(backend, (info?: unknown) => {
        if (this.scheduler?.backend !== backend || this.disposed) return;
        if (info instanceof Error && (info as BitNetError).code === 'DEVICE_LOST') {
          this.scheduler.notifyDeviceLost(info);
          return;
        }
        const msg = typeof info === 'object' && info !== null && 'message' in info ? String((info as { message: unknown }).message) : 'device lost';
        this.scheduler.notifyDeviceLost(new BitNetError('DEVICE_LOST', `the GPU device was lost: ${msg}`, { details: { info: msg } }));
      });
      if (typeof off === 'function') this.unwatch = off as () => void;
    } catch {
      // a backend without a usable hook still reports loss by throwing DEVICE_LOST from forward
    }
  }

  private async replaceBackend(lost: Backend, error: unknown): Promise<Backend> {
    const model = this.need();
    const exclude = new Set<BackendName>([lost.name, ...(this.selection?.handoffs.map((h) => h.from) ?? [])]);
    const weights = await model.readWeights();
    const { backend, selection } = await selectBackend(weights, {
      choice: 'auto',
      factories: listBackendFactories(),
      probe: this.probe,
      allowFallbackAdapter: false,
      exclude,
      load: { maxContext: this.scheduler ? this.currentMaxContext() : model.config.contextLength },
    });
    const reason = error instanceof Error ? error.message : String(error);
    const handoffs = [...(this.selection?.handoffs ?? []), { from: lost.name, to: backend.name, reason, at: Date.now() }];
    this.selection = { ...selection, requested: this.selection?.requested ?? 'auto', handoffs };
    this.warn({ code: 'DEVICE_LOST', message: `${reason}; moved ${this.queues.size} in-flight request(s) from ${lost.name} to ${backend.name}`, details: { from: lost.name, to: backend.name } });
    this.onEvent({ type: 'backend', backend: backend.name, selection: this.selection });
    this.watchDeviceLoss(backend);
    return backend;
  }

  private currentMaxContext(): number {
    const m = this.need();
    return Math.min(this.options?.maxContext ?? m.config.contextLength, m.config.contextLength);
  }

  private need(): OpenedGGUFModel {
    if (this.disposed) throw new BitNetError('DISPOSED', 'the engine has been disposed');
    if (!this.model) throw new BitNetError('BAD_OPTION', 'the engine is not initialised');
    return this.model;
  }

  private sched(): Scheduler {
    this.need();
    return this.scheduler!;
  }

  async start(r: CoreGenerateRequest): Promise<CoreStarted> {
    const model = this.need();
    const scheduler = this.sched();
    const tk = model.tokenizer;
    let prompt: number[];
    const extraStops: string[] = [];
    if (r.messages) {
      prompt = renderChat(tk, r.messages);
      // Models without an end-of-turn token would go on to write the user's next line.
      if (detectChatFormat(tk) === 'plain') extraStops.push('\nUser:');
    } else if (r.promptTokens) prompt = [...r.promptTokens];
    else prompt = tk.encode(r.prompt ?? '', { addBos: r.addBos ?? tk.addBosDefault, parseSpecial: true });
    const sampler = new Sampler({
      temperature: r.temperature, topK: r.topK, topP: r.topP, minP: r.minP,
      repetitionPenalty: r.repetitionPenalty, repetitionLastN: r.repetitionLastN, seed: r.seed,
    });
    const queue = new PullQueue(() => scheduler.resume());
    const id = scheduler.submit({
      prompt,
      maxTokens: r.maxTokens,
      sampler,
      stopIds: new Set([...tk.stopIds, ...(r.stopTokens ?? [])]),
      stop: [...(r.stop ?? []), ...extraStops],
      decoder: tk.createDecoder({ skipSpecial: true }),
      sink: queue,
      ...(r.priority !== undefined ? { priority: r.priority } : {}),
    });
    this.queues.set(id, queue);
    return { id, promptTokens: prompt.length, seed: sampler.options.seed };
  }

  async next(id: number): Promise<PullResult> {
    const q = this.queues.get(id);
    if (!q) throw new BitNetError('BAD_INPUT', `no request with id ${id} (finished, cancelled or never started)`);
    try {
      const r = await q.pull();
      if (r.done) this.queues.delete(id);
      return r;
    } catch (e) {
      this.queues.delete(id);
      throw e;
    }
  }

  async cancel(id: number): Promise<void> {
    if (!this.queues.has(id)) return;
    this.scheduler?.cancel(id);
    this.queues.delete(id);
  }

  /** Mean of the final-norm hidden states of the text's tokens (BOS excluded), L2-normalised. */
  async embed(text: string): Promise<Float32Array> {
    const model = this.need();
    if (typeof text !== 'string') throw new BitNetError('BAD_INPUT', 'embed: text must be a string');
    const tk = model.tokenizer;
    const bos = tk.bosId !== undefined && tk.addBosDefault;
    let ids = tk.encode(text, { addBos: bos });
    const limit = this.currentMaxContext();
    if (ids.length > limit) ids = ids.slice(0, limit);
    if (ids.length === 0) throw new BitNetError('BAD_INPUT', 'embed: the text has no tokens');
    const n = model.config.nEmbd;
    const hidden = await this.sched().exclusive(async (backend) => {
      const seq = backend.createSequence();
      try {
        return (await backend.forward([{ seq, tokens: ids }], { output: 'hidden' }))[0]!;
      } finally {
        backend.freeSequence(seq);
      }
    });
    const skip = bos && ids.length > 1 ? 1 : 0;
    const out = new Float32Array(n);
    for (let t = skip; t < ids.length; t++) for (let i = 0; i < n; i++) out[i]! += hidden[t * n + i]!;
    let norm = 0;
    for (let i = 0; i < n; i++) norm += out[i]! * out[i]!;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < n; i++) out[i] = out[i]! / norm;
    this.embeddings++;
    return out;
  }

  async tokenize(text: string, addBos?: boolean): Promise<number[]> {
    const tk = this.need().tokenizer;
    return tk.encode(text, { addBos: addBos ?? tk.addBosDefault, parseSpecial: true });
  }

  async detokenize(ids: readonly number[]): Promise<string> {
    return this.need().tokenizer.decode(ids, { skipSpecial: true });
  }

  async metrics(): Promise<CoreMetrics> {
    const s = this.sched();
    return { backend: s.backend.name, scheduler: s.snapshot(), uptimeMs: now() - this.t0, embeddings: this.embeddings, handoffs: this.selection?.handoffs.length ?? 0 };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.unwatch?.();
    const s = this.scheduler;
    this.scheduler = null;
    s?.close();
    this.queues.clear();
    try {
      await s?.backend.dispose();
    } catch (e) {
      if (!isAbortError(e)) {
        // disposal errors are not actionable for the caller
      }
    }
    await this.model?.close().catch(() => undefined);
    this.model = null;
  }
}
