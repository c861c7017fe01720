/**
 * What travels between the main-thread API and the engine core (in a worker or in-process): the
 * init options and result, events, generation requests and pulls. Everything here is
 * structured-cloneable.
 */
import type { BackendName } from '../backends/backend.js';
import type { BackendChoice } from '../backends/registry.js';
import type { CacheOptions, ModelInput } from '../cache/open-model.js';
import type { StorageReport } from '../cache/storage.js';
import type { EngineWarning, LoadProgress } from '../api/events.js';
import type { CapabilityReport } from '../probe/index.js';
import type { ChatMessage } from '../model/tokenizer/index.js';
import type { Architecture } from '../model/tensor.js';
import type { RequestPriority, SchedulerStats } from '../runtime/scheduler.js';
import type { SamplingOptions } from '../runtime/sampler.js';
import type { BackendSelection } from './select-backend.js';
import type { PullResult } from './pull-queue.js';

export interface CoreInitOptions {
  /** Absolute URL, Node path, Blob/File or bytes. */
  readonly model: ModelInput;
  readonly backend: BackendChoice;
  readonly cache: boolean | CacheOptions;
  readonly maxContext?: number;
  readonly maxBatch?: number;
  /** How long an idle scheduler may hold a first request back to batch it with others (ms). */
  readonly maxWaitMs?: number;
  readonly allowFallbackAdapter?: boolean;
  /** Package root URL the bundled worker resolves wasm / model files against (script-tag build). */
  readonly assetBase?: string;
}

export interface ModelInfo {
  readonly name: string;
  readonly architecture: Architecture;
  readonly source: 'url' | 'file' | 'blob' | 'buffer';
  /** URL, path or file name. */
  readonly location: string;
  readonly sizeBytes: number;
  readonly vocabSize: number;
  readonly contextLength: number;
  /** Context length the engine uses (≤ contextLength). */
  readonly maxContext: number;
  readonly nLayer: number;
  readonly nEmbd: number;
  /** Content identity (sha256 over 32 MiB chunk digests) when known, else null. */
  readonly fingerprint: string | null;
  /** Cache key when the model came through the IndexedDB cache; null otherwise. */
  readonly cacheKey: string | null;
  readonly cached: boolean;
  readonly storage: StorageReport | null;
  readonly chatFormat: 'bitnet' | 'llama3' | 'plain';
}

export interface CoreInitResult {
  readonly backend: BackendName;
  readonly selection: BackendSelection;
  readonly model: ModelInfo;
  readonly probe: CapabilityReport;
  readonly warnings: readonly EngineWarning[];
  /** The final progress event (also sent as an event; events may arrive after this result). */
  readonly ready: LoadProgress;
}

export type CoreEvent =
  | { readonly type: 'progress'; readonly progress: LoadProgress }
  /** `index`: position in the core's warning list (events from another port may arrive late or reordered). */
  | { readonly type: 'warning'; readonly warning: EngineWarning; readonly index: number }
  | { readonly type: 'backend'; readonly backend: BackendName; readonly selection: BackendSelection };

/** A generation request as the core receives it (options already validated by the API). */
export interface CoreGenerateRequest extends SamplingOptions {
  readonly prompt?: string;
  readonly promptTokens?: readonly number[];
  readonly messages?: readonly ChatMessage[];
  readonly addBos?: boolean;
  readonly maxTokens: number;
  readonly stop?: readonly string[];
  readonly stopTokens?: readonly number[];
  /** Scheduling class (default 'interactive'). */
  readonly priority?: RequestPriority;
}

export interface CoreStarted {
  readonly id: number;
  readonly promptTokens: number;
  /** The seed actually used (random when none was given). */
  readonly seed: number;
}

export interface CoreMetrics {
  readonly backend: BackendName;
  readonly scheduler: SchedulerStats;
  readonly uptimeMs: number;
  readonly embeddings: number;
  readonly handoffs: number;
}

export interface CoreApi {
  init(options: CoreInitOptions, onEvent?: (e: CoreEvent) => void): Promise<CoreInitResult>;
  start(request: CoreGenerateRequest): Promise<CoreStarted>;
  next(id: number): Promise<PullResult>;
  cancel(id: number): Promise<void>;
  embed(text: string): Promise<Float32Array>;
  tokenize(text: string, addBos?: boolean): Promise<number[]>;
  detokenize(ids: readonly number[]): Promise<string>;
  metrics(): Promise<CoreMetrics>;
  dispose(): Promise<void>;
}
