/**
 * `WasmBackend`: the Backend interface over the wasm SIMD kernels (optionally multi-threaded).
 * A forward call is validated completely first (unknown sequence, token range, context overflow →
 * nothing is appended), then its tokens — all items together — are processed in chunks of at most
 * `maxBatchTokens`; on any failure every touched sequence is rolled back to its old length.
 */
import { validateForwardItems } from '../validate-forward.js';
import type { Backend, BackendLoadOptions, ForwardItem, ForwardOptions } from '../backend.js';
import type { ModelConfig, ModelWeights } from '../../model/tensor.js';
import { BitNetError, abortError, throwIfAborted } from '../../errors.js';
import { validateWeights } from '../reference/transformer.js';
import { MAX_BYTES, PAGE } from './arena.js';
import { KvPagePool, type KvSequence } from './kv-pages.js';
import { LOGIT_TOKENS, WasmTransformer, type ChunkToken } from './transformer.js';
import { estimateWeightBytes, uploadWeights } from './weights.js';
import { WasmRuntime } from './wasm-runtime.js';

export interface WasmBackendOptions extends BackendLoadOptions {
  /** Kernel threads including the calling thread (default 1). */
  readonly threads?: number;
  /** Directory (URL or path) of the .wasm files. */
  readonly wasmPath?: string | URL;
  /** Keep the output / tied embedding matrix as Q8 (≈ half the bytes of F16). Default false. */
  readonly outputQ8?: boolean;
  /** With a Q8 output matrix, quantize the final hidden state to int8 per 32-block for the logits. */
  readonly logitsInt8?: boolean;
  /**
   * Table-lookup GEMM for blocks of 6–8 tokens (batched decode, prefill); same results, faster.
   * Default true; false = the multiply-add kernel for every token count (costs cols·1 KiB less scratch).
   */
  readonly lutGemm?: boolean;
  /** Tokens per batched chunk (scratch size). Default 128. */
  readonly maxBatchTokens?: number;
  /** Positions per KV page. Default 64. */
  readonly kvPageSize?: number;
  /** Busy-wait polls before blocking (threads). */
  readonly spin?: number;
  /** Cap on wasm memory in bytes (default 4 GiB); growth past it fails with OUT_OF_MEMORY. */
  readonly maxMemoryBytes?: number;
  /** Jobs below this many multiply-adds skip the worker pool (default 2^19). */
  readonly minParallelWork?: number;
}

