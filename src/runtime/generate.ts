/**
 * Text generation loop over one Backend sequence: prefill the prompt, then sample / decode one
 * token at a time. Yields `{ text, tokenIds }` chunks as tokens arrive and returns statistics.
 *
 * - Text is produced by the tokenizer's streaming decoder (multi-byte UTF-8 split across tokens is
 *   held until complete) and filtered through a stop-string matcher: text that might start a stop
 *   string is held back, so stop strings never appear in the output, not even partially.
 * - Stop tokens (the tokenizer's `stopIds` plus `stopTokens`) end generation; their text is not
 *   emitted, but their id is reported in the last chunk's `tokenIds` and counted in
 *   `generatedTokens` (token ids always list everything the model produced).
 * - The sequence is freed when the generator finishes, throws, or is closed early by the consumer.
 * - Abort: the signal makes the generator throw an `AbortError` (default), or with
 *   `onAbort: 'finish'` end normally with `finishReason: 'abort'`.
 */
import type { Backend } from '../backends/backend.js';
import { BitNetError, abortError, isAbortError, isBitNetError } from '../errors.js';
import { Sampler, type SamplingOptions } from './sampler.js';
import { StopStringMatcher } from './stop-strings.js';

/** Streaming detokenizer: `push` returns the complete text produced so far by new ids. */
export interface GenerateTextDecoder {
  push(id: number): string;
  /** Releases anything still buffered (e.g. an incomplete UTF-8 sequence). */
  flush(): string;
}

/** What `generate` needs from a tokenizer. */
export interface GenerateTokenizer {
  encode(text: string, options?: { addBos?: boolean; parseSpecial?: boolean }): number[];
  /** `skipSpecial`: control tokens produce no text (generate asks for this). */
  createDecoder(options?: { skipSpecial?: boolean }): GenerateTextDecoder;
  /** Ids that end generation (EOS, EOT, ...). */
  readonly stopIds: ReadonlySet<number> | readonly number[];
}

export interface GenerateOptions extends SamplingOptions {
  /** Text prompt, encoded with the tokenizer. Exactly one of `prompt` / `promptTokens`. */
  readonly prompt?: string;
  readonly promptTokens?: ArrayLike<number>;
  /** Prepend BOS when encoding `prompt` (default: the tokenizer's default, from the GGUF). */
  readonly addBos?: boolean;
  /** Recognize special-token text in `prompt` (default true, as llama.cpp does for prompts). */
  readonly parseSpecial?: boolean;
  /** Maximum tokens to sample (default 128). 0 only runs the prefill. */
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  readonly stopTokens?: readonly number[];
  readonly signal?: AbortSignal;
  /** Called with every chunk before it is yielded. */
  readonly onToken?: (chunk: GenerateChunk) => void;
  /** 'throw' (default): abort throws AbortError. 'finish': end with finishReason 'abort'. */
  readonly onAbort?: 'throw' | 'finish';
}

