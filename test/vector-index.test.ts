import { describe, expect, it } from 'vitest';
import { VectorIndex, xorshift32 as rng } from '../src/cache/vector-index.js';

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Anisotropic vectors like model embeddings: a large shared direction plus per-vector noise. */
function anisotropic(n: number, d: number, seed: number): Float32Array[] {
  const r = rng(seed);
  const common = Float32Array.from({ length: d }, () => gauss(r));
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, (_, j) => 3 * common[j]! + gauss(r)));
}

function cos(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('VectorIndex', () => {
  it('finds the most similar vector with its cosine, exactly, on the brute-force path', () => {
    const vs = anisotropic(200, 32, 1);
    const idx = new VectorIndex(32);
    vs.forEach((v, i) => idx.add(`v${i}`, v));
    expect(idx.size).toBe(200);
    expect(idx.approximate).toBe(false);
    const q = anisotropic(1, 32, 99)[0]!;
    let best = -2, at = -1;
    vs.forEach((v, i) => {
      const c = cos(v, q);
      if (c > best) [best, at] = [c, i];
    });
    const m = idx.search(q)!;
    expect(m.id).toBe(`v${at}`);
    expect(m.score).toBeCloseTo(best, 5);
    // A stored vector finds itself with similarity 1.
    expect(idx.search(vs[17]!)).toMatchObject({ id: 'v17' });
    expect(idx.search(vs[17]!)!.score).toBeCloseTo(1, 5);
  });

  it('remove and replace keep every other id findable', () => {
    const vs = anisotropic(50, 16, 2);
    const idx = new VectorIndex(16);
    vs.forEach((v, i) => idx.add(`v${i}`, v));
    expect(idx.remove('v3')).toBe(true);
    expect(idx.remove('v3')).toBe(false);
    expect(idx.has('v3')).toBe(false);
    expect(idx.size).toBe(49);
    for (let i = 0; i < 50; i++) if (i !== 3) expect(idx.search(vs[i]!)!.id).toBe(`v${i}`);
    expect(idx.search(vs[3]!)!.id).not.toBe('v3');
    idx.add('v10', vs[3]!); // replace: v10 now holds v3's vector
    expect(idx.size).toBe(49);
    expect(idx.search(vs[3]!)!.id).toBe('v10');
  });

  it('rejects wrong lengths and ignores zero vectors', () => {
    const idx = new VectorIndex(8);
    expect(() => idx.add('a', new Float32Array(7))).toThrow(RangeError);
    expect(idx.add('z', new Float32Array(8))).toBe(false);
    expect(idx.search(new Float32Array(8).fill(1))).toBeNull();
    expect(() => idx.search(new Float32Array(9))).toThrow(RangeError);
  });

  it('the approximate path returns the exact top-1 for near-duplicate queries (anisotropic data)', () => {
    const d = 64;
    const vs = anisotropic(1500, d, 3);
    // A small budget forces the signature pre-filter at this size.
    const idx = new VectorIndex(d, { exactScanBudget: 10_000 });
    vs.forEach((v, i) => idx.add(`v${i}`, v));
    expect(idx.approximate).toBe(true);
    const r = rng(7);
    let agree = 0;
    const trials = 100;
    for (let t = 0; t < trials; t++) {
      const src = vs[Math.floor(r() * vs.length)]!;
      // A paraphrase-like query: the stored vector plus noise (cosine to it about 0.97).
      const q = Float32Array.from(src, (x) => x + 0.25 * gauss(r));
      const exact = idx.searchExact(q)!;
      const approx = idx.search(q)!;
      if (approx.id === exact.id) agree++;
      // Never a wrong score for the id it returns.
      expect(approx.score).toBeCloseTo(cos(q, vs[Number(approx.id.slice(1))]!), 4);
    }
    expect(agree / trials).toBeGreaterThanOrEqual(0.97);
  });

  it('keeps signatures valid across removals and growth past a rebuild', () => {
    const d = 32;
    const vs = anisotropic(600, d, 4);
    const idx = new VectorIndex(d, { exactScanBudget: 2_000 });
    vs.slice(0, 150).forEach((v, i) => idx.add(`v${i}`, v));
    for (let i = 0; i < 150; i += 3) idx.remove(`v${i}`);
    vs.slice(150).forEach((v, i) => idx.add(`v${i + 150}`, v)); // doubles: signatures rebuilt
    for (let i = 1; i < 600; i += 13) if (i < 150 ? i % 3 !== 0 : true) expect(idx.search(vs[i]!)!.id).toBe(`v${i}`);
  });
});
