/** Pure token layout / chunking of the WebGPU backend (no GPU needed). */
import { describe, expect, it } from 'vitest';
import { chunkTokens, layoutTokens } from '../src/backends/webgpu/batch.js';
import { isBitNetError } from '../src/errors.js';

const seqs = new Map([[1, { slot: 0, length: 3 }], [2, { slot: 1, length: 0 }]]);
const lookup = (s: number): { slot: number; length: number } => {
  const v = seqs.get(s);
  if (!v) throw new Error(`unknown ${s}`);
  return v;
};

describe('layoutTokens / chunkTokens', () => {
  it('positions continue per sequence across items', () => {
    const t = layoutTokens([{ seq: 1, tokens: [5, 6] }, { seq: 2, tokens: [7] }, { seq: 1, tokens: [8] }], lookup, 10, 16, 'last');
    expect(t.map((x) => [x.seq, x.slot, x.pos, x.item, x.last])).toEqual([
      [1, 0, 3, 0, false], [1, 0, 4, 0, true], [2, 1, 0, 1, true], [1, 0, 5, 2, true],
    ]);
  });

  it('rejects bad tokens and overflow', () => {
    const code = (f: () => unknown): string | undefined => {
      try { f(); } catch (e) { return isBitNetError(e) ? e.code : String(e); }
      return undefined;
    };
    expect(code(() => layoutTokens([{ seq: 1, tokens: [10] }], lookup, 10, 16, 'last'))).toBe('BAD_INPUT');
    expect(code(() => layoutTokens([{ seq: 2, tokens: [] }], lookup, 10, 16, 'last'))).toBe('BAD_INPUT');
    expect(code(() => layoutTokens([{ seq: 1, tokens: [1, 2] }, { seq: 1, tokens: new Array(12).fill(1) }], lookup, 10, 16, 'all'))).toBe('CONTEXT_OVERFLOW');
  });

  it('chunks by maxBatch and by output rows', () => {
    const t = layoutTokens([{ seq: 2, tokens: [1, 2, 3, 4, 5] }, { seq: 1, tokens: [6] }], lookup, 10, 16, 'last');
    expect(chunkTokens(t, 'last', 4, 4).map((c) => [c.chunk.length, c.outIdx])).toEqual([[4, []], [2, [0, 1]]]);
    expect(chunkTokens(t, 'all', 4, 3).map((c) => [c.chunk.length, c.outIdx])).toEqual([[3, [0, 1, 2]], [3, [0, 1, 2]]]);
    expect(chunkTokens(t, 'sample', 8, 1).map((c) => [c.chunk.length, c.outIdx])).toEqual([[5, [4]], [1, [0]]]);
  });
});
