import { describe, expect, it } from 'vitest';
import {
  quantizeActivations, roundHalfEven, scaleAccumulators, ternaryAccumulate, ternaryAt,
} from '../src/backends/reference/kernels.js';
import type { TernaryMatrix } from '../src/model/tensor.js';
import { isBitNetError } from '../src/errors.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function randomMatrix(rows: number, cols: number, blockScales: boolean, r: () => number): { m: TernaryMatrix; t: Int8Array } {
  const rowBytes = (cols + 3) >> 2;
  const packed = new Uint8Array(rows * rowBytes).fill(0x55); // code 1 (zero) everywhere, padding included
  const t = new Int8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      const v = Math.floor(r() * 3) - 1;
      t[i * cols + c] = v;
      const idx = i * rowBytes + (c >> 2);
      const sh = (c & 3) * 2;
      packed[idx] = (packed[idx]! & ~(3 << sh)) | ((v + 1) << sh);
    }
  }
  const bpr = Math.ceil(cols / 256);
  const m: TernaryMatrix = {
    kind: 'ternary', rows, cols, packed, scale: 0.75,
    blockScales: blockScales ? Float32Array.from({ length: rows * bpr }, () => r() + 0.1) : null,
    scaleBlock: blockScales ? 256 : cols, sourceType: 'test',
  };
  return { m, t };
}

describe('reference kernels', () => {
  it('roundHalfEven rounds ties to even', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });

  it('quantizeActivations: absmax maps to ±127, zero vector stays zero', () => {
    const a = quantizeActivations(Float32Array.from([0.5, -2, 1, 0]));
    expect(Array.from(a.q)).toEqual([32, -127, 64, 0]); // 0.5*63.5 = 31.75 → 32
    expect(a.sum).toBe(32 - 127 + 64);
    const z = quantizeActivations(new Float32Array(8));
    expect(Array.from(z.q)).toEqual(new Array(8).fill(0));
  });

  it.each([[1, 1, false], [3, 5, false], [7, 130, false], [4, 256, true], [5, 300, true], [2, 1000, true]])(
    'ternaryAccumulate matches an element-wise sum (rows=%i cols=%i blockScales=%s)', (rows, cols, blocks) => {
      const r = rng(rows * 1000 + cols);
      const { m, t } = randomMatrix(rows, cols, blocks, r);
      const q = Int8Array.from({ length: cols }, () => Math.floor(r() * 256) - 128);
      const acc = ternaryAccumulate(m, q);
      const bpr = blocks ? Math.ceil(cols / 256) : 1;
      for (let i = 0; i < rows; i++) {
        for (let b = 0; b < bpr; b++) {
          let s = 0;
          const end = blocks ? Math.min(cols, (b + 1) * 256) : cols;
          for (let c = blocks ? b * 256 : 0; c < end; c++) {
            expect(ternaryAt(m, i, c)).toBe(t[i * cols + c]);
            s += t[i * cols + c]! * q[c]!;
          }
          expect(acc[i * bpr + b]).toBe(s);
        }
      }
      const y = scaleAccumulators(m, acc, 2);
      expect(y.length).toBe(rows);
    });

  it('rejects mismatched shapes with SHAPE_MISMATCH', () => {
    const { m } = randomMatrix(2, 8, false, rng(1));
    try {
      ternaryAccumulate(m, new Int8Array(7));
      expect.unreachable();
    } catch (e) {
      expect(isBitNetError(e, 'SHAPE_MISMATCH')).toBe(true);
    }
  });
});
