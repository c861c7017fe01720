/**
 * The WebGPU backend: BitNet b1.58 forward passes as WGSL kernels (W1.58A8, integer accumulation),
 * one command buffer per submitted chunk of tokens (a decode step is one chunk), KV cache on the GPU,
 * optional GPU-side sampling (`sampleNext`) that reads back only token ids.
 *
 * Sequences map to KV-cache slots (`maxSequences`, fixed at load). Calls are serialized. A device
 * loss (anything but our own dispose) is reported once to `onDeviceLost` listeners as a
 * BitNetError DEVICE_LOST; afterwards every call throws DEVICE_LOST.
 */
import type { Backend, BackendLoadOptions, ForwardItem, ForwardOptions } from '../backend.js';
import type { ModelConfig, ModelWeights } from '../../model/tensor.js';
import { BitNetError, abortError, throwIfAborted } from '../../errors.js';
import { validateWeights } from '../reference/transformer.js';
import { createRng, type Rng } from '../../runtime/rng.js';
import { resolveSamplingOptions, type SamplingOptions } from '../../runtime/sampler.js';
import { chunkTokens, layoutTokens, type Mode, type Tok } from './batch.js';
import { adapterVariant, chooseAdapter, requestDevice, type DeviceVariant } from './device.js';
import { BufferUsage, MapMode } from './gpu-constants.js';
import { GpuModel, type Dispatch } from './gpu-model.js';
import { GpuSampler, type SampleRequest } from './gpu-sampler.js';
import { arenaLayoutId, planModel, type ModelPlan } from './layout.js';
import { stepParams } from './params.js';
import { createKernelSet, type KernelSet } from './pipelines.js';
import { profileDispatches, type StepProfile } from './profiler.js';
import { defaultShaderSources, type ShaderSources } from './shader-source.js';

export interface WebGPULoadOptions extends BackendLoadOptions {
  /** GPU object to use (default navigator.gpu, or Dawn in Node). */
  readonly gpu?: GPU | null;
  /** Accept a software adapter (SwiftShader, WARP). Default false. */
  readonly allowFallbackAdapter?: boolean;
  /** KV-cache slots, i.e. sequences that can exist at once. Default: as many as fit 256 MiB (1..8). */
  readonly maxSequences?: number;
  /** Tokens per submitted chunk (prefill batch). Default 64. */
  readonly maxBatch?: number;
  /** 'auto' (default) uses dot4I8Packed when WGSL has it. */
  readonly dotProduct?: 'auto' | 'dp4a' | 'plain';
  /** 'auto' (default) stores the KV cache as f16 when the device has 'shader-f16'. */
  readonly kvCache?: 'auto' | 'f16' | 'f32';
  /**
   * Lanes per matrix row in GEMV / logits: 32 (default on GPUs) or 1 (default on fallback / CPU
   * adapters, where reduction barriers are expensive; the prep kernel then also runs one thread per
   * token). Any power of two ≤ 256.
   */
  readonly lanes?: number;
  /** Token counts per chunk up to this use GEMV, larger ones the tiled GEMM (default GEMV_MAX_TOKENS = 3). */
  readonly gemvMaxTokens?: number;
  /** Caps the bytes of any one binding (tests force sharding with it). */
  readonly bindingLimit?: number;
  /** Shader sources (default: shaders/ on disk in Node, else the generated copy). */
  readonly shaderSources?: ShaderSources;
}

export type DeviceLostListener = (error: BitNetError) => void;

interface SeqState { readonly slot: number; length: number; history: number[]; rng: Rng | null; seed: number | null }


export class WebGPUBackend implements Backend {
  readonly name = 'webgpu' as const;
  readonly description: string;
  readonly config: ModelConfig;
  readonly maxContext: number;
  readonly maxSequences: number;
  readonly variant: DeviceVariant;
  private readonly seqs = new Map<number, SeqState>();
  private readonly freeSlots: number[];
  private nextSeq = 1;
  private disposed = false;
  private disposing = false;
  private lostError: BitNetError | null = null;
  private readonly lostListeners = new Set<DeviceLostListener>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly readback: GPUBuffer;
  private sampler: Promise<GpuSampler> | null = null;

