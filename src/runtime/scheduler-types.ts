/**
 * The contracts of the continuous-batching scheduler (scheduler.ts): what a request is, where its
 * output goes, the options and the statistics it reports. Kept apart from the step loop so that
 * consumers (pull queue, worker protocol) depend on shapes, not on the implementation.
 */
import type { FinishReason, GenerateTextDecoder } from './generate.js';
import type { Sampler } from './sampler.js';
import type { Backend } from '../backends/backend.js';
import type { PriorityLatency, RequestRecord } from './request-log.js';

/**
 * 'interactive' (default): a person waits for it; admitted before every waiting 'background'
 * request. 'background': bulk work; admitted when no interactive request waits, or when aging
 * promotes it (see admission-queue.ts).
 */
export type RequestPriority = 'interactive' | 'background';

export const REQUEST_PRIORITIES: readonly RequestPriority[] = ['interactive', 'background'];

export interface SchedulerRequestSpec {
  readonly prompt: readonly number[];
  readonly maxTokens: number;
  readonly sampler: Sampler;
  readonly stopIds: ReadonlySet<number>;
  readonly stop: readonly string[];
  readonly decoder: GenerateTextDecoder;
  readonly sink: RequestSink;
  /** Admission class (default 'interactive'). */
  readonly priority?: RequestPriority;
}

/** Where a request's output goes (the pull queue the consumer reads). */
export interface RequestSink {
  push(text: string, tokenIds: readonly number[]): void; // newly visible text and the ids sampled for it
  finish(result: RequestResult): void;
  fail(error: unknown): void;
  /** Tokens produced but not yet pulled by the consumer. */
  readonly backlog: number;
}

export interface RequestResult {
  readonly finishReason: FinishReason;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly ttftMs: number; // from submit to the first sampled token (queueing and any batch hold included)
  readonly prefillTokensPerS: number;
  readonly decodeTokensPerS: number;
  readonly totalMs: number;
  readonly meanBatch: number; // mean sequences per step this request took part in
  readonly priority: RequestPriority;
  /** Milliseconds from submit to admission into the running batch (waiting in the queue). */
  readonly queueMs: number;
}

export interface SchedulerOptions {
  /** Most sequences per forward pass (default 8). */
  readonly maxBatch?: number;
  /** Most prompt tokens of one request per step (default 256). */
  readonly prefillChunk?: number;
  /** Unpulled tokens after which a request pauses (default 64). */
  readonly maxBuffered?: number;
  /** Positions per sequence (default: backend.config.contextLength). */
  readonly maxContext?: number;
  /**
   * Longest an IDLE scheduler holds a not-full first batch so that more requests can join it
   * (default 0: start at once). Exact rule in batch-window.ts: the hold applies only while no
   * sequence is admitted, ends the moment `maxBatch` requests wait, and lasts at most `maxWaitMs`
   * from the oldest waiting request's submission. Decoding sequences are never held.
   */
  readonly maxWaitMs?: number;
  /** Aging: interactive admissions in a row, with background work waiting, before one background request goes (default 4). */
  readonly agingPassOvers?: number;
  /** Aging: milliseconds after which a waiting background request goes first (default 2000). */
  readonly agingMs?: number;
  /** Called on device loss; resolves to the backend to continue on (or rejects: requests fail). */
  readonly replaceBackend?: (lost: Backend, error: unknown) => Promise<Backend>;
}

export interface SchedulerStats {
  readonly active: number;
  /** Waiting requests, all priorities (= queuedByPriority.interactive + .background). */
  readonly queued: number;
  readonly queuedByPriority: Readonly<Record<RequestPriority, number>>;
  readonly steps: number;
  readonly batchedSequences: number; // Σ batch sizes over steps (mean = / steps)
  /** batchSizeCounts[n] = steps that ran n sequences. */
  readonly batchSizeCounts: readonly number[];
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly handoffs: number;
  /** Background requests admitted ahead of a waiting interactive one by aging. */
  readonly promoted: number;
  /** First batches whose start `maxWaitMs` delayed, and the total delay. */
  readonly holds: number;
  readonly heldMs: number;
  /** Per-request TTFT / tokens/s: summaries by priority and the most recent completed requests. */
  readonly latency: Readonly<Record<RequestPriority, PriorityLatency>>;
  readonly recent: readonly RequestRecord[];
}
