/**
 * Token sampling from a logits vector.
 *
 * Pipeline (one call of `Sampler.sample`):
 *  1. repetition penalty (llama.cpp style) over the distinct ids among the last `repetitionLastN`
 *     history tokens: a positive logit is divided by the penalty, a non-positive one multiplied;
 *  2. temperature 0 → greedy: the id with the highest (penalized) logit, ties → lowest id; done;
 *  3. temperature scaling (logit / T);
 *  4. top-k: keep the k highest logits (0 = off);
 *  5. top-p (nucleus): keep the smallest prefix of the sorted candidates whose probability mass
 *     reaches `topP` (1 = off);
 *  6. min-p: drop candidates whose probability is below `minP` × the top probability (0 = off);
 *  7. draw from the renormalized distribution with the seeded RNG.
 * Candidates are ordered by logit descending, ties broken by lower id, so a seed always gives the
 * same token for the same logits.
 */
import { BitNetError } from '../errors.js';
import { createRng, randomSeed, type Rng } from './rng.js';

export interface SamplingOptions {
  /** 0 = greedy. Default 0.8. */
  readonly temperature?: number;
  /** Keep the k most likely tokens; 0 = off. Default 40. */
  readonly topK?: number;
  /** Nucleus mass in (0, 1]; 1 = off. Default 0.95. */
  readonly topP?: number;
  /** Relative probability floor in [0, 1); 0 = off. Default 0. */
  readonly minP?: number;
  /** > 0; 1 = off. Default 1. */
  readonly repetitionPenalty?: number;
  /** How many most recent history tokens the penalty looks at; 0 = off. Default 64. */
  readonly repetitionLastN?: number;
  /** Any safe integer; default: random. */
  readonly seed?: number;
}

export interface ResolvedSamplingOptions {
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
  readonly minP: number;
  readonly repetitionPenalty: number;
  readonly repetitionLastN: number;
  readonly seed: number;
}

export const DEFAULT_SAMPLING: Omit<ResolvedSamplingOptions, 'seed'> = {
  temperature: 0.8,
  topK: 40,
  topP: 0.95,
  minP: 0,
  repetitionPenalty: 1,
  repetitionLastN: 64,
};

function badOption(option: string, expected: string, value: unknown): BitNetError {
  return new BitNetError('BAD_OPTION', `${option}: expected ${expected}, got ${String(value)}`, { details: { option } });
}

function pick<T>(v: T | undefined, d: T): T {
  return v === undefined ? d : v;
}

/**
 * Fills defaults and validates every option.
 * @throws BitNetError BAD_OPTION naming the offending option (details.option).
 */
export function resolveSamplingOptions(o: SamplingOptions = {}): ResolvedSamplingOptions {
  const temperature = pick(o.temperature, DEFAULT_SAMPLING.temperature);
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) throw badOption('temperature', 'a finite number >= 0', temperature);
  const topK = pick(o.topK, DEFAULT_SAMPLING.topK);
  if (!Number.isSafeInteger(topK) || topK < 0) throw badOption('topK', 'an integer >= 0', topK);
  const topP = pick(o.topP, DEFAULT_SAMPLING.topP);
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw badOption('topP', 'a number in (0, 1]', topP);
  const minP = pick(o.minP, DEFAULT_SAMPLING.minP);
  if (typeof minP !== 'number' || !(minP >= 0 && minP < 1)) throw badOption('minP', 'a number in [0, 1)', minP);
  const repetitionPenalty = pick(o.repetitionPenalty, DEFAULT_SAMPLING.repetitionPenalty);
  if (typeof repetitionPenalty !== 'number' || !Number.isFinite(repetitionPenalty) || repetitionPenalty <= 0) {
    throw badOption('repetitionPenalty', 'a finite number > 0', repetitionPenalty);
  }
  const repetitionLastN = pick(o.repetitionLastN, DEFAULT_SAMPLING.repetitionLastN);
  if (!Number.isSafeInteger(repetitionLastN) || repetitionLastN < 0) throw badOption('repetitionLastN', 'an integer >= 0', repetitionLastN);
  const seed = pick(o.seed, undefined) ?? randomSeed();
  if (!Number.isSafeInteger(seed)) throw badOption('seed', 'a safe integer', seed);
  return { temperature, topK, topP, minP, repetitionPenalty, repetitionLastN, seed };
}

