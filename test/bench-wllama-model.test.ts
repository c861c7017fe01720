/**
 * The wllama comparison models of the benchmark (bench/browser/wllama-model.ts, TQ2_0 and Q4_0
 * variants, and the fixture generator's Q4_0 copy) hold the same weights as their source: every
 * ternary projection decodes to the same values, other tensors are byte-identical, and the
 * metadata is renamed to llama.cpp's `bitnet`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTernaryQ4_0, ensureWllamaTwin, type WllamaTernaryType } from '../bench/browser/wllama-model.js';
import { BitNetError } from '../src/errors.js';
import { decodeQ4_0 as decodeQ4_0Lib, f16ToF32, f32ToF16, isTernaryType, ternaryFromTensor, ternaryValue, unpackTernary } from '../src/model/formats/index.js';
import { type FixtureOptions, makeFixture, writeFixtureFile } from '../src/model/fixtures.js';
import { openModelFile } from '../src/model/load-model.js';
import type { TernaryMatrix } from '../src/model/tensor.js';

/** Decodes Q4_0 bytes to floats (reference: value = (nibble − 8) · d). */
function decodeQ4_0(b: Uint8Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let blk = 0; blk < n / 32; blk++) {
    const o = blk * 18;
    const d = f16ToF32(b[o]! | (b[o + 1]! << 8));
    for (let j = 0; j < 16; j++) {
      out[blk * 32 + j] = ((b[o + 2 + j]! & 15) - 8) * d;
      out[blk * 32 + j + 16] = ((b[o + 2 + j]! >> 4) - 8) * d;
    }
  }
  return out;
}

