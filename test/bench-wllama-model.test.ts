/**
 * The wllama comparison model of the benchmark (bench/browser/wllama-model.ts) holds the same
 * weights as its source: every ternary projection decodes to the same codes and (f16-rounded)
 * scale, other tensors are byte-identical, and the metadata is renamed to llama.cpp's `bitnet`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTernaryQ4_0, ensureWllamaTwin } from '../bench/browser/wllama-model.js';
import { f16ToF32, f32ToF16, isTernaryType, ternaryFromTensor } from '../src/model/formats/index.js';
import { makeFixture } from '../src/model/fixtures.js';
import { openModelFile } from '../src/model/load-model.js';
import type { TernaryMatrix } from '../src/model/tensor.js';

/** Ternary values (code − 1) of a canonical matrix. */
function codes(m: TernaryMatrix): Int8Array {
  const rb = Math.ceil(m.cols / 4);
  const out = new Int8Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) out[r * m.cols + c] = ((m.packed[r * rb + (c >> 2)]! >> (2 * (c & 3))) & 3) - 1;
  return out;
}

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
      expect(b.tensors.map((t) => t.name)).toEqual(a.tensors.map((t) => t.name));
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
        const ma = ternaryFromTensor(ta, bytesA);
        const scale = f16ToF32(f32ToF16(ma.scale));
        if (tb.type === 'TQ2_0') {
          const mb = ternaryFromTensor(tb, bytesB);
          expect(codes(mb)).toEqual(codes(ma));
          const s = mb.blockScales ?? new Float32Array([mb.scale]);
          expect(s.every((x) => x === scale)).toBe(true);
        } else {
          expect(tb.type).toBe('Q4_0');
          const want = Float32Array.from(codes(ma), (t) => t * scale);
          expect(decodeQ4_0(bytesB, ma.rows * ma.cols)).toEqual(want);
        }
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('rejects a Q4_0 row length that is not a multiple of 32', () => {
    const m: TernaryMatrix = { kind: 'ternary', rows: 1, cols: 48, packed: new Uint8Array(12), scale: 1, blockScales: null, scaleBlock: 48, sourceType: 'test' };
    expect(() => encodeTernaryQ4_0(m)).toThrow(/multiple of 32/);
  });
});
