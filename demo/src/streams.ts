/**
 * Adapts the engine's two streaming APIs (`engine.generate` for plain completion, and
 * `engine.chat.completions.create({ stream: true })` for chat models) to one event shape the views
 * render, and records tokens / statistics in the metrics tracker on the way.
 */
import type { ChatCompletionMessageParam, Engine, GenerationStats } from 'bitnet-web';
import { cacheHitOf, type CacheHit } from './cache-hit.js';

export interface DemoChunk {
  readonly text: string;
  /** Tokens this chunk carries (chat streams: 1 per non-empty chunk, an estimate). */
  readonly tokens: number;
}

export interface DemoEnd {
  readonly stats: GenerationStats | null;
  readonly hit: CacheHit | null;
  /** Usage of chat streams (prompt / completion tokens). */
  readonly completionTokens: number | null;
  readonly ttftMs: number | null;
  readonly finishReason: string | null;
}

export interface DemoStream {
  readonly chunks: AsyncIterable<DemoChunk>;
  /** Resolves when `chunks` is exhausted. */
  readonly end: Promise<DemoEnd>;
  abort(): void;
}

export interface SamplingSettings {
  readonly maxTokens: number;
  readonly temperature: number;
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => ((resolve = a), (reject = b)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Plain completion of `prompt`. */
export function completionStream(engine: Engine, prompt: string, s: SamplingSettings): DemoStream {
  const ctrl = new AbortController();
  const gen = engine.generate(prompt, { maxTokens: s.maxTokens, temperature: s.temperature, signal: ctrl.signal });
  const end = deferred<DemoEnd>();
  async function* chunks(): AsyncGenerator<DemoChunk> {
    try {
      for await (const e of gen) {
        if (e.done) {
          end.resolve({ stats: e.stats, hit: cacheHitOf(e, e.stats), completionTokens: e.stats.generatedTokens, ttftMs: e.stats.ttftMs, finishReason: e.stats.finishReason });
        } else yield { text: e.text, tokens: e.tokenIds.length };
      }
    } catch (err) {
      end.reject(err);
      throw err;
    }
  }
  return { chunks: chunks(), end: end.promise, abort: () => ctrl.abort(new DOMException('stopped by the user', 'AbortError')) };
}

/** Chat completion over the conversation so far (models with a chat format). */
export function chatStream(engine: Engine, messages: readonly ChatCompletionMessageParam[], s: SamplingSettings): DemoStream {
  const ctrl = new AbortController();
  const end = deferred<DemoEnd>();
  const t0 = performance.now();
  async function* chunks(): AsyncGenerator<DemoChunk> {
    let ttft: number | null = null;
    let finish: string | null = null;
    let hit: CacheHit | null = null;
    let completion: number | null = null;
    try {
      const stream = await engine.chat.completions.create({ messages, stream: true, max_tokens: s.maxTokens, temperature: s.temperature, signal: ctrl.signal });
      for await (const c of stream) {
        hit ??= cacheHitOf(c);
        const choice = c.choices[0];
        if (c.usage) completion = c.usage.completion_tokens;
        if (choice?.finish_reason) finish = choice.finish_reason;
        const text = choice?.delta.content ?? '';
        if (text.length > 0) {
          ttft ??= performance.now() - t0;
          yield { text, tokens: 1 };
        }
      }
      end.resolve({ stats: null, hit, completionTokens: completion, ttftMs: ttft, finishReason: finish });
    } catch (err) {
      end.reject(err);
      throw err;
    }
  }
  return { chunks: chunks(), end: end.promise, abort: () => ctrl.abort(new DOMException('stopped by the user', 'AbortError')) };
}

/** A stream of given text pieces (used by the page's test hook to exercise the output renderer). */
export function scriptedStream(pieces: readonly string[], delayMs = 5): DemoStream {
  let aborted = false;
  const end = deferred<DemoEnd>();
  async function* chunks(): AsyncGenerator<DemoChunk> {
    for (const p of pieces) {
      if (aborted) break;
      await new Promise((r) => setTimeout(r, delayMs));
      yield { text: p, tokens: 1 };
    }
    end.resolve({ stats: null, hit: null, completionTokens: pieces.length, ttftMs: null, finishReason: 'stop' });
  }
  return { chunks: chunks(), end: end.promise, abort: () => (aborted = true) };
}