/** Applies the repetition penalty in place to `logits` for distinct ids among the last `lastN` of `history`. */
export function applyRepetitionPenalty(logits: Float32Array, history: ArrayLike<number>, penalty: number, lastN: number): void {
  if (penalty === 1 || lastN === 0) return;
  const seen = new Set<number>();
  for (let i = Math.max(0, history.length - lastN); i < history.length; i++) {
    const id = history[i]!;
    if (id < 0 || id >= logits.length || seen.has(id)) continue;
    seen.add(id);
    const l = logits[id]!;
    logits[id] = l > 0 ? l / penalty : l * penalty;
  }
}

/** Index of the largest value; ties → lowest index. */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
}

/** Candidate ids sorted by logit descending (ties → lower id); only the best `k` when k > 0. */
function sortedCandidates(logits: Float32Array, k: number): number[] {
  const cmp = (a: number, b: number): number => logits[b]! - logits[a]! || a - b;
  const n = logits.length;
  if (k <= 0 || k >= n) {
    const ids = Array.from({ length: n }, (_, i) => i);
    return ids.sort(cmp);
  }
  // Keep a sorted window of the best k seen so far; insertion only when a value beats the worst.
  const best: number[] = [];
  for (let i = 0; i < n; i++) {
    if (best.length === k && cmp(i, best[k - 1]!) >= 0) continue;
    let lo = 0, hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(best[mid]!, i) <= 0) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, i);
    if (best.length > k) best.pop();
  }
  return best;
}

/**
 * Returns the candidate ids and their (normalized) probabilities after temperature, top-k, top-p
 * and min-p, in descending order. `logits` must already be penalized. Exposed for tests.
 */
export function candidateDistribution(logits: Float32Array, o: Pick<ResolvedSamplingOptions, 'temperature' | 'topK' | 'topP' | 'minP'>): { ids: number[]; probs: Float64Array } {
  let ids = sortedCandidates(logits, o.topK);
  const t = o.temperature;
  const top = logits[ids[0]!]! / t;
  let probs = new Float64Array(ids.length);
  let sum = 0;
  for (let i = 0; i < ids.length; i++) {
    const e = Math.exp(logits[ids[i]!]! / t - top);
    probs[i] = e;
    sum += e;
  }
  if (!(sum > 0) || !Number.isFinite(sum)) {
    // Degenerate logits (all -Infinity or NaN): fall back to the first candidate.
    return { ids: [ids[0]!], probs: Float64Array.of(1) };
  }
  for (let i = 0; i < probs.length; i++) probs[i] = probs[i]! / sum;
  let keep = ids.length;
  if (o.topP < 1) {
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += probs[i]!;
      if (mass >= o.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  if (o.minP > 0) {
    const floor = probs[0]! * o.minP;
    let m = 1;
    while (m < keep && probs[m]! >= floor) m++;
    keep = m;
  }
  if (keep < ids.length) {
    ids = ids.slice(0, keep);
    probs = probs.slice(0, keep);
    let s = 0;
    for (let i = 0; i < keep; i++) s += probs[i]!;
    for (let i = 0; i < keep; i++) probs[i] = probs[i]! / s;
  }
  return { ids, probs };
}

/** A seeded sampler; one instance per generation so the random stream is reproducible. */
export class Sampler {
  readonly options: ResolvedSamplingOptions;
  private readonly rng: Rng;

  /** @throws BitNetError BAD_OPTION for invalid options. */
  constructor(options: SamplingOptions = {}) {
    this.options = resolveSamplingOptions(options);
    this.rng = createRng(this.options.seed);
  }

  /**
   * Picks the next token id. `logits` is not modified (a copy is penalized); `history` is the
   * sequence so far (prompt + generated), used by the repetition penalty.
   * @throws BitNetError BAD_INPUT for an empty logits vector.
   */
  sample(logits: Float32Array, history: ArrayLike<number> = []): number {
    if (logits.length === 0) throw new BitNetError('BAD_INPUT', 'sample: empty logits');
    const o = this.options;
    let l = logits;
    if (o.repetitionPenalty !== 1 && o.repetitionLastN > 0 && history.length > 0) {
      l = logits.slice();
      applyRepetitionPenalty(l, history, o.repetitionPenalty, o.repetitionLastN);
    }
    if (o.temperature === 0) return argmax(l);
    const { ids, probs } = candidateDistribution(l, o);
    const u = this.rng.nextFloat();
    let acc = 0;
    for (let i = 0; i < ids.length; i++) {
      acc += probs[i]!;
      if (u < acc) return ids[i]!;
    }
    return ids[ids.length - 1]!;
  }
}
