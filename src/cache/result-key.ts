/**
 * What the result cache keys an answer on, and which requests it may answer at all.
 *
 * - **Exact key**: sha256 over (format version, model identity, the normalised input, the canonical
 *   generation parameters). Two requests with the same exact key get the same answer.
 * - **Semantic scope**: sha256 over (model identity, input kind, the conversation before the last
 *   user message, canonical parameters, embedder id). A semantic hit is only searched among entries
 *   of the same scope, so a paraphrase never crosses models, parameters, embedders or conversations.
 * - **Semantic text**: what gets embedded: the prompt, or the last message of a chat when it is the
 *   user's; token-id prompts have none (exact hits only).
 *
 * Text normalisation (prompts and message contents): Unicode NFC, CRLF / CR → LF, every run of
 * spaces / tabs / no-break spaces → one space, spaces around line breaks dropped, both ends trimmed.
 * Prompts that differ only in these ways share an entry. Token-id prompts are keyed as given.
 *
 * Canonical parameters: sampler defaults filled in; under greedy decoding (temperature 0) the seed,
 * top-k, top-p and min-p are dropped (they cannot change the output) and so is repetitionLastN when
 * the penalty is off. Stop strings and stop tokens are sorted and de-duplicated. `maxContext` (the
 * positions the engine uses) is part of the key because it can end a generation early.
 */
import { DEFAULT_SAMPLING, type SamplingOptions } from '../runtime/sampler.js';
import { sha256Hex } from './sha256.js';

/** Bumped when the key derivation changes: old entries then simply stop matching. */
export const RESULT_KEY_VERSION = 1;

export interface ResultMessage {
  readonly role: string;
  readonly content: string;
}

/** A request's input as the cache sees it (before normalisation: this is what is kept as the "original prompt"). */
export type ResultInput =
  | { readonly kind: 'prompt'; readonly prompt: string }
  | { readonly kind: 'tokens'; readonly tokens: readonly number[] }
  | { readonly kind: 'messages'; readonly messages: readonly ResultMessage[] };

/** The generation parameters of a request, as validated by the API. */
export interface ResultParams extends SamplingOptions {
  readonly maxTokens: number;
  readonly stop?: readonly string[];
  readonly stopTokens?: readonly number[];
  readonly addBos?: boolean;
  /** Positions per sequence the engine uses. */
  readonly maxContext: number;
}

/** A request prepared for the cache: its keys and, once computed, its embedding. */
export interface ResultQuery {
  readonly model: string;
  readonly key: string;
  /** Semantic scope; null when the request cannot be matched semantically. */
  readonly scope: string | null;
  /** Text to embed for semantic matching; null for token prompts and chats not ending with a user message. */
  readonly semanticText: string | null;
  readonly embedderId: string | null;
  readonly input: ResultInput;
  /** Filled by the cache when it embeds `semanticText` (reused when the answer is stored). */
  vector: Float32Array | null;
}

/** The normalisation described in the module comment. */
export function normalizeText(s: string): string {
  return s
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .trim();
}

/**
 * True when the request's output is reproducible: greedy decoding (temperature 0) or a fixed seed.
 * Only such requests are cached unless the caller opts in to caching sampled answers.
 */
export function isDeterministic(p: Pick<SamplingOptions, 'temperature' | 'seed'>): boolean {
  const t = p.temperature ?? DEFAULT_SAMPLING.temperature;
  return t === 0 || p.seed !== undefined;
}

const sortedUnique = <T extends string | number>(xs: readonly T[] | undefined): T[] => [...new Set(xs ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The canonical parameter object (see the module comment); `seed` is null for unseeded sampling. */
export function canonicalParams(p: ResultParams): Record<string, unknown> {
  const temperature = p.temperature ?? DEFAULT_SAMPLING.temperature;
  const repetitionPenalty = p.repetitionPenalty ?? DEFAULT_SAMPLING.repetitionPenalty;
  const out: Record<string, unknown> = {
    maxTokens: p.maxTokens,
    maxContext: p.maxContext,
    stop: sortedUnique(p.stop),
    stopTokens: sortedUnique(p.stopTokens),
    addBos: p.addBos ?? null,
    temperature,
    repetitionPenalty,
  };
  if (repetitionPenalty !== 1) out.repetitionLastN = p.repetitionLastN ?? DEFAULT_SAMPLING.repetitionLastN;
  if (temperature !== 0) {
    out.topK = p.topK ?? DEFAULT_SAMPLING.topK;
    out.topP = p.topP ?? DEFAULT_SAMPLING.topP;
    out.minP = p.minP ?? DEFAULT_SAMPLING.minP;
    out.seed = p.seed ?? null;
  }
  return out;
}

function normalizedInput(input: ResultInput): unknown {
  switch (input.kind) {
    case 'prompt':
      return ['prompt', normalizeText(input.prompt)];
    case 'tokens':
      return ['tokens', [...input.tokens]];
    case 'messages':
      return ['messages', input.messages.map((m) => [m.role, normalizeText(m.content)])];
  }
}

/** The text a semantic lookup embeds, and the part of the input that must match exactly around it. */
function semanticParts(input: ResultInput): { text: string; context: unknown } | null {
  if (input.kind === 'prompt') return { text: normalizeText(input.prompt), context: null };
  if (input.kind === 'messages') {
    const last = input.messages.at(-1);
    if (!last || last.role !== 'user') return null;
    return { text: normalizeText(last.content), context: input.messages.slice(0, -1).map((m) => [m.role, normalizeText(m.content)]) };
  }
  return null;
}

/**
 * Computes the keys of a request for the cache of model `model` (its identity string). `embedderId`
 * null = no semantic matching (the query gets no scope).
 */
export async function prepareQuery(model: string, input: ResultInput, params: ResultParams, embedderId: string | null): Promise<ResultQuery> {
  const canon = canonicalParams(params);
  const key = await sha256Hex(new TextEncoder().encode(JSON.stringify([RESULT_KEY_VERSION, model, normalizedInput(input), canon])));
  const sem = embedderId === null ? null : semanticParts(input);
  const scope =
    sem === null || sem.text.length === 0
      ? null
      : await sha256Hex(new TextEncoder().encode(JSON.stringify([RESULT_KEY_VERSION, 'scope', model, input.kind, sem.context, canon, embedderId])));
  return { model, key, scope, semanticText: scope === null ? null : sem!.text, embedderId: scope === null ? null : embedderId, input, vector: null };
}

/** The prompt text shown for an entry: the prompt, or a chat's last message; null for token prompts. */
export function displayPrompt(input: ResultInput): string | null {
  if (input.kind === 'prompt') return input.prompt;
  if (input.kind === 'messages') return input.messages.at(-1)?.content ?? null;
  return null;
}
