/**
 * Token layout of one backend call: validation (nothing is modified on failure), positions per
 * sequence (several items may extend the same sequence in order), and the split into submitted
 * chunks of at most `maxBatch` tokens and `maxOut` logits rows.
 */
import type { ForwardItem } from '../backend.js';
import { BitNetError } from '../../errors.js';

export type Mode = 'last' | 'all' | 'hidden' | 'sample';

export interface Tok {
  readonly seq: number;
  readonly slot: number;
  readonly pos: number;
  readonly token: number;
  /** Index of the item it belongs to. */
  readonly item: number;
  /** Last token of its item. */
  readonly last: boolean;
}

/**
 * @throws BitNetError BAD_INPUT (unknown sequence via `lookup`, token outside the vocabulary, no
 *   tokens with output 'last'), CONTEXT_OVERFLOW (a sequence would exceed maxContext).
 */
export function layoutTokens(
  items: readonly ForwardItem[],
  lookup: (seq: number) => { readonly slot: number; readonly length: number },
  vocab: number,
  maxContext: number,
  mode: 'last' | 'all' | 'hidden',
): Tok[] {
  const adding = new Map<number, number>();
  const toks: Tok[] = [];
  items.forEach((it, item) => {
    const s = lookup(it.seq);
    const n = it.tokens.length;
    if (n === 0 && mode === 'last') throw new BitNetError('BAD_INPUT', `sequence ${it.seq}: no tokens (output 'last' needs at least one)`);
    const start = s.length + (adding.get(it.seq) ?? 0);
    if (start + n > maxContext) {
      throw new BitNetError('CONTEXT_OVERFLOW', `sequence ${it.seq} would hold ${start + n} positions, limit is ${maxContext}`, { details: { seq: it.seq, length: s.length, adding: start + n - s.length, maxContext } });
    }
    for (let i = 0; i < n; i++) {
      const t = it.tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new BitNetError('BAD_INPUT', `token id ${t} is outside the vocabulary [0, ${vocab})`, { details: { seq: it.seq, index: i, token: t } });
      toks.push({ seq: it.seq, slot: s.slot, pos: start + i, token: t, item, last: i === n - 1 });
    }
    adding.set(it.seq, start + n - s.length);
  });
  return toks;
}

/** Chunks in order; `outIdx` = indices within the chunk whose outputs are read (or sampled). */
export function chunkTokens(toks: readonly Tok[], mode: Mode, maxBatch: number, maxOut: number): Array<{ chunk: Tok[]; outIdx: number[] }> {
  const perToken = mode === 'all' || mode === 'hidden';
  const outCap = mode === 'hidden' ? maxBatch : maxOut;
  const chunks: Array<{ chunk: Tok[]; outIdx: number[] }> = [];
  for (let i = 0; i < toks.length; ) {
    const chunk: Tok[] = [];
    const outIdx: number[] = [];
    while (i < toks.length && chunk.length < maxBatch) {
      const t = toks[i]!;
      const out = perToken || t.last;
      if (out && outIdx.length + 1 > outCap) break;
      if (out) outIdx.push(chunk.length);
      chunk.push(t);
      i++;
    }
    chunks.push({ chunk, outIdx });
  }
  return chunks;
}