type OutputMode = NonNullable<ForwardOptions['output']>;

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly description: string;
  readonly config: ModelConfig;
  readonly maxContext: number;
  /** Bytes of weights held in wasm memory. */
  readonly weightBytes: number;
  private readonly seqs = new Map<number, KvSequence>();
  private nextSeq = 1;
  private disposed = false;
  /** Forward calls run one after another (they share scratch memory). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly rt: WasmRuntime,
    private readonly model: WasmTransformer,
    private readonly kv: KvPagePool,
    config: ModelConfig,
    maxContext: number,
    weightBytes: number,
    private readonly vocabOut: number,
    detail: string,
  ) {
    this.config = config;
    this.maxContext = maxContext;
    this.weightBytes = weightBytes;
    this.description = detail;
  }

  /**
   * Uploads the weights and allocates scratch memory.
   * @throws BitNetError BAD_OPTION, BAD_CONFIG / BAD_TENSOR_* (weights), TOO_LARGE (before any
   *   work, when weights + scratch + one KV page exceed wasm32 memory), OUT_OF_MEMORY,
   *   BACKEND_UNAVAILABLE / BACKEND_FAILED (module), AbortError.
   */
  static async create(weights: ModelWeights, options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const c = weights.config;
    const maxContext = options.maxContext ?? c.contextLength;
    const maxTokens = options.maxBatchTokens ?? 128;
    const pageSize = Math.min(options.kvPageSize ?? 64, maxContext);
    const threads = Math.max(1, Math.floor(options.threads ?? 1));
    for (const [k, v] of [['maxContext', maxContext], ['maxBatchTokens', maxTokens], ['kvPageSize', pageSize]] as const) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new BitNetError('BAD_OPTION', `${k}: expected a positive integer, got ${String(v)}`, { details: { option: k } });
    }
    validateWeights(weights);
    throwIfAborted(options.signal);
    const kvDim = c.nHeadKv * c.headDim;
    const wBytes = estimateWeightBytes(weights, options.outputQ8 ?? false);
    const sBytes = WasmTransformer.scratchBytes(c, weights.output.rows, maxTokens, threads, maxContext, options.lutGemm ?? true);
    const pageBytes = c.nLayer * 2 * pageSize * kvDim * 4;
    const need = wBytes + sBytes + pageBytes + (threads - 1) * 256 * 1024 + (2 << 20);
    if (need > MAX_BYTES) {
      throw new BitNetError('TOO_LARGE', `model needs ${need} bytes of wasm memory (weights ${wBytes}), wasm32 allows ${MAX_BYTES}`, {
        details: { bytes: need, weightBytes: wBytes },
      });
    }
    const rt = await WasmRuntime.create({
      threads,
      ...(options.wasmPath !== undefined ? { wasmPath: options.wasmPath } : {}),
      ...(options.spin !== undefined ? { spin: options.spin } : {}),
      ...(options.maxMemoryBytes !== undefined ? { maxMemoryBytes: options.maxMemoryBytes } : {}),
      ...(options.minParallelWork !== undefined ? { minParallelWork: options.minParallelWork } : {}),
      expectedPages: Math.ceil(need / PAGE),
    });
    try {
      rt.arena.ensure(rt.arena.top + need);
      const dev = await uploadWeights(rt, weights, {
        outputQ8: options.outputQ8 ?? false,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: (f: number) => options.onProgress!('upload', f) } : {}),
      });
      const kv = new KvPagePool(rt.arena, { nLayer: c.nLayer, kvDim, pageSize, maxContext });
      const model = new WasmTransformer(rt, dev, c, weights.layers.map((l) => l.outScales), kv, maxTokens, options.logitsInt8 ?? false, options.lutGemm ?? true);
      const fmt = ['f32', 'f16', 'bf16', 'q8'][dev.output.fmt];
      const detail = `wasm SIMD128, ${threads} thread${threads > 1 ? 's' : ''}, output ${fmt}${options.logitsInt8 && fmt === 'q8' ? '×int8' : ''}${options.lutGemm === false ? ', no LUT GEMM' : ''}`;
      return new WasmBackend(rt, model, kv, c, maxContext, dev.bytes, weights.output.rows, detail);
    } catch (e) {
      await rt.close();
      throw e;
    }
  }

  /** Threads the kernels run on. */
  get threads(): number {
    return this.rt.threads;
  }

  private alive(): void {
    if (this.disposed) throw new BitNetError('DISPOSED', 'wasm backend has been disposed');
  }

  private seq(id: number): KvSequence {
    const s = this.seqs.get(id);
    if (!s) throw new BitNetError('BAD_INPUT', `unknown sequence ${id}`, { details: { seq: id } });
    return s;
  }

  createSequence(): number {
    this.alive();
    const id = this.nextSeq++;
    this.seqs.set(id, this.kv.newSequence());
    return id;
  }

  sequenceLength(seq: number): number {
    this.alive();
    return this.seq(seq).length;
  }

  truncateSequence(seq: number, length: number): void {
    this.alive();
    this.kv.truncate(this.seq(seq), length);
  }

  freeSequence(seq: number): void {
    const s = this.seqs.get(seq);
    if (!s || this.disposed) return;
    this.seqs.delete(seq);
    this.kv.freeSequence(s);
  }

  private validate(items: readonly ForwardItem[], mode: OutputMode): void {
    validateForwardItems(items, mode, this.config.vocabSize, this.maxContext, (seq) => this.seq(seq).length);
  }

  forward(items: readonly ForwardItem[], options: ForwardOptions = {}): Promise<Float32Array[]> {
    const run = this.queue.then(() => this.forwardNow(items, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async forwardNow(items: readonly ForwardItem[], options: ForwardOptions): Promise<Float32Array[]> {
    this.alive();
    const mode: OutputMode = options.output ?? 'last';
    if (mode !== 'last' && mode !== 'all' && mode !== 'hidden') {
      throw new BitNetError('BAD_OPTION', `output: expected 'last' | 'all' | 'hidden', got ${String(mode)}`, { details: { option: 'output' } });
    }
    const signal = options.signal;
    throwIfAborted(signal);
    this.validate(items, mode);
    const d = this.config.nEmbd;
    const width = mode === 'hidden' ? d : this.vocabOut;
    const results = items.map((it) => new Float32Array(mode === 'last' ? width : it.tokens.length * width));
    // Flatten: (chunk token, result slot) pairs in item order, positions assigned per sequence.
    const start = new Map<number, number>();
    const next = new Map<number, number>();
    const flat: { tk: ChunkToken; item: number; row: number }[] = [];
    items.forEach((it, i) => {
      const s = this.seq(it.seq);
      if (!start.has(it.seq)) start.set(it.seq, s.length);
      let pos = next.get(it.seq) ?? s.length;
      const n = it.tokens.length;
      for (let k = 0; k < n; k++) {
        const want = mode === 'last' ? (k === n - 1 ? 0 : -1) : k;
        flat.push({ tk: { token: it.tokens[k]!, pos: pos++, table: s.table }, item: i, row: want });
      }
      next.set(it.seq, pos);
    });
    try {
      for (const [id, end] of next) this.kv.reserve(this.seq(id), end);
      const B = this.model.maxTokens;
      for (let c0 = 0; c0 < flat.length; c0 += B) {
        if (signal) {
          if (c0 > 0) await new Promise<void>((r) => setTimeout(r, 0));
          if (signal.aborted) throw abortError(signal.reason);
        }
        const chunk = flat.slice(c0, c0 + B);
        this.model.runChunk(chunk.map((f) => f.tk));
        const wanted = chunk.map((f, t) => ({ ...f, t })).filter((f) => f.row >= 0);
        if (mode === 'hidden') {
          const f32 = this.rt.arena.v.f32;
          for (const f of wanted) results[f.item]!.set(f32.subarray(this.model.hiddenRow(f.t) >>> 2, (this.model.hiddenRow(f.t) >>> 2) + d), f.row * d);
          continue;
        }
        for (let g = 0; g < wanted.length; g += LOGIT_TOKENS) {
          const grp = wanted.slice(g, g + LOGIT_TOKENS);
          const out = this.model.logits(grp.map((f) => f.t)) >>> 2;
          const f32 = this.rt.arena.v.f32;
          grp.forEach((f, i) => results[f.item]!.set(f32.subarray(out + i * width, out + (i + 1) * width), f.row * width));
        }
      }
      for (const [id, end] of next) this.seq(id).length = end;
    } catch (e) {
      for (const [id, len] of start) {
        const s = this.seqs.get(id);
        if (s) this.kv.truncate(s, len);
      }
      throw e;
    }
    return results;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.seqs.clear();
    await this.rt.close();
  }
}
