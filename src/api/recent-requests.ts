/**
 * A bounded list of the most recent completed requests as the caller saw them (TTFT, tokens/s,
 * whether the result cache answered), for `engine.metrics().recentRequests`. Keeps the last
 * `capacity` entries; older ones are dropped. Failed and aborted requests are not recorded.
 */
import type { GenerationStats } from './generation.js';

/** The stats fields a recent request keeps (see `GenerationStats`). */
type KeptStats = Pick<GenerationStats, 'promptTokens' | 'generatedTokens' | 'ttftMs' | 'prefillTokensPerS' | 'decodeTokensPerS' | 'totalMs'>;

export interface RecentRequest extends KeptStats {
  /** Wall-clock end time (ms since the epoch). */
  readonly endedAt: number;
  /** Where the answer came from: null = computed by the model. */
  readonly cached: 'exact' | 'semantic' | null;
}

export class RecentRequests {
  private readonly items: RecentRequest[] = [];

  constructor(readonly capacity: number) {}

  add(s: GenerationStats): void {
    this.items.push({
      endedAt: Date.now(),
      promptTokens: s.promptTokens,
      generatedTokens: s.generatedTokens,
      ttftMs: s.ttftMs,
      prefillTokensPerS: s.prefillTokensPerS,
      decodeTokensPerS: s.decodeTokensPerS,
      totalMs: s.totalMs,
      cached: s.cached ?? null,
    });
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
  }

  /** Oldest first (a copy). */
  list(): RecentRequest[] {
    return [...this.items];
  }
}
