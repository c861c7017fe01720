/**
 * Per-request latency metrics of the scheduler: every completed request's TTFT, queue time and
 * decode tokens/s, summarised by priority, plus the most recent requests verbatim.
 *
 * - `requests`, the means and `maxTtftMs` cover every completed request since the scheduler started.
 * - `p50TtftMs` / `p95TtftMs` cover the last `window` (default 1024) completed requests of that
 *   priority (nearest-rank percentiles).
 * - `meanDecodeTokensPerS` averages over requests that generated at least two tokens (a rate needs
 *   two timestamps); `decodeRequests` counts them.
 * Failed and cancelled requests are not recorded (they have no result).
 */
import type { RequestPriority, RequestResult } from './scheduler-types.js';

export interface RequestRecord {
  readonly id: number;
  readonly priority: RequestPriority;
  readonly finishReason: RequestResult['finishReason'];
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly queueMs: number;
  readonly ttftMs: number;
  readonly decodeTokensPerS: number;
  readonly totalMs: number;
  readonly meanBatch: number;
}

export interface PriorityLatency {
  readonly requests: number;
  readonly meanTtftMs: number;
  readonly p50TtftMs: number;
  readonly p95TtftMs: number;
  readonly maxTtftMs: number;
  readonly meanQueueMs: number;
  readonly decodeRequests: number;
  readonly meanDecodeTokensPerS: number;
}

class Lane {
  requests = 0; ttftSum = 0; ttftMax = 0; queueSum = 0; decodeN = 0; decodeSum = 0;
  readonly ttfts: number[] = [];
  constructor(private readonly window: number) {}

  add(r: RequestResult): void {
    this.requests++;
    this.ttftSum += r.ttftMs;
    this.ttftMax = Math.max(this.ttftMax, r.ttftMs);
    this.queueSum += r.queueMs;
    if (r.generatedTokens >= 2 && r.decodeTokensPerS > 0) {
      this.decodeN++;
      this.decodeSum += r.decodeTokensPerS;
    }
    this.ttfts.push(r.ttftMs);
    if (this.ttfts.length > this.window) this.ttfts.shift();
  }

  summary(): PriorityLatency {
    const n = this.requests;
    const sorted = [...this.ttfts].sort((a, b) => a - b);
    const rank = (p: number): number => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!);
    return {
      requests: n,
      meanTtftMs: n > 0 ? this.ttftSum / n : 0,
      p50TtftMs: rank(0.5),
      p95TtftMs: rank(0.95),
      maxTtftMs: this.ttftMax,
      meanQueueMs: n > 0 ? this.queueSum / n : 0,
      decodeRequests: this.decodeN,
      meanDecodeTokensPerS: this.decodeN > 0 ? this.decodeSum / this.decodeN : 0,
    };
  }
}

export class RequestLog {
  private readonly lanes: Record<RequestPriority, Lane>;
  private readonly last: RequestRecord[] = [];

  /** `recent`: completed requests kept verbatim; `window`: requests per priority the percentiles cover. */
  constructor(private readonly recentCapacity = 32, window = 1024) {
    this.lanes = { interactive: new Lane(window), background: new Lane(window) };
  }

  add(id: number, r: RequestResult): void {
    this.lanes[r.priority].add(r);
    this.last.push({
      id, priority: r.priority, finishReason: r.finishReason, promptTokens: r.promptTokens, generatedTokens: r.generatedTokens,
      queueMs: r.queueMs, ttftMs: r.ttftMs, decodeTokensPerS: r.decodeTokensPerS, totalMs: r.totalMs, meanBatch: r.meanBatch,
    });
    if (this.last.length > this.recentCapacity) this.last.shift();
  }

  summary(): Record<RequestPriority, PriorityLatency> {
    return { interactive: this.lanes.interactive.summary(), background: this.lanes.background.summary() };
  }

  /** The most recent completed requests, oldest first. */
  recent(): RequestRecord[] {
    return [...this.last];
  }
}
