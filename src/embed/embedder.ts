/**
 * The text-embedding contract used by the semantic result cache.
 *
 * Invariants every implementation keeps:
 * - `embed` returns one vector per input text, in order, each of length `dimensions`, L2-normalised
 *   (a zero vector only for an input with no tokens).
 * - `id` names the embedding space: two embedders with the same `id` produce comparable vectors.
 *   The result cache scopes its semantic entries by `id`, so changing embedder never compares
 *   vectors from different spaces.
 * - Errors are `BitNetError`s; an aborted `signal` rejects with `AbortError`.
 */
import { throwIfAborted } from '../errors.js';

export interface Embedder {
  readonly id: string;
  /** Vector length; known after construction (implementations that load lazily resolve it in `ready`). */
  readonly dimensions: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
  dispose?(): Promise<void> | void;
}

/** L2-normalises `v` in place and returns it (a zero vector stays zero). */
export function normalizeInPlace(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= k;
  }
  return v;
}

/**
 * Wraps a single-text embedding function (such as `engine.embed`, the loaded model's mean-pooled final
 * hidden state) as an `Embedder`. `id` must identify the model (e.g. `model:<sha256>`).
 */
export function functionEmbedder(id: string, dimensions: number, fn: (text: string) => Promise<Float32Array>): Embedder {
  return {
    id,
    dimensions,
    async embed(texts, signal) {
      const out: Float32Array[] = [];
      for (const t of texts) {
        throwIfAborted(signal);
        out.push(normalizeInPlace(Float32Array.from(await fn(t))));
      }
      return out;
    },
  };
}
