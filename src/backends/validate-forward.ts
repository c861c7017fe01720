/**
 * Input checks every backend runs before a forward pass touches any KV cache, so a rejected call
 * appends nothing.
 */
import { BitNetError } from '../errors.js';
import type { ForwardItem } from './backend.js';

/**
 * @param lengthOf current cached length of a sequence; throws BAD_INPUT for unknown ids.
 * @throws BitNetError BAD_INPUT (empty item with output 'last', token id outside the vocabulary),
 *   CONTEXT_OVERFLOW (items of one sequence together would exceed maxContext).
 */
export function validateForwardItems(
  items: readonly ForwardItem[], mode: 'last' | 'all' | 'hidden', vocab: number, maxContext: number, lengthOf: (seq: number) => number,
): void {
  const adding = new Map<number, number>();
  for (const it of items) {
    const length = lengthOf(it.seq);
    const n = it.tokens.length;
    if (n === 0 && mode === 'last') throw new BitNetError('BAD_INPUT', `sequence ${it.seq}: no tokens (output 'last' needs at least one)`);
    for (let i = 0; i < n; i++) {
      const t = it.tokens[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= vocab) {
        throw new BitNetError('BAD_INPUT', `token id ${t} is outside the vocabulary [0, ${vocab})`, { details: { seq: it.seq, index: i, token: t } });
      }
    }
    const total = (adding.get(it.seq) ?? 0) + n;
    adding.set(it.seq, total);
    if (length + total > maxContext) {
      throw new BitNetError('CONTEXT_OVERFLOW', `sequence ${it.seq} would hold ${length + total} positions, limit is ${maxContext}`, {
        details: { seq: it.seq, length, adding: total, maxContext },
      });
    }
  }
}
