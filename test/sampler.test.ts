import { describe, expect, it } from 'vitest';
import { createRng, xoshiro128ss } from '../src/runtime/rng.js';
import { Sampler, applyRepetitionPenalty, argmax, candidateDistribution, resolveSamplingOptions } from '../src/runtime/sampler.js';
import { isBitNetError } from '../src/errors.js';

function badOption(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isBitNetError(e, 'BAD_OPTION')) return e.details?.['option'] as string;
    throw e;
  }
  return undefined;
}

describe('rng', () => {
  it('xoshiro128** matches the reference C implementation', () => {
    // Reference values from the authors' xoshiro128starstar.c with state {1, 2, 3, 4}.
    const r = xoshiro128ss(Uint32Array.of(1, 2, 3, 4));
    expect([r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492,
    ]);
  });

  it('same seed → same stream; different seeds differ; floats in [0, 1)', () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const sa = Array.from({ length: 100 }, () => a.nextFloat());
    const sb = Array.from({ length: 100 }, () => b.nextFloat());
    const sc = Array.from({ length: 100 }, () => c.nextFloat());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const v of sa) expect(v >= 0 && v < 1).toBe(true);
    expect(createRng(2 ** 40).nextU32()).not.toBe(createRng(0).nextU32());
    expect(badOption(() => createRng(1.5))).toBe('seed');
  });
});

describe('sampler', () => {
  const logits = Float32Array.of(1, 3, 2, 0.5, 3);

  it('temperature 0 is greedy with lowest-id tie break and ignores the seed', () => {
    expect(argmax(logits)).toBe(1);
    for (const seed of [1, 2, 3]) expect(new Sampler({ temperature: 0, seed }).sample(logits)).toBe(1);
  });

  it('same seed → same token sequence', () => {
    const l = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i) * 3);
    const run = (seed: number): number[] => {
      const s = new Sampler({ temperature: 1.2, topK: 0, topP: 1, seed });
      return Array.from({ length: 40 }, () => s.sample(l));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('top-k keeps the k best (ties → lower id)', () => {
    const d = candidateDistribution(logits, { temperature: 1, topK: 2, topP: 1, minP: 0 });
    expect(d.ids).toEqual([1, 4]);
    expect(d.probs[0]).toBeCloseTo(0.5, 12);
    const s = new Sampler({ temperature: 1, topK: 2, topP: 1, seed: 3 });
    const seen = new Set(Array.from({ length: 200 }, () => s.sample(logits)));
    expect([...seen].sort()).toEqual([1, 4]);
    expect(candidateDistribution(logits, { temperature: 1, topK: 1, topP: 1, minP: 0 }).ids).toEqual([1]);
  });

  it('top-p keeps the smallest prefix reaching the mass', () => {
    // probabilities 0.5, 0.25, 0.125, 0.125
    const l = Float32Array.of(Math.log(0.125), Math.log(0.5), Math.log(0.125), Math.log(0.25));
    const at = (p: number): number[] => candidateDistribution(l, { temperature: 1, topK: 0, topP: p, minP: 0 }).ids;
    expect(at(0.5)).toEqual([1]);
    expect(at(0.6)).toEqual([1, 3]);
    expect(at(0.75)).toEqual([1, 3]);
    expect(at(0.8)).toEqual([1, 3, 0]);
    expect(at(1)).toEqual([1, 3, 0, 2]);
    const d = candidateDistribution(l, { temperature: 1, topK: 0, topP: 0.75, minP: 0 });
    expect(d.probs[0]).toBeCloseTo(2 / 3, 6);
    expect(d.probs[1]).toBeCloseTo(1 / 3, 6);
  });

  it('min-p drops candidates below minP × top probability; temperature sharpens', () => {
    const l = Float32Array.of(Math.log(0.125), Math.log(0.5), Math.log(0.125), Math.log(0.25));
    expect(candidateDistribution(l, { temperature: 1, topK: 0, topP: 1, minP: 0.3 }).ids).toEqual([1, 3]);
    const hot = candidateDistribution(l, { temperature: 0.5, topK: 0, topP: 1, minP: 0 });
    // p ∝ p_orig² → 0.25, 0.0625, ... normalized
    expect(hot.probs[0]).toBeCloseTo(0.25 / (0.25 + 0.0625 + 2 * 0.015625), 6);
  });

  it('sampling frequencies follow the distribution', () => {
    const l = Float32Array.of(Math.log(0.7), Math.log(0.2), Math.log(0.1));
    const s = new Sampler({ temperature: 1, topK: 0, topP: 1, seed: 99 });
    const counts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[s.sample(l)]!++;
    expect(counts[0]! / 4000).toBeCloseTo(0.7, 1);
    expect(counts[1]! / 4000).toBeCloseTo(0.2, 1);
    expect(counts[2]! / 4000).toBeCloseTo(0.1, 1);
  });

  it('repetition penalty divides positive and multiplies negative logits over the last N', () => {
    const l = Float32Array.of(2, -1, 4, 1);
    applyRepetitionPenalty(l, [0, 1, 1, 3], 2, 3);
    // last 3 = [1, 1, 3] → ids 1 and 3 penalized once; id 0 is outside the window.
    expect(Array.from(l)).toEqual([2, -2, 4, 0.5]);
    const g = new Sampler({ temperature: 0, repetitionPenalty: 3 });
    expect(g.sample(Float32Array.of(3, 2, 0), [0])).toBe(1); // 3/3 = 1 < 2
    expect(g.sample(Float32Array.of(3, 2, 0), [])).toBe(0);
    const input = Float32Array.of(3, 2, 0);
    g.sample(input, [0]);
    expect(Array.from(input)).toEqual([3, 2, 0]); // caller's logits untouched
    const off = new Sampler({ temperature: 0, repetitionPenalty: 3, repetitionLastN: 0 });
    expect(off.sample(Float32Array.of(3, 2, 0), [0])).toBe(0);
  });

  it('validates options and names the bad one', () => {
    expect(badOption(() => resolveSamplingOptions({ temperature: -1 }))).toBe('temperature');
    expect(badOption(() => resolveSamplingOptions({ temperature: NaN }))).toBe('temperature');
    expect(badOption(() => resolveSamplingOptions({ topK: 1.5 }))).toBe('topK');
    expect(badOption(() => resolveSamplingOptions({ topK: -1 }))).toBe('topK');
    expect(badOption(() => resolveSamplingOptions({ topP: 0 }))).toBe('topP');
    expect(badOption(() => resolveSamplingOptions({ topP: 1.1 }))).toBe('topP');
    expect(badOption(() => resolveSamplingOptions({ minP: 1 }))).toBe('minP');
    expect(badOption(() => resolveSamplingOptions({ repetitionPenalty: 0 }))).toBe('repetitionPenalty');
    expect(badOption(() => resolveSamplingOptions({ repetitionLastN: -2 }))).toBe('repetitionLastN');
    expect(badOption(() => resolveSamplingOptions({ seed: 0.5 }))).toBe('seed');
    expect(badOption(() => new Sampler({ topP: -3 }))).toBe('topP');
    const r = resolveSamplingOptions({});
    expect(r).toMatchObject({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0, repetitionPenalty: 1 });
    expect(Number.isSafeInteger(r.seed)).toBe(true);
  });
});
