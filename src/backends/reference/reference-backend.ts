/**
 * The scalar reference backend: the correctness oracle every fast backend is compared with.
 * Straight TypeScript over `kernels.ts`, one token at a time, f32 KV cache per sequence.
 * A batched `forward` simply runs its items one after another.
 */
import { validateForwardItems } from '../validate-forward.js';
import type { Backend, BackendFactory, BackendLoadOptions, ForwardItem, ForwardOptions } from '../backend.js';
import type { ModelConfig, ModelWeights } from '../../model/tensor.js';
import { BitNetError, abortError, throwIfAborted } from '../../errors.js';
import { KVCache } from '../../runtime/kv-cache.js';
import { ReferenceTransformer } from './transformer.js';

type OutputMode = NonNullable<ForwardOptions['output']>;

/** Lets timers (and so abort signals) run during long synchronous work, at most every `ms`. */
function makeYielder(ms: number): () => Promise<void> {
  let last = Date.now();
  return async () => {
    if (Date.now() - last < ms) return;
    await new Promise<void>((r) => setTimeout(r, 0));
    last = Date.now();
  };
}

export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;
  readonly description = 'scalar TypeScript reference (single-threaded)';
  readonly config: ModelConfig;
  /** Maximum positions per sequence. */
  readonly maxContext: number;
  private readonly model: ReferenceTransformer;
  private readonly seqs = new Map<number, KVCache>();
  private nextSeq = 1;
  private disposed = false;

  /** @throws BitNetError BAD_CONFIG / BAD_TENSOR_SHAPE / MISSING_TENSOR for inconsistent weights, BAD_OPTION for maxContext. */
  constructor(weights: ModelWeights, options: BackendLoadOptions = {}) {
    const maxContext = options.maxContext ?? weights.config.contextLength;
    if (!Number.isSafeInteger(maxContext) || maxContext <= 0) {
      throw new BitNetError('BAD_OPTION', `maxContext: expected a positive integer, got ${String(maxContext)}`, { details: { option: 'maxContext' } });
    }
    this.model = new ReferenceTransformer(weights);
    this.config = weights.config;
    this.maxContext = maxContext;
  }

  private alive(): void {
    if (this.disposed) throw new BitNetError('DISPOSED', 'reference backend has been disposed');
  }

  private cache(seq: number): KVCache {
    const c = this.seqs.get(seq);
    if (!c) throw new BitNetError('BAD_INPUT', `unknown sequence ${seq}`, { details: { seq } });
    return c;
  }

  createSequence(): number {
    this.alive();
    const id = this.nextSeq++;
    const c = this.config;
    this.seqs.set(id, new KVCache(c.nLayer, c.nHeadKv * c.headDim, this.maxContext, Math.min(this.maxContext, 64)));
    return id;
  }

  sequenceLength(seq: number): number {
    this.alive();
    return this.cache(seq).length;
  }

  truncateSequence(seq: number, length: number): void {
    this.alive();
    this.cache(seq).truncate(length);
  }

  /** Frees a sequence; unknown ids and calls after dispose are ignored (cleanup is idempotent). */
  freeSequence(seq: number): void {
    this.seqs.delete(seq);
  }

  /** Validates every item before touching any cache (so a rejected call appends nothing). */
  private validate(items: readonly ForwardItem[], mode: OutputMode): void {
    validateForwardItems(items, mode, this.config.vocabSize, this.maxContext, (seq) => this.cache(seq).length);
  }

  async forward(items: readonly ForwardItem[], options: ForwardOptions = {}): Promise<Float32Array[]> {
    this.alive();
    const mode: OutputMode = options.output ?? 'last';
    if (mode !== 'last' && mode !== 'all' && mode !== 'hidden') {
      throw new BitNetError('BAD_OPTION', `output: expected 'last' | 'all' | 'hidden', got ${String(mode)}`, { details: { option: 'output' } });
    }
    const signal = options.signal;
    throwIfAborted(signal);
    this.validate(items, mode);
    const start = new Map<number, number>();
    for (const it of items) if (!start.has(it.seq)) start.set(it.seq, this.cache(it.seq).length);
    const yieldNow = makeYielder(20);
    const results: Float32Array[] = [];
    try {
      for (const it of items) {
        const cache = this.cache(it.seq);
        const n = it.tokens.length;
        cache.reserve(n);
        const width = mode === 'hidden' ? this.config.nEmbd : this.model.vocabOut;
        const out = new Float32Array(mode === 'last' ? width : n * width);
        for (let i = 0; i < n; i++) {
          if (signal) {
            await yieldNow();
            if (signal.aborted) throw abortError(signal.reason);
          }
          const hidden = this.model.step(it.tokens[i]!, cache.length, cache);
          cache.commit(1);
          if (mode === 'hidden') out.set(hidden, i * width);
          else if (mode === 'all') this.model.logits(hidden, out.subarray(i * width, (i + 1) * width));
          else if (i === n - 1) this.model.logits(hidden, out);
        }
        results.push(out);
      }
    } catch (e) {
      // Roll every touched sequence back so a failed or aborted call leaves no partial state.
      for (const [seq, len] of start) this.seqs.get(seq)?.truncate(len);
      throw e;
    }
    return results;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.seqs.clear();
  }
}

/** Factory for registry / 'auto' selection; always available, lowest priority. */
export function createReferenceBackendFactory(): BackendFactory {
  return {
    name: 'reference',
    priority: 0,
    unavailableReason: async () => null,
    create: async (weights: ModelWeights, options?: BackendLoadOptions) => {
      throwIfAborted(options?.signal);
      options?.onProgress?.('repack', 0);
      const b = new ReferenceBackend(weights, options);
      options?.onProgress?.('repack', 1);
      return b;
    },
  };
}
