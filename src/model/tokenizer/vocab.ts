/**
 * Reading the `tokenizer.ggml.*` metadata (FORMATS §6.1) into a validated vocabulary. Every
 * malformed or missing required value is a `BitNetError('BAD_TOKENIZER')`.
 */
import { BitNetError } from '../../errors.js';
import type { GGUFArray, GGUFEntry, GGUFMetadata } from '../gguf-types.js';

/** `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`). */
export const TOKEN_NORMAL = 1;
export const TOKEN_UNKNOWN = 2;
export const TOKEN_CONTROL = 3;
export const TOKEN_USER_DEFINED = 4;
export const TOKEN_UNUSED = 5;
export const TOKEN_BYTE = 6;

export interface Vocab {
  /** Token text by id. */
  readonly tokens: readonly string[];
  /** Token type by id (TOKEN_NORMAL when the file has no `token_type`). */
  readonly types: Uint8Array;
  /** SPM piece scores by id (zeros when the file has no `scores`). */
  readonly scores: Float32Array;
  /** Text → id. When a text occurs twice the later id wins, as in llama.cpp. */
  readonly tokenToId: ReadonlyMap<string, number>;
}

function bad(message: string, key?: string): BitNetError {
  return new BitNetError('BAD_TOKENIZER', message, key ? { details: { key } } : undefined);
}

function isArray(v: GGUFEntry['value']): v is GGUFArray {
  return typeof v === 'object' && v !== null && 'values' in v;
}

export function readString(md: GGUFMetadata, key: string): string | undefined {
  const e = md.get(key);
  if (e === undefined) return undefined;
  if (typeof e.value !== 'string') throw bad(`${key}: expected a string`, key);
  return e.value;
}

export function readBool(md: GGUFMetadata, key: string): boolean | undefined {
  const e = md.get(key);
  if (e === undefined) return undefined;
  if (typeof e.value === 'boolean') return e.value;
  if (typeof e.value === 'number' && (e.value === 0 || e.value === 1)) return e.value === 1;
  throw bad(`${key}: expected a boolean`, key);
}

/** An integer value; bigint values are accepted when they fit in a safe integer. */
export function readInt(md: GGUFMetadata, key: string): number | undefined {
  const e = md.get(key);
  if (e === undefined) return undefined;
  const v = typeof e.value === 'bigint' && e.value <= BigInt(Number.MAX_SAFE_INTEGER) && e.value >= -BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(e.value)
    : e.value;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${key}: expected an integer`, key);
  return v;
}

export function readStringArray(md: GGUFMetadata, key: string): string[] | undefined {
  const e = md.get(key);
  if (e === undefined) return undefined;
  const v = e.value;
  if (!isArray(v) || !Array.isArray(v.values) || v.values.some((x) => typeof x !== 'string')) {
    throw bad(`${key}: expected an array of strings`, key);
  }
  return v.values as string[];
}

export function readNumberArray(md: GGUFMetadata, key: string): ArrayLike<number> | undefined {
  const e = md.get(key);
  if (e === undefined) return undefined;
  const v = e.value;
  if (!isArray(v)) throw bad(`${key}: expected a numeric array`, key);
  const vals = v.values;
  if (vals instanceof BigInt64Array || vals instanceof BigUint64Array) return Array.from(vals, (x) => Number(x));
  if (ArrayBuffer.isView(vals)) return vals as ArrayLike<number>;
  throw bad(`${key}: expected a numeric array`, key);
}

/** Builds and validates the vocabulary (tokens, token types, scores). */
export function readVocab(md: GGUFMetadata): Vocab {
  const tokens = readStringArray(md, 'tokenizer.ggml.tokens');
  if (tokens === undefined) throw bad('tokenizer.ggml.tokens is missing', 'tokenizer.ggml.tokens');
  if (tokens.length === 0) throw bad('tokenizer.ggml.tokens is empty', 'tokenizer.ggml.tokens');
  const n = tokens.length;

  const types = new Uint8Array(n).fill(TOKEN_NORMAL);
  const rawTypes = readNumberArray(md, 'tokenizer.ggml.token_type');
  if (rawTypes !== undefined) {
    if (rawTypes.length !== n) {
      throw bad(`tokenizer.ggml.token_type has ${rawTypes.length} entries for ${n} tokens`, 'tokenizer.ggml.token_type');
    }
    for (let i = 0; i < n; i++) {
      const t = rawTypes[i]!;
      // 0 (undefined) and out-of-range values are read as normal tokens.
      types[i] = t >= TOKEN_NORMAL && t <= TOKEN_BYTE ? t : TOKEN_NORMAL;
    }
  }

  let scores: Float32Array = new Float32Array(n);
  const rawScores = readNumberArray(md, 'tokenizer.ggml.scores');
  if (rawScores !== undefined) {
    if (rawScores.length !== n) {
      throw bad(`tokenizer.ggml.scores has ${rawScores.length} entries for ${n} tokens`, 'tokenizer.ggml.scores');
    }
    scores = rawScores instanceof Float32Array ? rawScores : Float32Array.from(rawScores);
  }

  const tokenToId = new Map<string, number>();
  for (let i = 0; i < n; i++) tokenToId.set(tokens[i]!, i);
  return { tokens, types, scores, tokenToId };
}

/**
 * Reads an optional special-token id. Absent, -1 and 0xFFFFFFFF (the "none" conventions) give
 * undefined; any other value outside [0, vocabSize) is BAD_TOKENIZER.
 */
export function readTokenId(md: GGUFMetadata, key: string, vocabSize: number): number | undefined {
  const id = readInt(md, key);
  if (id === undefined || id === -1 || id === 0xffffffff) return undefined;
  if (id < 0 || id >= vocabSize) throw bad(`${key} = ${id} is outside the vocabulary (0..${vocabSize - 1})`, key);
  return id;
}
