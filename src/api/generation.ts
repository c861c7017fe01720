/**
 * The stream `engine.generate()` returns: an `AsyncIterable` of text chunks with their token ids,
 * ending with one `done: true` item that carries the statistics.
 *
 * The request starts at once (so several can run concurrently without being iterated yet); output is
 * pulled from the engine core one batch of chunks per `next` call. Aborting (the `signal` option,
 * `stream.abort()`, or leaving a `for await` loop early) cancels the request in the core, which frees
 * its KV cache; iteration then rejects with `AbortError` (leaving a loop early just ends it).
 *
 * With a result cache hook (`StreamCache`), the stream first asks the cache: a hit replays the
 * cached chunks (same text pieces and token ids) without touching the engine core, and its stats say
 * `cached: 'exact' | 'semantic'` with the similarity and the original prompt; a miss starts the
 * request as usual and, when it finishes normally (not aborted, not failed), hands the chunks to the
 * hook to be stored.
 */
import type { BackendName } from '../backends/backend.js';
import { BitNetError, abortError } from '../errors.js';
import type { ResultAnswer } from '../cache/result-types.js';
import type { PulledChunk } from '../worker/pull-queue.js';
import type { CoreGenerateRequest, CoreStarted } from '../worker/protocol.js';
import type { CoreTransport } from './transport.js';

export interface GenerationChunk {
  readonly done: false;
  /** Newly visible text (may be empty while text that might start a stop string is held back). */
  readonly text: string;
  readonly tokenIds: readonly number[];
}

export interface GenerationStats {
  readonly promptTokens: number;
  readonly generatedTokens: number;
  /** Milliseconds from the `generate` call to the first token, as the caller saw it. */
  readonly ttftMs: number;
  readonly prefillTokensPerS: number;
  /** Tokens per second after the first token. */
  readonly decodeTokensPerS: number;
  readonly totalMs: number;
  readonly finishReason: 'stop' | 'length';
  /** Backend that produced the last token. */
  readonly backend: BackendName;
  /** Seed used for sampling. */
  readonly seed: number;
  /** Mean number of sequences per forward pass this request shared (0 for a cached answer). */
  readonly meanBatch: number;
  /** Set when the answer came from the result cache (prefill / decode rates are then 0). */
  readonly cached?: 'exact' | 'semantic';
  /** Cosine similarity of the request to the cached one (1 for exact hits). */
  readonly similarity?: number;
  /** The prompt the cached answer was computed for (a chat's last message; token ids for a token prompt). */
  readonly originalPrompt?: string | readonly number[];
  /** The messages the cached answer was computed for (chat requests). */
  readonly originalMessages?: ReadonlyArray<{ readonly role: string; readonly content: string }>;
}

/** An answer the result cache serves: the stored answer plus where it came from. */
export interface CachedAnswer extends ResultAnswer {
  readonly cached: 'exact' | 'semantic';
  readonly similarity: number;
  readonly originalPrompt: string | readonly number[];
  readonly originalMessages?: ReadonlyArray<{ readonly role: string; readonly content: string }>;
}

/** The result cache as one request uses it. `lookup` may reject with AbortError only; `save` never throws. */
export interface StreamCache {
  lookup(signal: AbortSignal): Promise<CachedAnswer | null>;
  save(answer: ResultAnswer): void;
}

type Started = { readonly kind: 'live'; readonly id: number; readonly seed: number } | { readonly kind: 'cached'; readonly answer: CachedAnswer };

export interface GenerationEnd {
  readonly done: true;
  readonly text: '';
  readonly tokenIds: readonly number[];
  readonly stats: GenerationStats;
}

export type GenerationEvent = GenerationChunk | GenerationEnd;

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export interface StreamContext {
  readonly transport: CoreTransport;
  readonly backend: () => BackendName;
  /** Maps errors (e.g. to DISPOSED after dispose). */
  readonly mapError: (e: unknown) => unknown;
  readonly onEnd: (stats: GenerationStats | null, error: unknown) => void;
}

export class GenerationStream implements AsyncIterable<GenerationEvent> {
  /** Resolves with the statistics when the request ends; rejects like the iteration. */
  readonly stats: Promise<GenerationStats>;
  private readonly started: Promise<Started>;
  private readonly controller = new AbortController();
  private readonly t0 = now();
  private iterated = false;
  private ended = false;
  private settle!: { resolve: (s: GenerationStats) => void; reject: (e: unknown) => void };

  constructor(private readonly ctx: StreamContext, request: CoreGenerateRequest, signal?: AbortSignal, private readonly cache?: StreamCache) {
    this.stats = new Promise<GenerationStats>((resolve, reject) => (this.settle = { resolve, reject }));
    this.stats.catch(() => undefined);
    if (signal?.aborted) this.controller.abort(signal.reason);
    else signal?.addEventListener('abort', () => this.abort(signal.reason), { once: true });
    this.started = this.controller.signal.aborted ? Promise.reject(abortError(this.controller.signal.reason)) : this.start(request);
    this.started.catch((e: unknown) => this.end(null, e));
  }

