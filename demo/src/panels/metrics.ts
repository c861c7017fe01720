/**
 * Live metrics: tokens/s over time (canvas chart, sampled twice a second from the tokens the views
 * stream), TTFT (last and mean), decode speed, requests and batching from `engine.metrics()`, and
 * memory (page JS heap where the browser tells, the model's size, the origin's storage use).
 */
import { $, dl, formatBytes, formatMs, h, replace } from '../dom.js';
import type { EngineHost } from '../engine-host.js';
import type { MetricsTracker } from '../metrics-tracker.js';
import { TpsChart } from './tps-chart.js';

interface PerfMemory {
  usedJSHeapSize: number;
  totalJSHeapSize: number;
  jsHeapSizeLimit: number;
}

export class MetricsPanel {
  private readonly chart = new TpsChart($('#tps-chart') as HTMLCanvasElement, 60);
  private readonly box = $('#metrics');
  private readonly t0 = performance.now();
  private engineMetrics: Awaited<ReturnType<NonNullable<EngineHost['state']['engine']>['metrics']>> | null = null;
  private storage: StorageEstimate | null = null;
  private ticks = 0;

  constructor(private readonly host: EngineHost, private readonly tracker: MetricsTracker) {
    setInterval(() => this.tick(), 500);
    tracker.onChange(() => this.render());
    host.subscribe(() => this.render());
  }

  private tick(): void {
    const tps = this.tracker.sample();
    this.chart.push({ t: (performance.now() - this.t0) / 1000, tps });
    this.ticks++;
    const engine = this.host.state.engine;
    if (engine && !engine.disposed && this.ticks % 2 === 0) {
      engine.metrics().then((m) => (this.engineMetrics = m), () => undefined);
    }
    if (this.ticks % 10 === 1) navigator.storage?.estimate?.().then((e) => (this.storage = e), () => undefined);
    this.render();
  }

  private render(): void {
    const t = this.tracker;
    const last = t.last;
    const m = this.engineMetrics;
    const mem = (performance as Performance & { memory?: PerfMemory }).memory;
    const model = this.host.state.engine?.model;
    replace(
      this.box,
      dl([
        ['tokens/s now', h('span', { id: 'metric-tps' }, (this.chart.latest?.tps ?? 0).toFixed(1))],
        ['peak tokens/s', this.chart.peak.toFixed(1)],
        ['TTFT (last)', h('span', { id: 'metric-ttft' }, last && !last.cached ? formatMs(last.stats.ttftMs) : '—')],
        ['TTFT (mean)', formatMs(t.meanTtft())],
        ['decode (last)', last ? `${last.stats.decodeTokensPerS.toFixed(1)} tok/s` : '—'],
        ['prefill (last)', last ? `${last.stats.prefillTokensPerS.toFixed(0)} tok/s` : '—'],
        ['active requests', String(t.active)],
        ['engine', m ? `${m.backend}; ${m.requests.completed} done, ${m.requests.cancelled} cancelled, ${m.requests.failed} failed; ${m.tokens.generated} tokens generated` : '—'],
        ['batching', m && m.batching.steps > 0 ? `mean batch ${m.batching.meanBatchSize.toFixed(2)} over ${m.batching.steps} steps` : '—'],
        ['page JS heap', mem ? `${formatBytes(mem.usedJSHeapSize)} of ${formatBytes(mem.jsHeapSizeLimit)}` : 'not reported by this browser'],
        ['model weights', model ? formatBytes(model.sizeBytes) : '—'],
        ['origin storage', this.storage ? `${formatBytes(this.storage.usage)} of ${formatBytes(this.storage.quota)}` : '—'],
      ]),
    );
  }
}
