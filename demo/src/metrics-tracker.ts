/**
 * Counts tokens as the chat and batch views stream them, and keeps the statistics of finished
 * requests, so the metrics panel can plot tokens/s over time and show TTFT without asking the
 * engine on every token.
 */
import type { GenerationStats } from 'bitnet-web';

export interface RequestRecord {
  readonly stats: GenerationStats;
  readonly cached: string | null;
  readonly at: number;
}

export class MetricsTracker {
  private tokensSinceSample = 0;
  private lastSample = performance.now();
  readonly records: RequestRecord[] = [];
  private readonly listeners = new Set<() => void>();
  active = 0;

  /** Called by a view for every chunk it received. */
  addTokens(n: number): void {
    this.tokensSinceSample += n;
  }

  requestStarted(): void {
    this.active++;
    this.emit();
  }

  requestEnded(stats: GenerationStats | null, cached: string | null = null): void {
    this.active = Math.max(0, this.active - 1);
    if (stats) this.records.push({ stats, cached, at: performance.now() });
    if (this.records.length > 500) this.records.splice(0, this.records.length - 500);
    this.emit();
  }

  /** Tokens per second since the previous call (the chart's sampling step). */
  sample(): number {
    const now = performance.now();
    const dt = (now - this.lastSample) / 1000;
    const tps = dt > 0 ? this.tokensSinceSample / dt : 0;
    this.tokensSinceSample = 0;
    this.lastSample = now;
    return tps;
  }

  get last(): RequestRecord | null {
    return this.records[this.records.length - 1] ?? null;
  }

  /** Mean TTFT over model-served requests (cache hits excluded). */
  meanTtft(): number | null {
    const r = this.records.filter((x) => !x.cached && x.stats.generatedTokens > 0);
    return r.length ? r.reduce((s, x) => s + x.stats.ttftMs, 0) / r.length : null;
  }

  onChange(l: () => void): void {
    this.listeners.add(l);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}