export interface GenerateChunk {
  /** Newly visible text (may be empty while text is held back). */
  readonly text: string;
  /** Token ids sampled for this chunk (may be empty for a final flush). */
  readonly tokenIds: readonly number[];
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateStats {
  readonly promptTokens: number;
  readonly generatedTokens: number;
  /** Milliseconds from the call to the first sampled token (prefill + first sample). */
  readonly ttftMs: number;
  readonly prefillTokensPerS: number;
  /** Tokens per second after the first token (0 when fewer than two tokens). */
  readonly decodeTokensPerS: number;
  readonly finishReason: FinishReason;
}

export const DEFAULT_MAX_TOKENS = 128;

function bad(option: string, msg: string): BitNetError {
  return new BitNetError('BAD_OPTION', `${option}: ${msg}`, { details: { option } });
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function resolvePrompt(tokenizer: GenerateTokenizer, o: GenerateOptions): number[] {
  if ((o.prompt === undefined) === (o.promptTokens === undefined)) throw bad('prompt', 'give exactly one of prompt / promptTokens');
  const ids = o.prompt !== undefined
    ? tokenizer.encode(o.prompt, { addBos: o.addBos, parseSpecial: o.parseSpecial ?? true })
    : Array.from(o.promptTokens!);
  if (ids.length === 0) throw new BitNetError('BAD_INPUT', 'the prompt has no tokens');
  return ids;
}

function validate(o: GenerateOptions): { maxTokens: number; stops: string[]; stopTokens: number[] } {
  const maxTokens = o.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 0) throw bad('maxTokens', `expected an integer >= 0, got ${String(maxTokens)}`);
  const stops = [...(o.stop ?? [])];
  if (stops.some((s) => typeof s !== 'string' || s.length === 0)) throw bad('stop', 'expected non-empty strings');
  const stopTokens = [...(o.stopTokens ?? [])];
  if (stopTokens.some((t) => !Number.isSafeInteger(t) || t < 0)) throw bad('stopTokens', 'expected non-negative integer ids');
  if (o.onAbort !== undefined && o.onAbort !== 'throw' && o.onAbort !== 'finish') throw bad('onAbort', `expected 'throw' | 'finish'`);
  return { maxTokens, stops, stopTokens };
}

/**
 * Generates text. Validation errors (BAD_OPTION / BAD_INPUT) are thrown on the first `next()`.
 * @returns (as the generator's return value) the statistics.
 */
export async function* generate(backend: Backend, tokenizer: GenerateTokenizer, options: GenerateOptions): AsyncGenerator<GenerateChunk, GenerateStats, undefined> {
  const { maxTokens, stops, stopTokens } = validate(options);
  const sampler = new Sampler(options);
  const prompt = resolvePrompt(tokenizer, options);
  const stopIds = new Set<number>([...tokenizer.stopIds, ...stopTokens]);
  const signal = options.signal;
  const t0 = now();
  let tPrefill = t0, tFirst = t0, tLast = t0;
  let finishReason: FinishReason = 'length';
  const generated: number[] = [];
  const seq = backend.createSequence();

  const stats = (): GenerateStats => {
    const prefillS = (tPrefill - t0) / 1000;
    const decodeS = (tLast - tFirst) / 1000;
    return {
      promptTokens: prompt.length,
      generatedTokens: generated.length,
      ttftMs: generated.length > 0 ? tFirst - t0 : 0,
      prefillTokensPerS: prefillS > 0 ? prompt.length / prefillS : 0,
      decodeTokensPerS: generated.length > 1 && decodeS > 0 ? (generated.length - 1) / decodeS : 0,
      finishReason,
    };
  };
  const emit = (chunk: GenerateChunk): GenerateChunk => {
    options.onToken?.(chunk);
    return chunk;
  };

  const decoder = tokenizer.createDecoder({ skipSpecial: true });
  const matcher = new StopStringMatcher(stops);
  try {
    try {
      if (signal?.aborted) throw abortError(signal.reason);
      let logits = (await backend.forward([{ seq, tokens: prompt }], { signal }))[0]!;
      tPrefill = now();
      const history = prompt.slice();
      while (generated.length < maxTokens) {
        if (signal?.aborted) throw abortError(signal.reason);
        const id = sampler.sample(logits, history);
        tLast = now();
        if (generated.length === 0) tFirst = tLast;
        generated.push(id);
        history.push(id);
        if (stopIds.has(id)) {
          finishReason = 'stop';
          yield emit({ text: matcher.push(decoder.flush()) + matcher.flush(), tokenIds: [id] });
          return stats();
        }
        const text = matcher.push(decoder.push(id));
        if (matcher.stopped) {
          finishReason = 'stop';
          yield emit({ text, tokenIds: [id] });
          return stats();
        }
        yield emit({ text, tokenIds: [id] });
        if (generated.length >= maxTokens) break;
        try {
          logits = (await backend.forward([{ seq, tokens: [id] }], { signal }))[0]!;
        } catch (e) {
          if (isBitNetError(e, 'CONTEXT_OVERFLOW')) break; // context full: end as 'length'
          throw e;
        }
      }
    } catch (e) {
      if (!(isAbortError(e) && options.onAbort === 'finish')) throw e;
      finishReason = 'abort';
    }
    const tail = matcher.push(decoder.flush()) + matcher.flush();
    if (tail.length > 0) yield emit({ text: tail, tokenIds: [] });
    return stats();
  } finally {
    try {
      backend.freeSequence(seq);
    } catch {
      // Cleanup must not mask the real outcome (e.g. the backend was disposed meanwhile).
    }
  }
}

export interface GenerateResult {
  readonly text: string;
  readonly tokenIds: number[];
  readonly promptTokens: number[];
  readonly stats: GenerateStats;
}

/** Runs `generate` to completion and collects the text and token ids. */
export async function generateText(backend: Backend, tokenizer: GenerateTokenizer, options: GenerateOptions): Promise<GenerateResult> {
  const promptTokens = resolvePrompt(tokenizer, options);
  const { prompt: _prompt, ...rest } = options;
  let text = '';
  const tokenIds: number[] = [];
  const it = generate(backend, tokenizer, { ...rest, promptTokens });
  for (;;) {
    const r = await it.next();
    if (r.done) return { text, tokenIds, promptTokens, stats: r.value };
    text += r.value.text;
    tokenIds.push(...r.value.tokenIds);
  }
}