  private constructor(
    readonly device: GPUDevice,
    private readonly ks: KernelSet,
    private readonly model: GpuModel,
    readonly plan: ModelPlan,
    private readonly sources: ShaderSources,
    label: string,
    variant: DeviceVariant,
  ) {
    this.config = plan.config;
    this.maxContext = plan.maxContext;
    this.maxSequences = plan.maxSequences;
    this.variant = variant;
    this.freeSlots = Array.from({ length: plan.maxSequences }, (_, i) => plan.maxSequences - 1 - i);
    this.description = `WebGPU on ${label}; ${variant.dp4a ? 'dot4I8Packed' : 'plain int8'} matmuls (${ks.lanes} lane${ks.lanes > 1 ? 's' : ''}/row), ${variant.kvF16 ? 'f16' : 'f32'} KV cache, ${plan.maxSequences} sequence slot(s)`;
    const c = plan.config;
    this.readback = device.createBuffer({ label: 'bitnet.readback', size: Math.max(plan.maxOut * plan.vocabOut * 4, plan.maxBatch * c.nEmbd * 4), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    device.lost.then((info) => {
      this.lostError ??= new BitNetError('DEVICE_LOST', `WebGPU device lost (${info.reason}): ${info.message || 'no message'}`, { details: { reason: info.reason } });
      if (this.disposing) return;
      for (const l of this.lostListeners) {
        try {
          l(this.lostError);
        } catch {
          /* a listener's failure must not hide the loss from the others */
        }
      }
    });
  }

  /**
   * Plans buffers, checks limits, requests the device, compiles the kernels and uploads the weights.
   * @throws BitNetError BACKEND_UNAVAILABLE (no WebGPU / adapter / only a fallback adapter),
   *   TOO_LARGE (the model cannot fit this GPU's limits; thrown before any upload), OUT_OF_MEMORY,
   *   BACKEND_FAILED (shader compilation), BAD_OPTION, BAD_TENSOR_SHAPE, AbortError.
   */
  static async create(weights: ModelWeights, o: WebGPULoadOptions = {}): Promise<WebGPUBackend> {
    throwIfAborted(o.signal);
    validateWeights(weights);
    const c = weights.config;
    const maxContext = o.maxContext ?? c.contextLength;
    const posInt = (v: number, name: string): number => {
      if (!Number.isSafeInteger(v) || v <= 0) throw new BitNetError('BAD_OPTION', `${name}: expected a positive integer, got ${String(v)}`, { details: { option: name } });
      return v;
    };
    posInt(maxContext, 'maxContext');
    const maxBatch = posInt(o.maxBatch ?? 64, 'maxBatch');
    if (c.headDim > 256) throw new BitNetError('BAD_CONFIG', `webgpu backend supports headDim ≤ 256, got ${c.headDim}`);
    const choice = await chooseAdapter({ ...(o.gpu !== undefined ? { gpu: o.gpu } : {}), ...(o.allowFallbackAdapter !== undefined ? { allowFallbackAdapter: o.allowFallbackAdapter } : {}) });
    const variant = adapterVariant(choice, { ...(o.dotProduct ? { dotProduct: o.dotProduct } : {}), ...(o.kvCache ? { kvCache: o.kvCache } : {}) });
    const kvElemBytes = variant.kvF16 ? 2 : 4;
    const perSlot = 2 * c.nLayer * maxContext * c.nHeadKv * c.headDim * kvElemBytes;
    const maxSequences = posInt(o.maxSequences ?? Math.max(1, Math.min(8, Math.floor((256 * 1024 * 1024) / perSlot))), 'maxSequences');
    const bindingLimit = Math.min(choice.bindingLimit, o.bindingLimit ?? Infinity);
    const plan = planModel(weights, { bindingLimit, maxContext, maxSequences, maxBatch, kvElemBytes });
    // A cached repack of exactly this arena layout is read while the device and kernels are set up.
    const layout = arenaLayoutId(plan);
    const prepackedP = o.repackStore ? o.repackStore.load('webgpu', layout).catch(() => null) : Promise.resolve(null);
    const device = await requestDevice(choice, variant, plan.maxBinding);
    try {
      const sources = o.shaderSources ?? (await defaultShaderSources());
      const lanes = o.lanes ?? (choice.fallback ? 1 : 32);
      const ks = await createKernelSet(device, { dp4a: variant.dp4a, kvF16: variant.kvF16 }, sources, ['prep', 'gemv', 'gemm', 'rope_kv', 'attention', 'embed', 'logits'], false, lanes, lanes === 1 ? 1 : 256);
      throwIfAborted(o.signal);
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      const prepacked = await prepackedP;
      const model = GpuModel.create(ks, plan, weights, {
        ...(o.gemvMaxTokens !== undefined ? { gemvMaxTokens: o.gemvMaxTokens } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(prepacked ? { prepacked } : {}), keepRepacked: o.repackStore !== undefined,
      });
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      if (oom) throw new BitNetError('OUT_OF_MEMORY', `GPU out of memory while uploading ${plan.totalBytes} bytes: ${oom.message}`);
      if (validation) throw new BitNetError('BACKEND_FAILED', `WebGPU validation error during upload: ${validation.message}`);
      if (model.repacked && o.repackStore) {
        const parts = model.repacked;
        model.repacked = null;
        await o.repackStore.save('webgpu', layout, parts).catch(() => undefined);
      }
      return new WebGPUBackend(device, ks, model, plan, sources, choice.label, variant);
    } catch (e) {
      device.destroy();
      throw e;
    }
  }

  /** Subscribes to device loss (not fired for dispose); returns an unsubscribe function. */
  onDeviceLost(listener: DeviceLostListener): () => void {
    this.lostListeners.add(listener);
    if (this.lostError && !this.disposing) queueMicrotask(() => listener(this.lostError!));
    return () => this.lostListeners.delete(listener);
  }

  private alive(): void {
    if (this.disposed) throw new BitNetError('DISPOSED', 'webgpu backend has been disposed');
    if (this.lostError) throw this.lostError;
  }

  private state(seq: number): SeqState {
    const s = this.seqs.get(seq);
    if (!s) throw new BitNetError('BAD_INPUT', `unknown sequence ${seq}`, { details: { seq } });
    return s;
  }

  /** @throws BitNetError OUT_OF_MEMORY when all `maxSequences` KV slots are in use. */
  createSequence(): number {
    this.alive();
    const slot = this.freeSlots.pop();
    if (slot === undefined) throw new BitNetError('OUT_OF_MEMORY', `all ${this.maxSequences} KV-cache slots are in use (maxSequences); free a sequence first`, { details: { maxSequences: this.maxSequences } });
    const id = this.nextSeq++;
    this.seqs.set(id, { slot, length: 0, history: [], rng: null, seed: null });
    return id;
  }

  sequenceLength(seq: number): number {
    this.alive();
    return this.state(seq).length;
  }

  truncateSequence(seq: number, length: number): void {
    this.alive();
    const s = this.state(seq);
    if (!Number.isSafeInteger(length) || length < 0) throw new BitNetError('BAD_INPUT', `truncateSequence: bad length ${length}`);
    if (length < s.length) {
      s.length = length;
      s.history.length = length;
    }
  }

  freeSequence(seq: number): void {
    const s = this.seqs.get(seq);
    if (!s) return;
    this.seqs.delete(seq);
    this.freeSlots.push(s.slot);
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async forward(items: readonly ForwardItem[], options: ForwardOptions = {}): Promise<Float32Array[]> {
    this.alive();
    const mode = options.output ?? 'last';
    if (mode !== 'last' && mode !== 'all' && mode !== 'hidden') {
      throw new BitNetError('BAD_OPTION', `output: expected 'last' | 'all' | 'hidden', got ${String(mode)}`, { details: { option: 'output' } });
    }
    throwIfAborted(options.signal);
    const toks = this.flatten(items, mode);
    return this.serial(async () => (await this.run(items, toks, mode, options.signal, null)) as Float32Array[]);
  }

  /**
   * Runs the items like forward(…, 'last') and samples the next token of each item on the GPU;
   * returns the token ids (only those are read back). `options` is one SamplingOptions for all
   * items or one per item. Each sequence keeps its seeded RNG across calls (re-seeded when a
   * different `seed` is given), so a seed reproduces the CPU Sampler's draws.
   */
  async sampleNext(items: readonly ForwardItem[], options: SamplingOptions | readonly SamplingOptions[] = {}, signal?: AbortSignal): Promise<number[]> {
    this.alive();
    throwIfAborted(signal);
    const per = Array.isArray(options) ? (options as readonly SamplingOptions[]) : items.map(() => options as SamplingOptions);
    if (per.length !== items.length) throw new BitNetError('BAD_OPTION', `sampleNext: ${per.length} option sets for ${items.length} items`);
    const resolved = per.map((p) => resolveSamplingOptions(p));
    const toks = this.flatten(items, 'last');
    return this.serial(async () => (await this.run(items, toks, 'sample', signal, { per, resolved })) as number[]);
  }

  /** Validates and lays out the tokens of a call (nothing is modified). */
  private flatten(items: readonly ForwardItem[], mode: 'last' | 'all' | 'hidden'): Tok[] {
    return layoutTokens(items, (seq) => this.state(seq), this.config.vocabSize, this.maxContext, mode);
  }

  private async run(items: readonly ForwardItem[], toks: Tok[], mode: Mode, signal: AbortSignal | undefined, sampling: { per: readonly SamplingOptions[]; resolved: ReturnType<typeof resolveSamplingOptions>[] } | null): Promise<Float32Array[] | number[]> {
    this.alive();
    const c = this.config;
    const p = this.plan;
    const width = mode === 'hidden' ? c.nEmbd : p.vocabOut;
    const results: Float32Array[] = items.map((it) => new Float32Array(mode === 'last' ? width : mode === 'sample' ? 0 : it.tokens.length * width));
    const ids: number[] = new Array<number>(items.length).fill(-1);
    const itemTok = new Map<number, number>(); // item → tokens written so far (all / hidden)
    const starts = new Map<number, number>();
    for (const t of toks) if (!starts.has(t.seq)) starts.set(t.seq, t.pos);
    const sampler = mode === 'sample' ? await this.getSampler() : null;
    try {
      for (const { chunk, outIdx } of chunkTokens(toks, mode, p.maxBatch, p.maxOut)) {
        if (signal?.aborted) throw abortError(signal.reason);
        await this.submitChunk(chunk, outIdx, mode, sampler, sampling, results, ids, itemTok);
        for (const t of chunk) {
          const s = this.state(t.seq);
          s.length = t.pos + 1;
          s.history[t.pos] = t.token;
        }
      }
    } catch (e) {
      for (const [seq, len] of starts) {
        const s = this.seqs.get(seq);
        if (s && s.length > len) {
          s.length = len;
          s.history.length = len;
        }
      }
      throw await this.explainFailure(e);
    }
    return mode === 'sample' ? ids : results;
  }

  /** A failure caused by device loss becomes the DEVICE_LOST error (the loss may settle just after). */
  private async explainFailure(e: unknown): Promise<unknown> {
    if (this.lostError) return this.lostError;
    if (e instanceof BitNetError) return e;
    const lost = await Promise.race([this.device.lost.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 100))]);
    return lost && this.lostError ? this.lostError : e;
  }

  private async submitChunk(
    chunk: Tok[],
    outIdx: number[],
    mode: Mode,
    sampler: GpuSampler | null,
    sampling: { per: readonly SamplingOptions[]; resolved: ReturnType<typeof resolveSamplingOptions>[] } | null,
    results: Float32Array[],
    ids: number[],
    itemTok: Map<number, number>,
  ): Promise<void> {
    const d = this.device;
    const m = this.model;
    const n = chunk.length;
    const nOut = mode === 'hidden' ? 0 : outIdx.length;
    d.queue.writeBuffer(m.tokens, 0, Uint32Array.from(chunk, (t) => t.token));
    const info = new Uint32Array(n * 2);
    chunk.forEach((t, j) => {
      info[2 * j] = t.slot;
      info[2 * j + 1] = t.pos;
    });
    d.queue.writeBuffer(m.tokInfo, 0, info);
    if (nOut > 0) d.queue.writeBuffer(m.outRows, 0, Uint32Array.from(outIdx));
    d.queue.writeBuffer(m.step, 0, stepParams(n, nOut));
    if (sampler && sampling) {
      const reqs: SampleRequest[] = outIdx.map((j, row) => {
        const t = chunk[j]!;
        const o = sampling.resolved[t.item]!;
        const s = this.state(t.seq);
        const history = s.history.slice(0, s.length);
        for (const x of chunk) if (x.seq === t.seq && x.pos <= t.pos) history.push(x.token);
        let u = 0;
        if (o.temperature > 0) {
          const explicit = sampling.per[t.item]!.seed;
          if (!s.rng || (explicit !== undefined && explicit !== s.seed)) {
            s.rng = createRng(o.seed);
            s.seed = o.seed;
          }
          u = s.rng.nextFloat();
        }
        return { options: o, history, u, row };
      });
      sampler.write(reqs);
    }
    const enc = d.createCommandEncoder({ label: 'bitnet.step' });
    const pass = enc.beginComputePass({ label: 'bitnet.step' });
    this.encodeDispatches(pass, m.encodeStep(n, nOut));
    if (sampler && nOut > 0) sampler.encode(pass, nOut);
    pass.end();
    let bytes = 0;
    if (mode === 'hidden') {
      bytes = n * this.config.nEmbd * 4;
      enc.copyBufferToBuffer(m.h, 0, this.readback, 0, bytes);
    } else if (mode === 'sample') {
      bytes = nOut * 4;
      if (bytes > 0) enc.copyBufferToBuffer(sampler!.outIds, 0, this.readback, 0, Math.ceil(bytes / 4) * 4);
    } else if (nOut > 0) {
      bytes = nOut * this.plan.vocabOut * 4;
      enc.copyBufferToBuffer(m.logits, 0, this.readback, 0, bytes);
    }
    d.queue.submit([enc.finish()]);
    if (bytes === 0) {
      await d.queue.onSubmittedWorkDone();
      return;
    }
    await this.readback.mapAsync(MapMode.READ, 0, bytes);
    try {
      const data = this.readback.getMappedRange(0, bytes);
      if (mode === 'sample') {
        const got = new Uint32Array(data);
        outIdx.forEach((j, r) => (ids[chunk[j]!.item] = got[r]!));
      } else {
        const f = new Float32Array(data);
        const width = mode === 'hidden' ? this.config.nEmbd : this.plan.vocabOut;
        outIdx.forEach((j, r) => {
          const t = chunk[j]!;
          const row = f.subarray(r * width, (r + 1) * width);
          if (mode === 'last') results[t.item]!.set(row);
          else {
            const k = itemTok.get(t.item) ?? 0;
            results[t.item]!.set(row, k * width);
            itemTok.set(t.item, k + 1);
          }
        });
      }
    } finally {
      this.readback.unmap();
    }
  }

  private encodeDispatches(pass: GPUComputePassEncoder, list: readonly Dispatch[]): void {
    for (const x of list) {
      pass.setPipeline(this.ks.pipelines[x.pipeline]);
      pass.setBindGroup(0, x.group);
      pass.dispatchWorkgroups(x.grid[0], x.grid[1] ?? 1, x.grid[2] ?? 1);
    }
  }

  private getSampler(): Promise<GpuSampler> {
    this.sampler ??= GpuSampler.create(this.device, this.ks.variant, this.sources, this.model.logits, this.plan.maxOut, this.plan.vocabOut);
    return this.sampler;
  }

  /**
   * Times one decode step kernel by kernel: appends `token` (default 0) to `seq` (default: a
   * temporary sequence, freed afterwards). With 'timestamp-query' the times are GPU timestamps,
   * otherwise (or with `timestamps: false`) wall-clock per separately submitted dispatch. Weight
   * matmuls and logits report GB/s of the weights they stream.
   */
  async profileStep(o: { seq?: number; token?: number; timestamps?: boolean } = {}): Promise<StepProfile> {
    this.alive();
    const temp = o.seq === undefined;
    const seq = o.seq ?? this.createSequence();
    try {
      const toks = this.flatten([{ seq, tokens: [o.token ?? 0] }], 'last');
      return await this.serial(async () => {
        const t = toks[0]!;
        const m = this.model;
        this.device.queue.writeBuffer(m.tokens, 0, Uint32Array.of(t.token));
        this.device.queue.writeBuffer(m.tokInfo, 0, Uint32Array.of(t.slot, t.pos));
        this.device.queue.writeBuffer(m.outRows, 0, Uint32Array.of(0));
        this.device.queue.writeBuffer(m.step, 0, stepParams(1, 1));
        const prof = await profileDispatches(this.device, this.ks, m.encodeStep(1, 1), this.variant.timestamps && o.timestamps !== false);
        const s = this.state(seq);
        s.length = t.pos + 1;
        s.history[t.pos] = t.token;
        return prof;
      });
    } finally {
      if (temp) this.freeSequence(seq);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.disposing = true;
    await this.queue.catch(() => undefined);
    this.seqs.clear();
    this.device.destroy();
  }
}
