/**
 * Seeded pseudo-random numbers for sampling: xoshiro128** seeded through splitmix32.
 * Only 32-bit integer arithmetic (Math.imul, >>>) is used, so a seed yields the same stream on every
 * JS engine and platform.
 */
import { BitNetError } from '../errors.js';

export interface Rng {
  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number;
  /** Next float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number;
}

/** splitmix32 step: returns [output, nextState]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [z >>> 0, next];
}

/**
 * Creates an RNG from a seed: any safe integer (negative and values above 2^32 are folded in, so
 * distinct safe integers give distinct seeds in practice).
 * @throws BitNetError BAD_OPTION when `seed` is not a safe integer.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new BitNetError('BAD_OPTION', `seed: expected a safe integer, got ${String(seed)}`, { details: { option: 'seed' } });
  }
  const lo = seed % 0x100000000;
  const hi = Math.floor(seed / 0x100000000);
  let st = (lo ^ Math.imul(hi, 0x27d4eb2d)) | 0;
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    const [v, n] = splitmix32(st);
    s[i] = v;
    st = n;
  }
  return xoshiro128ss(s);
}

/**
 * xoshiro128** over an explicit 4-word state (mutated in place). An all-zero state is replaced by
 * [1, 0, 0, 0] because it would be a fixed point.
 */
export function xoshiro128ss(s: Uint32Array): Rng {
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1;
  const nextU32 = (): number => {
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]!, s3 = s[3]!;
    const m = Math.imul(s1, 5);
    const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = (n3 << 11) | (n3 >>> 21);
    s[0] = n0;
    s[1] = n1;
    s[2] = n2;
    s[3] = n3;
    return result;
  };
  return {
    nextU32,
    nextFloat: () => nextU32() / 0x100000000,
  };
}

/** A fresh seed from the environment's entropy (used when the caller gives none). */
export function randomSeed(): number {
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (c?.getRandomValues) return c.getRandomValues(new Uint32Array(1))[0]!;
  return Math.floor(Math.random() * 0x100000000);
}
