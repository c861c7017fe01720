/**
 * One cached answer as it is stored, and the check that a stored value really is one.
 *
 * A record carries the answer as the chunks the caller saw (text pieces with their token counts, so a
 * hit streams the same chunks), the generation facts reported again on a hit (prompt tokens, finish
 * reason, seed), the original input (reported as the "original prompt" of a semantic hit), and for
 * semantic matching the normalised embedding with the id of the embedder that made it.
 *
 * `isResultRecord` rejects anything malformed (wrong version, missing fields, inconsistent token
 * counts, non-finite vector values): the cache drops such a record and recomputes the answer.
 */
import type { ResultInput } from './result-key.js';

export const RESULT_RECORD_VERSION = 1;

export interface ResultRecord {
  readonly v: typeof RESULT_RECORD_VERSION;
  readonly model: string;
  readonly key: string;
  /** Semantic scope (see result-key.ts); null = exact hits only. */
  readonly scope: string | null;
  readonly embedder: string | null;
  /** L2-normalised embedding of the semantic text; null when none was computed. */
  readonly vector: Float32Array | null;
  readonly input: ResultInput;
  /** Text pieces in the order they were streamed. */
  readonly pieces: readonly string[];
  /** Token count of each piece (same length as `pieces`); they add up to `tokenIds.length`. */
  readonly pieceTokens: readonly number[];
  readonly tokenIds: readonly number[];
  readonly promptTokens: number;
  readonly finishReason: 'stop' | 'length';
  readonly seed: number;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  /** Estimated stored size (see `recordBytes`). */
  readonly bytes: number;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isInput(v: unknown): v is ResultInput {
  const i = v as Record<string, unknown> | null;
  if (typeof i !== 'object' || i === null) return false;
  if (i.kind === 'prompt') return isStr(i.prompt);
  if (i.kind === 'tokens') return Array.isArray(i.tokens) && i.tokens.every(isCount);
  if (i.kind === 'messages') {
    return Array.isArray(i.messages) && i.messages.every((m) => typeof m === 'object' && m !== null && isStr((m as { role?: unknown }).role) && isStr((m as { content?: unknown }).content));
  }
  return false;
}

/** True when `v` is a well-formed record of this version (see the module comment). */
export function isResultRecord(v: unknown): v is ResultRecord {
  const r = v as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || r.v !== RESULT_RECORD_VERSION) return false;
  if (!isStr(r.model) || !isStr(r.key) || !(r.scope === null || isStr(r.scope)) || !(r.embedder === null || isStr(r.embedder))) return false;
  if (!isInput(r.input)) return false;
  const pieces = r.pieces, counts = r.pieceTokens, ids = r.tokenIds;
  if (!Array.isArray(pieces) || !pieces.every(isStr) || !Array.isArray(counts) || counts.length !== pieces.length || !counts.every(isCount)) return false;
  if (!Array.isArray(ids) || !ids.every(isCount) || counts.reduce((a: number, b: number) => a + b, 0) !== ids.length) return false;
  if (!isCount(r.promptTokens) || !(r.finishReason === 'stop' || r.finishReason === 'length') || !Number.isSafeInteger(r.seed)) return false;
  if (!isTime(r.createdAt) || !isTime(r.lastUsedAt) || !isCount(r.bytes)) return false;
  if (r.vector !== null) {
    if (!(r.vector instanceof Float32Array) || r.vector.length === 0 || r.embedder === null || r.scope === null) return false;
    for (let i = 0; i < r.vector.length; i++) if (!Number.isFinite(r.vector[i])) return false;
  }
  return true;
}

function inputChars(i: ResultInput): number {
  if (i.kind === 'prompt') return i.prompt.length;
  if (i.kind === 'tokens') return i.tokens.length * 4;
  return i.messages.reduce((n, m) => n + m.role.length + m.content.length + 16, 0);
}

/**
 * Approximate stored size in bytes: strings at 2 bytes per UTF-16 unit, numbers at 8 (token ids at
 * 4 as a compact estimate), the vector at 4 per float, plus a fixed 256 for keys and structure.
 * Used for the `maxBytes` limit; IndexedDB's own overhead is not counted.
 */
export function recordBytes(r: Omit<ResultRecord, 'bytes'>): number {
  const text = r.pieces.reduce((n, p) => n + p.length, 0);
  return 256 + 2 * (text + inputChars(r.input) + r.key.length + r.model.length + (r.scope?.length ?? 0) + (r.embedder?.length ?? 0)) + 4 * r.tokenIds.length + 8 * r.pieceTokens.length + 4 * (r.vector?.length ?? 0);
}
