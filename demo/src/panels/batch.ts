/**
 * "Run N prompts at once": starts N generations concurrently (the engine batches them into shared
 * forward passes), shows each answer as it streams, and reports the aggregate throughput next to
 * earlier runs, so the gain of batching (N at once vs. 1) is visible.
 */
import type { GenerationStats } from 'bitnet-web';
import { $, formatMs, h, replace, setText } from '../dom.js';
import type { EngineHost } from '../engine-host.js';
import type { MetricsTracker } from '../metrics-tracker.js';
import { errorText } from './chat.js';

export const BATCH_PROMPTS = [
  'In the beginning God created',
  'And God said, Let there be',
  'The LORD is my shepherd;',
  'Blessed are the poor in spirit:',
  'And it came to pass',
  'For God so loved the world,',
  'Thou shalt not',
  'Now faith is the substance of',
  'In my Father’s house are many',
  'Vanity of vanities, saith the Preacher;',
  'To every thing there is a season,',
  'Let not your heart be troubled:',
  'I am the way, the truth,',
  'The heavens declare the glory of God;',
  'Be still, and know that',
  'Love suffereth long, and is kind;',
];

export interface BatchRun {
  readonly n: number;
  readonly tokens: number;
  readonly wallMs: number;
  readonly tokensPerS: number;
  readonly meanBatch: number;
  readonly errors: number;
}

export class BatchPanel {
  private readonly nInput = $('#batch-n') as HTMLInputElement;
  private readonly maxInput = $('#batch-max') as HTMLInputElement;
  private readonly runBtn = $('#batch-run') as HTMLButtonElement;
  private readonly out = $('#batch-outputs');
  private readonly summary = $('#batch-summary');
  private readonly history = $('#batch-history');
  readonly runs: BatchRun[] = [];
  private running = false;

  constructor(private readonly host: EngineHost, private readonly tracker: MetricsTracker) {
    this.runBtn.addEventListener('click', () => void this.run(Number(this.nInput.value) || 1));
    host.subscribe((s) => (this.runBtn.disabled = s.status !== 'ready' || this.running));
  }

  /** Runs n prompts concurrently; resolves with the run's numbers. */
  async run(n: number): Promise<BatchRun | null> {
    const engine = this.host.state.engine;
    if (!engine || this.running) return null;
    n = Math.max(1, Math.min(64, Math.floor(n)));
    const maxTokens = Math.max(1, Math.min(256, Number(this.maxInput.value) || 16));
    this.running = true;
    this.runBtn.disabled = true;
    $('#batch-panel').dataset.state = 'running';
    const cells = Array.from({ length: n }, (_, i) => {
      const text = h('span', { class: 'text' });
      const li = h('li', { 'data-state': 'streaming' }, h('span', { class: 'prompt' }, BATCH_PROMPTS[i % BATCH_PROMPTS.length]!), text);
      return { li, text };
    });
    replace(this.out, ...cells.map((c) => c.li));
    setText(this.summary, `running ${n} requests at once…`);
    const t0 = performance.now();
    let tokens = 0;
    const one = async (i: number): Promise<GenerationStats | null> => {
      const c = cells[i]!;
      this.tracker.requestStarted();
      try {
        const stream = engine.generate(BATCH_PROMPTS[i % BATCH_PROMPTS.length]!, { maxTokens, temperature: 0 });
        let s = '';
        for await (const e of stream) {
          if (e.done) {
            this.tracker.requestEnded(e.stats);
            c.li.dataset.state = 'done';
            return e.stats;
          }
          s += e.text;
          c.text.textContent = s;
          tokens += e.tokenIds.length;
          this.tracker.addTokens(e.tokenIds.length);
        }
        return null;
      } catch (e) {
        this.tracker.requestEnded(null);
        c.li.dataset.state = 'error';
        c.text.textContent = `error: ${errorText(e)}`;
        return null;
      }
    };
    const stats = await Promise.all(cells.map((_, i) => one(i)));
    const wallMs = performance.now() - t0;
    const ok = stats.filter((x): x is GenerationStats => x !== null);
    const run: BatchRun = {
      n,
      tokens,
      wallMs,
      tokensPerS: wallMs > 0 ? (tokens * 1000) / wallMs : 0,
      meanBatch: ok.length ? ok.reduce((a, s) => a + s.meanBatch, 0) / ok.length : 0,
      errors: n - ok.length,
    };
    this.runs.push(run);
    const base = this.runs.find((r) => r.n === 1);
    const speedup = base && base.tokensPerS > 0 ? ` — ${(run.tokensPerS / base.tokensPerS).toFixed(2)}× the 1-at-a-time throughput` : ' — run N = 1 too to compare';
    setText(this.summary, `${n} requests, ${tokens} tokens in ${formatMs(wallMs)}: ${run.tokensPerS.toFixed(1)} tokens/s aggregate, mean batch ${run.meanBatch.toFixed(2)}${run.errors ? `, ${run.errors} failed` : ''}${speedup}`);
    replace(
      this.history,
      h('thead', {}, h('tr', {}, h('th', {}, 'N'), h('th', {}, 'tokens'), h('th', {}, 'wall'), h('th', {}, 'tokens/s'), h('th', {}, 'mean batch'))),
      h('tbody', {}, ...this.runs.map((r) => h('tr', {}, h('td', {}, r.n), h('td', {}, r.tokens), h('td', {}, formatMs(r.wallMs)), h('td', {}, r.tokensPerS.toFixed(1)), h('td', {}, r.meanBatch.toFixed(2))))),
    );
    this.running = false;
    this.runBtn.disabled = this.host.state.status !== 'ready';
    $('#batch-panel').dataset.state = 'done';
    return run;
  }
}
