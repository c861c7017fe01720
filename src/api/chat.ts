/**
 * `engine.chat.completions.create()`: the OpenAI Chat Completions request and response shapes
 * (non-streaming `chat.completion`, streaming `chat.completion.chunk`s, `usage`), on top of
 * `engine.generate`. Messages are rendered with the model's chat format (src/model/tokenizer/chat-template.ts).
 *
 * Supported request fields: messages, model (echoed), stream, stream_options.include_usage,
 * max_tokens / max_completion_tokens, temperature, top_p, stop, seed, n (1 only), user (ignored),
 * plus the non-OpenAI `signal`, `cache` ('off' | 'exact' | 'semantic', default 'exact') and `priority`
 * ('interactive' | 'background'). Anything else is `BAD_OPTION`. A stream's final chunk (the one with
 * `finish_reason`) also carries `usage`; with `include_usage` an OpenAI-style usage-only chunk follows.
 * An answer served by the result cache says so: `cached`, `similarity` and `originalPrompt` /
 * `originalMessages` on the completion object (and its `stats`) or on the final stream chunk.
 */
import { BitNetError } from '../errors.js';
import type { CoreGenerateRequest } from '../worker/protocol.js';
import type { GenerationStats, GenerationStream } from './generation.js';
import { badOption, validateGenerateOptions, validateRequestRouting, type RequestPriority, type ResultCacheMode } from './options.js';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatCompletionMessageParam {
  readonly role: ChatRole;
  readonly content: string | ReadonlyArray<{ readonly type: 'text'; readonly text: string }>;
  readonly name?: string;
}

export interface ChatCompletionCreateParams {
  readonly messages: readonly ChatCompletionMessageParam[];
  readonly model?: string;
  readonly stream?: boolean | null;
  readonly stream_options?: { readonly include_usage?: boolean } | null;
  readonly max_tokens?: number | null;
  readonly max_completion_tokens?: number | null;
  readonly temperature?: number | null;
  readonly top_p?: number | null;
  readonly stop?: string | readonly string[] | null;
  readonly seed?: number | null;
  readonly n?: number | null;
  readonly user?: string;
  readonly signal?: AbortSignal;
  /** bitnet-web: result cache use (default 'exact'; semantic hits only with 'semantic'). */
  readonly cache?: ResultCacheMode;
  /** bitnet-web: scheduling class (default 'interactive'). */
  readonly priority?: RequestPriority;
}

/** bitnet-web extras on an answer the result cache served (absent otherwise). */
export interface ChatCacheInfo {
  readonly cached?: 'exact' | 'semantic';
  /** Cosine similarity to the cached request (1 for exact hits). */
  readonly similarity?: number;
  /** The cached request's last message. */
  readonly originalPrompt?: string;
  readonly originalMessages?: ReadonlyArray<{ readonly role: string; readonly content: string }>;
}

export type ChatFinishReason = 'stop' | 'length';

export interface CompletionUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export interface ChatCompletion extends ChatCacheInfo {
  readonly id: string;
  readonly object: 'chat.completion';
  readonly created: number;
  readonly model: string;
  readonly system_fingerprint: string;
  readonly choices: ReadonlyArray<{
    readonly index: number;
    readonly message: { readonly role: 'assistant'; readonly content: string; readonly refusal: null };
    readonly finish_reason: ChatFinishReason;
    readonly logprobs: null;
  }>;
  readonly usage: CompletionUsage;
  /** bitnet-web extra: generation statistics. */
  readonly stats: GenerationStats;
}

export interface ChatCompletionChunk extends ChatCacheInfo {
  readonly id: string;
  readonly object: 'chat.completion.chunk';
  readonly created: number;
  readonly model: string;
  readonly system_fingerprint: string;
  readonly choices: ReadonlyArray<{
    readonly index: number;
    readonly delta: { readonly role?: 'assistant'; readonly content?: string };
    readonly finish_reason: ChatFinishReason | null;
    readonly logprobs: null;
  }>;
  readonly usage: CompletionUsage | null;
}

/** The streaming result: async-iterable chunks, abortable. */
export interface ChatCompletionStream extends AsyncIterable<ChatCompletionChunk> {
  abort(reason?: unknown): void;
}

const KEYS = ['messages', 'model', 'stream', 'stream_options', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'seed', 'n', 'user', 'signal', 'cache', 'priority'];
const ROLES: readonly string[] = ['system', 'user', 'assistant'];

function messageText(m: ChatCompletionMessageParam, i: number): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content) && m.content.every((p) => typeof p === 'object' && p !== null && p.type === 'text' && typeof p.text === 'string')) {
    return m.content.map((p) => p.text).join('');
  }
  throw new BitNetError('BAD_INPUT', `messages[${i}].content: expected a string or an array of { type: 'text', text } parts`);
}