  private async start(request: CoreGenerateRequest): Promise<Started> {
    const s = this.controller.signal;
    if (this.cache) {
      const answer = await this.cache.lookup(s);
      if (answer) return { kind: 'cached', answer };
      if (s.aborted) throw abortError(s.reason);
    }
    const r = (await this.ctx.transport.call('start', request)) as CoreStarted;
    return { kind: 'live', id: r.id, seed: r.seed };
  }

  /** Cancels the request (no-op once it ended). */
  abort(reason?: unknown): void {
    if (this.controller.signal.aborted || this.ended) return;
    this.controller.abort(reason);
    void this.started.then((s) => (s.kind === 'live' ? this.ctx.transport.call('cancel', s.id) : undefined)).catch(() => undefined);
  }

  /** Collects the whole text. */
  async text(): Promise<string> {
    let s = '';
    for await (const e of this) s += e.text;
    return s;
  }

  private end(stats: GenerationStats | null, error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (stats) this.settle.resolve(stats);
    else this.settle.reject(error);
    this.ctx.onEnd(stats, error);
  }

  private aborted(): Promise<never> {
    const s = this.controller.signal;
    return new Promise<never>((_, reject) => {
      if (s.aborted) reject(abortError(s.reason));
      else s.addEventListener('abort', () => reject(abortError(s.reason)), { once: true });
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<GenerationEvent> {
    if (this.iterated) throw new BitNetError('BAD_INPUT', 'a generation stream can be iterated only once');
    this.iterated = true;
    const abortP = this.aborted();
    abortP.catch(() => undefined);
    let first = -1;
    let finished = false;
    try {
      const started = await Promise.race([this.started, abortP]);
      if (started.kind === 'cached') {
        const a = started.answer;
        let generated = 0;
        for (const p of a.pieces) {
          if (first < 0 && p.tokenIds.length > 0) first = now();
          generated += p.tokenIds.length;
          yield { done: false, text: p.text, tokenIds: [...p.tokenIds] };
          if (this.controller.signal.aborted) throw abortError(this.controller.signal.reason);
        }
        const stats: GenerationStats = {
          promptTokens: a.promptTokens,
          generatedTokens: generated,
          ttftMs: first >= 0 ? first - this.t0 : 0,
          prefillTokensPerS: 0,
          decodeTokensPerS: 0,
          totalMs: now() - this.t0,
          finishReason: a.finishReason,
          backend: this.ctx.backend(),
          seed: a.seed,
          meanBatch: 0,
          cached: a.cached,
          similarity: a.similarity,
          originalPrompt: a.originalPrompt,
          ...(a.originalMessages ? { originalMessages: a.originalMessages } : {}),
        };
        finished = true;
        this.end(stats, null);
        yield { done: true, text: '', tokenIds: [], stats };
        return;
      }
      const { id, seed } = started;
      const pieces: Array<{ text: string; tokenIds: readonly number[] }> | null = this.cache ? [] : null;
      for (;;) {
        const r = await Promise.race([this.ctx.transport.call('next', id), abortP]);
        for (const c of r.chunks as PulledChunk[]) {
          if (first < 0 && c.tokenIds.length > 0) first = now();
          pieces?.push({ text: c.text, tokenIds: [...c.tokenIds] });
          yield { done: false, text: c.text, tokenIds: c.tokenIds };
        }
        if (r.done && r.result) {
          const x = r.result;
          const stats: GenerationStats = {
            promptTokens: x.promptTokens,
            generatedTokens: x.generatedTokens,
            ttftMs: first >= 0 ? first - this.t0 : 0,
            prefillTokensPerS: x.prefillTokensPerS,
            decodeTokensPerS: x.decodeTokensPerS,
            totalMs: now() - this.t0,
            finishReason: x.finishReason === 'stop' ? 'stop' : 'length',
            backend: this.ctx.backend(),
            seed,
            meanBatch: x.meanBatch,
          };
          finished = true;
          if (pieces) this.cache!.save({ pieces, promptTokens: x.promptTokens, finishReason: stats.finishReason, seed });
          this.end(stats, null);
          yield { done: true, text: '', tokenIds: [], stats };
          return;
        }
      }
    } catch (e) {
      const err = this.controller.signal.aborted ? abortError(this.controller.signal.reason) : this.ctx.mapError(e);
      this.end(null, err);
      throw err;
    } finally {
      // Leaving the loop early (break / return / throw in the body) cancels the request.
      if (!finished && !this.ended) {
        this.abort();
        this.end(null, abortError('the consumer stopped reading'));
      }
    }
  }
}
