/**
 * Mutation fuzzing of the GGUF reader and weight loader: valid fixtures are corrupted thousands of
 * times (byte flips, truncations, insertions/deletions, huge lengths and counts at real length
 * fields, swapped value/tensor type ids, bad n_dims/dims/offsets). Every case must either load or
 * throw a BitNetError — never TypeError/RangeError, never hang, never balloon memory.
 */
import { describe, expect, it } from 'vitest';
import { isBitNetError } from '../src/errors.js';
import { bufferSource } from '../src/model/byte-source.js';
import { type FixtureOptions, makeFixture } from '../src/model/fixtures.js';
import { openGGUF } from '../src/model/gguf.js';
import { loadModelWeights } from '../src/model/load-weights.js';

interface Fields {
  lengths: number[];
  counts: number[];
  valueTypes: number[];
  tensorTypes: number[];
  nDims: number[];
  dims: number[];
  offsets: number[];
  headerEnd: number;
}

/** Records the positions of every structural field of a valid GGUF. */
function walk(b: Uint8Array): Fields {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const f: Fields = { lengths: [], counts: [8, 16], valueTypes: [], tensorTypes: [], nDims: [], dims: [], offsets: [], headerEnd: 0 };
  let p = 24;
  const u32 = (): number => ((p += 4), v.getUint32(p - 4, true));
  const u64 = (): number => ((p += 8), Number(v.getBigUint64(p - 8, true)));
  const str = (): void => {
    f.lengths.push(p);
    const n = u64();
    p += n;
  };
  const SIZES = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
  const value = (t: number): void => {
    if (t === 8) return str();
    if (t === 9) {
      f.valueTypes.push(p);
      const et = u32();
      f.counts.push(p);
      const n = u64();
      for (let i = 0; i < n; i++) value(et);
      return;
    }
    p += SIZES[t]!;
  };
  const nTensors = Number(v.getBigUint64(8, true));
  const nKv = Number(v.getBigUint64(16, true));
  for (let i = 0; i < nKv; i++) {
    str();
    f.valueTypes.push(p);
    value(u32());
  }
  for (let i = 0; i < nTensors; i++) {
    str();
    f.nDims.push(p);
    const nd = u32();
    for (let d = 0; d < nd; d++) (f.dims.push(p), (p += 8));
    f.tensorTypes.push(p);
    p += 4;
    f.offsets.push(p);
    p += 8;
  }
  f.headerEnd = p;
  return f;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const HUGE = [2n ** 32n, 2n ** 40n, 2n ** 53n, 2n ** 53n - 1n, 2n ** 63n, 2n ** 64n - 1n, 0n, 1n, 65536n, 4096n];

function mutate(base: Uint8Array, f: Fields, rnd: () => number): Uint8Array {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = base.slice();
  const v = new DataView(b.buffer);
  const kind = int(10);
  switch (kind) {
    case 0: // byte flips in the header/metadata/tensor-info region
    case 1: {
      const n = 1 + int(4);
      for (let i = 0; i < n; i++) b[int(f.headerEnd)] ^= 1 << int(8);
      return b;
    }
    case 2: // byte flips anywhere (incl. tensor data: scales, codes)
      for (let i = 0; i < 1 + int(8); i++) b[int(b.length)] = int(256);
      return b;
    case 3: // truncation
      return b.subarray(0, int(b.length));
    case 4: { // huge or odd lengths / counts
      const at = pick(rnd() < 0.5 ? f.lengths : f.counts);
      const val = rnd() < 0.7 ? pick(HUGE) : BigInt(int(b.length * 2));
      v.setBigUint64(at, val, true);
      return b;
    }
    case 5: // swapped tensor type ids
      v.setUint32(pick(f.tensorTypes), pick([0, 1, 2, 8, 15, 24, 28, 30, 31, 34, 35, 36, 37, 38, 39, 40, 99, 0xffffffff]), true);
      return b;
    case 6: // metadata value / array element types
      v.setUint32(pick(f.valueTypes), int(16), true);
      return b;
    case 7: { // n_dims, dims and offsets
      const r = rnd();
      if (r < 0.3) v.setUint32(pick(f.nDims), int(7), true);
      else if (r < 0.7) v.setBigUint64(pick(f.dims), rnd() < 0.5 ? pick(HUGE) : BigInt(int(1024)), true);
      else v.setBigUint64(pick(f.offsets), rnd() < 0.5 ? pick(HUGE) : BigInt(32 * int(64) + (rnd() < 0.2 ? 4 : 0)), true);
      return b;
    }
    case 8: { // insert bytes (shifts every later field)
      const at = int(f.headerEnd);
      const ins = Uint8Array.from({ length: 1 + int(16) }, () => int(256));
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      return out;
    }
    default: { // delete bytes
      const at = int(f.headerEnd);
      const n = 1 + int(16);
      const out = new Uint8Array(b.length - n);
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + n), at);
      return out;
    }
  }
}

const BASES: FixtureOptions[] = [
  { arch: 'bitnet-b1.58', ternaryType: 'I2_S' },
  { arch: 'bitnet-25', ternaryType: 'TQ2_0', embeddingType: 'Q8_0', projectionScales: true },
  { arch: 'bitnet', ternaryType: 'TQ1_0', embeddingType: 'BF16', untiedOutput: true },
  { arch: 'llama', ternaryType: 'I2_S', embeddingType: 'F32' },
];

describe('GGUF fuzzing', () => {
  it('mutated fixtures load or fail with BitNetError only', async () => {
    const CASES_PER_BASE = 750;
    const rnd = prng(20240601);
    const outcomes = new Map<string, number>();
    let slowest = 0;
    let peakArrayBuffers = 0;
    const started = performance.now();
    for (const opts of BASES) {
      const base = await makeFixture({ nLayer: 1, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 256, vocab: 300, nMerges: 24, seed: 9, ...opts });
      const fields = walk(base);
      // The walker must agree with the reader on the unmutated file.
      const f0 = await openGGUF(bufferSource(base));
      expect(f0.dataOffset - fields.headerEnd).toBeLessThan(32);
      await loadModelWeights(f0);
      for (let i = 0; i < CASES_PER_BASE; i++) {
        const bytes = mutate(base, fields, rnd);
        const t0 = performance.now();
        let outcome = 'ok';
        try {
          const f = await openGGUF(bufferSource(bytes));
          await loadModelWeights(f);
        } catch (e) {
          if (!isBitNetError(e)) {
            throw new Error(`case ${i} of ${opts.arch}/${opts.ternaryType}: non-BitNetError ${(e as Error)?.name}: ${(e as Error)?.message}`, { cause: e });
          }
          outcome = e.code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        slowest = Math.max(slowest, performance.now() - t0);
        if (i % 50 === 0) peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
      }
    }
    const summary = Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1]));
    console.log(`fuzz: ${BASES.length * CASES_PER_BASE} cases in ${((performance.now() - started) / 1000).toFixed(1)} s, slowest ${slowest.toFixed(0)} ms`, summary);
    expect(slowest).toBeLessThan(2000);
    expect(peakArrayBuffers).toBeLessThan(256 * 2 ** 20);
    for (const code of ['ok', 'TRUNCATED', 'BAD_METADATA', 'BAD_TENSOR_INFO', 'UNKNOWN_TENSOR_TYPE', 'OUT_OF_BOUNDS']) {
      expect(outcomes.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  });
});