/** Number of positions where a and b differ (===). */
function mismatches(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

type ModelFile = Awaited<ReturnType<typeof openModelFile>>;
type TensorInfo = ModelFile['tensors'][number];

/**
 * Checks that `b` has `a`'s tensors (same names in order, same dims, every non-ternary tensor with
 * the same type and bytes) and hands each ternary pair to `onTernary`; returns how many there were.
 */
async function compareTensors(
  a: ModelFile, b: ModelFile, onTernary: (ta: TensorInfo, tb: TensorInfo, bytesA: Uint8Array, bytesB: Uint8Array) => void,
): Promise<number> {
  expect(b.tensors.map((t) => t.name)).toEqual(a.tensors.map((t) => t.name));
  let ternary = 0;
  for (const ta of a.tensors) {
    const tb = b.tensor(ta.name)!;
    expect(tb.dims).toEqual(ta.dims);
    const bytesA = await a.readTensorBytes(ta);
    const bytesB = await b.readTensorBytes(tb);
    if (!isTernaryType(ta.type)) {
      expect(tb.type).toBe(ta.type);
      expect(Buffer.compare(bytesA, bytesB)).toBe(0);
      continue;
    }
    ternary++;
    onTernary(ta, tb, bytesA, bytesB);
  }
  return ternary;
}

describe('wllama comparison model', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wllama-twin-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every tensor value, uses TQ2_0 (Q4_0 for rows not a multiple of 256) and renames the architecture', async () => {
    const src = join(dir, 'src.gguf');
    await writeFile(src, await makeFixture({ ternaryType: 'I2_S', nEmbd: 256, nFf: 640, nHead: 4, nHeadKv: 2, vocab: 300, nLayer: 1 }));
    const dst = join(dir, 'twin.gguf');
    const summary = await ensureWllamaTwin(src, dst);
    expect(summary.q4Fallback).toEqual(['blk.0.ffn_down.weight']);
    const a = await openModelFile(src);
    const b = await openModelFile(dst);
    try {
      expect(b.architecture).toBe('bitnet');
      expect(b.metadata.get('general.file_type')?.value).toBe(37);
      expect(b.metadata.get('bitnet.feed_forward_length')?.value).toBe(640);
      expect([...b.metadata.keys()].some((k) => k.startsWith('bitnet-b1.58.'))).toBe(false);
      await compareTensors(a, b, (ta, tb, bytesA, bytesB) => {
        const ma = ternaryFromTensor(ta, bytesA);
        const scale = f16ToF32(f32ToF16(ma.scale));
        if (tb.type === 'TQ2_0') {
          const mb = ternaryFromTensor(tb, bytesB);
          expect(unpackTernary(mb)).toEqual(unpackTernary(ma));
          const s = mb.blockScales ?? new Float32Array([mb.scale]);
          expect(s.every((x) => x === scale)).toBe(true);
        } else {
          expect(tb.type).toBe('Q4_0');
          const want = Float32Array.from(unpackTernary(ma), (t) => t * scale);
          expect(decodeQ4_0(bytesB, ma.rows * ma.cols)).toEqual(want);
        }
      });
    } finally {
      await a.close();
      await b.close();
    }
  });

  /** Float values of every tensor of a ternary original vs its Q4_0 copy must be identical. */
  async function expectQ4_0Copy(srcPath: string, q4Path: string): Promise<void> {
    const a = await openModelFile(srcPath);
    const b = await openModelFile(q4Path);
    try {
      expect(b.architecture).toBe('bitnet');
      expect(b.metadata.get('general.file_type')?.value).toBe(2);
      expect([...b.metadata.keys()].some((k) => k.startsWith(a.architecture + '.'))).toBe(false);
      const ternary = await compareTensors(a, b, (ta, tb, bytesA, bytesB) => {
        expect(tb.type).toBe('Q4_0');
        const ma = ternaryFromTensor(ta, bytesA);
        const want = new Float32Array(ma.rows * ma.cols);
        for (let r = 0; r < ma.rows; r++) for (let c = 0; c < ma.cols; c++) want[r * ma.cols + c] = ternaryValue(ma, r, c);
        // the library decoder and the test's own reference decoder, (q − 8) · d
        expect(mismatches(decodeQ4_0Lib(bytesB, ma.rows * ma.cols), want), ta.name).toBe(0);
        expect(mismatches(decodeQ4_0(bytesB, ma.rows * ma.cols), want), ta.name).toBe(0);
      });
      expect(ternary).toBeGreaterThan(0);
    } finally {
      await a.close();
      await b.close();
    }
  }

  const small: FixtureOptions = { nEmbd: 256, nFf: 640, nHead: 4, nHeadKv: 2, vocab: 300, nLayer: 1 };

  it.each([
    ['I2_S', small],
    ['TQ2_0', { ...small, nFf: 512 }],
    ['TQ1_0', { ...small, nFf: 512 }],
  ] as const)('the Q4_0 copy of a %s model decodes to exactly the original values for every tensor', async (tt, opts) => {
    const src = join(dir, `src-${tt}.gguf`);
    await writeFile(src, await makeFixture({ ...opts, ternaryType: tt }));
    const dst = join(dir, `twin-${tt}.wllama-q4_0.gguf`);
    const summary = await ensureWllamaTwin(src, dst, undefined, 'q4_0');
    expect(summary.ternaryType).toBe('q4_0');
    expect(summary.types['Q4_0']).toBe(7);
    expect(summary.types['TQ2_0']).toBeUndefined();
    expect(summary.q4Fallback).toEqual([]);
    await expectQ4_0Copy(src, dst);
  });

  it('a streamed fixture file converts to the Q4_0 comparison file with renamed arch keys', async () => {
    const opts: FixtureOptions = { ...small, nLayer: 2, ternaryType: 'TQ2_0', nFf: 512, seed: 7 };
    const src = join(dir, 'fx.gguf');
    const q4 = join(dir, 'fx.q4_0.gguf');
    await writeFixtureFile(opts, src);
    await ensureWllamaTwin(src, q4, undefined, 'q4_0');
    await expectQ4_0Copy(src, q4);
    const b = await openModelFile(q4);
    try {
      expect(b.metadata.get('bitnet.feed_forward_length')?.value).toBe(512);
      expect(b.metadata.get('bitnet.rope.freq_base')?.value).toBe(500000);
    } finally {
      await b.close();
    }
  });

  it('maps per-block ternary scales onto Q4_0 blocks exactly, and rejects blocks Q4_0 cannot hold', () => {
    const cols = 512;
    const packed = new Uint8Array(cols / 4).map((_, i) => [0b00_01_10_00, 0b10_10_01_00, 0b01_01_01_01][i % 3]!);
    const blockScales = new Float32Array([0.5, 1.25]);
    const m: TernaryMatrix = { kind: 'ternary', rows: 1, cols, packed, scale: 1, blockScales, scaleBlock: 256, sourceType: 'test' };
    const got = decodeQ4_0Lib(encodeTernaryQ4_0(m), cols);
    expect(Array.from(got)).toEqual(Array.from({ length: cols }, (_, c) => ternaryValue(m, 0, c)));
    expect(got[300]).toBe(-1.25); // column 300 lies in the second 256-block (scale 1.25), code 0 → −1
    const bad: TernaryMatrix = { ...m, cols: 96, packed: new Uint8Array(24), blockScales: new Float32Array([1, 2]), scaleBlock: 48 };
    expect(() => encodeTernaryQ4_0(bad)).toThrow(BitNetError);
    expect(() => decodeQ4_0Lib(new Uint8Array(17), 32)).toThrow(/18 bytes/);
  });

  it('rejects an unknown comparison encoding', async () => {
    await expect(ensureWllamaTwin(join(dir, 'src.gguf'), join(dir, 'x.gguf'), undefined, 'q8_0' as WllamaTernaryType)).rejects.toThrow(/tq2_0 or q4_0/);
  });

  it('rejects a Q4_0 row length that is not a multiple of 32', () => {
    const m: TernaryMatrix = { kind: 'ternary', rows: 1, cols: 48, packed: new Uint8Array(12), scale: 1, blockScales: null, scaleBlock: 48, sourceType: 'test' };
    expect(() => encodeTernaryQ4_0(m)).toThrow(/multiple of 32/);
  });
});