/** Validates a request and turns it into a core generation request. @throws BAD_OPTION / BAD_INPUT */
export function chatRequest(p: ChatCompletionCreateParams): { request: CoreGenerateRequest; signal?: AbortSignal; stream: boolean; includeUsage: boolean; cache?: ResultCacheMode } {
  if (typeof p !== 'object' || p === null) throw badOption('request', 'expected an object');
  for (const k of Object.keys(p)) if (!KEYS.includes(k)) throw badOption(k, `unsupported chat.completions parameter (supported: ${KEYS.join(', ')})`);
  if (!Array.isArray(p.messages) || p.messages.length === 0) throw new BitNetError('BAD_INPUT', 'messages: expected a non-empty array');
  const messages = p.messages.map((m, i) => {
    if (typeof m !== 'object' || m === null || !ROLES.includes(m.role)) throw new BitNetError('BAD_INPUT', `messages[${i}].role: expected system | user | assistant`);
    return { role: m.role, content: messageText(m, i) };
  });
  if (p.n != null && p.n !== 1) throw badOption('n', 'only n = 1 is supported');
  validateRequestRouting(p.cache, p.priority);
  const maxTokens = p.max_completion_tokens ?? p.max_tokens ?? undefined;
  const stop = p.stop ?? undefined;
  const g = validateGenerateOptions(
    {
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(p.temperature != null ? { temperature: p.temperature } : {}),
      ...(p.top_p != null ? { topP: p.top_p } : {}),
      ...(stop !== undefined ? { stop } : {}),
      ...(p.seed != null ? { seed: p.seed } : {}),
    },
    // No max_tokens: until the model stops or the context is full.
    Number.MAX_SAFE_INTEGER,
  );
  const request: CoreGenerateRequest = {
    messages,
    maxTokens: g.maxTokens,
    stop: g.stop,
    ...(p.temperature != null ? { temperature: p.temperature } : {}),
    ...(p.top_p != null ? { topP: p.top_p } : {}),
    ...(p.seed != null ? { seed: p.seed } : {}),
    ...(p.priority !== undefined ? { priority: p.priority } : {}),
  };
  if (p.stream != null && typeof p.stream !== 'boolean') throw badOption('stream', 'expected a boolean');
  return {
    request,
    ...(p.signal ? { signal: p.signal } : {}),
    ...(p.cache !== undefined ? { cache: p.cache } : {}),
    stream: p.stream === true,
    includeUsage: p.stream_options?.include_usage === true,
  };
}

let counter = 0;
function completionId(): string {
  const rnd = Math.floor(Math.random() * 0x100000000).toString(36);
  return `chatcmpl-${Date.now().toString(36)}${rnd}${(counter++).toString(36)}`;
}

const usageOf = (s: GenerationStats): CompletionUsage => ({ prompt_tokens: s.promptTokens, completion_tokens: s.generatedTokens, total_tokens: s.promptTokens + s.generatedTokens });

/** The cache extras of a result (empty for answers the model computed). */
function cacheInfo(s: GenerationStats): ChatCacheInfo {
  if (!s.cached) return {};
  return {
    cached: s.cached,
    ...(s.similarity !== undefined ? { similarity: s.similarity } : {}),
    ...(typeof s.originalPrompt === 'string' ? { originalPrompt: s.originalPrompt } : {}),
    ...(s.originalMessages ? { originalMessages: s.originalMessages } : {}),
  };
}

/** Runs a non-streaming completion. */
export async function collectCompletion(stream: GenerationStream, model: string): Promise<ChatCompletion> {
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  let content = '';
  let stats: GenerationStats | null = null;
  for await (const e of stream) {
    if (e.done) stats = e.stats;
    else content += e.text;
  }
  const s = stats!;
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: `bitnet-web-${s.backend}`,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: s.finishReason, logprobs: null }],
    usage: usageOf(s),
    stats: s,
    ...cacheInfo(s),
  };
}

/** Wraps a generation stream as OpenAI chunks. */
export function chunkStream(stream: GenerationStream, model: string, backend: () => string, includeUsage: boolean): ChatCompletionStream {
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatFinishReason | null, usage: CompletionUsage | null, choices = true, extra: ChatCacheInfo = {}): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: `bitnet-web-${backend()}`,
    choices: choices ? [{ index: 0, delta, finish_reason: finish, logprobs: null }] : [],
    usage,
    ...extra,
  });
  return {
    abort: (reason?: unknown) => stream.abort(reason),
    async *[Symbol.asyncIterator]() {
      yield chunk({ role: 'assistant', content: '' }, null, null);
      for await (const e of stream) {
        if (!e.done) {
          if (e.text.length > 0) yield chunk({ content: e.text }, null, null);
          continue;
        }
        yield chunk({}, e.stats.finishReason, usageOf(e.stats), true, cacheInfo(e.stats));
        if (includeUsage) yield chunk({}, null, usageOf(e.stats), false);
      }
    },
  };
}
