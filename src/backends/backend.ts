/**
 * The one interface every compute backend implements (reference, wasm, webgpu).
 * Data flows: engine/scheduler → Backend → kernels. A backend owns its copy of the weights
 * (in whatever layout it reads fastest) and one KV cache per sequence.
 */
import type { ModelConfig, ModelWeights } from '../model/tensor.js';

export type BackendName = 'reference' | 'wasm' | 'webgpu';

export interface BackendLoadOptions {
  /** Maximum tokens per sequence (KV cache length); defaults to the model's context length. */
  readonly maxContext?: number;
  readonly signal?: AbortSignal;
  /**
   * Progress in [0, 1] of repack/upload work. `info.skipped`: the repack step did not run because
   * the layout came from `repackStore` (reported once, as `('repack', 1, { skipped: true })`).
   */
  readonly onProgress?: (phase: 'repack' | 'upload', fraction: number, info?: RepackProgressInfo) => void;
  /**
   * Where a backend that repacks the weights into its own layout may find that layout from an
   * earlier load, and stores it after repacking. Backends without a repack step ignore it.
   */
  readonly repackStore?: RepackStore;
}

export interface RepackProgressInfo {
  readonly skipped?: boolean;
}

/**
 * Repacked weights of the model being loaded (see src/cache/repack-store.ts). `layout` names the
 * stored bytes completely: the backend's layout version plus whatever plan decides placement.
 */
export interface RepackStore {
  /** The parts stored for (backend, layout), verified, or null (absent, stale or corrupted). Never throws. */
  load(backend: BackendName, layout: string): Promise<Uint8Array[] | null>;
  /** Stores the parts (the store may keep the arrays until it resolves). Never throws. */
  save(backend: BackendName, layout: string, parts: readonly Uint8Array[]): Promise<void>;
}

/** One sequence's slice of a forward pass: tokens appended at the sequence's current length. */
export interface ForwardItem {
  readonly seq: number;
  readonly tokens: ArrayLike<number>;
}

export interface ForwardOptions {
  /**
   * 'last' (default): logits of the last token of each item.
   * 'all': logits of every token of each item (loss evaluation).
   * 'hidden': final-norm hidden state of every token instead of logits (embeddings).
   */
  readonly output?: 'last' | 'all' | 'hidden';
  readonly signal?: AbortSignal;
}

export interface Backend {
  readonly name: BackendName;
  /** Human-readable detail (e.g. adapter name, thread count). */
  readonly description: string;
  readonly config: ModelConfig;
  /** Creates an empty sequence (KV cache) and returns its id. */
  createSequence(): number;
  /** Current number of cached positions of a sequence. */
  sequenceLength(seq: number): number;
  /** Drops cached positions past `length` (for rollback / prompt reuse). */
  truncateSequence(seq: number, length: number): void;
  /** Frees a sequence's KV cache. Unknown ids are ignored. */
  freeSequence(seq: number): void;
  /**
   * Runs the items as one batched forward pass, appending their tokens to their KV caches.
   * Returns, per item, a Float32Array: [vocab] for 'last', [n × vocab] for 'all', [n × nEmbd] for 'hidden'.
   * @throws BitNetError CONTEXT_OVERFLOW if a sequence would exceed maxContext (nothing is appended).
   * @throws BitNetError BAD_INPUT for a token id outside the vocabulary or an unknown sequence.
   */
  forward(items: readonly ForwardItem[], options?: ForwardOptions): Promise<Float32Array[]>;
  /** Releases everything; later calls throw DISPOSED. */
  dispose(): Promise<void>;
}

export interface BackendFactory {
  readonly name: BackendName;
  /** Higher runs first in 'auto' selection. */
  readonly priority: number;
  /**
   * Why it cannot run here, or null when it can. Never throws. `request.allowFallbackAdapter`: the
   * caller accepts a software GPU adapter (WebGPU named explicitly); factories may ignore it.
   */
  unavailableReason(request?: { readonly allowFallbackAdapter?: boolean }): Promise<string | null>;
  create(weights: ModelWeights, options?: BackendLoadOptions): Promise<Backend>;
}
