import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { bufferSource } from '../src/model/byte-source.js';
import { type FixtureOptions, fixtureFloats, fixtureTernary, makeFixture } from '../src/model/fixtures.js';
import { decodeFloatRow } from '../src/model/formats/index.js';
import { openGGUF } from '../src/model/gguf.js';
import type { GGUFEntry, GGUFMetadata } from '../src/model/gguf-types.js';
import { type GGUFWriterTensor, writeGGUFToBuffer } from '../src/model/gguf-writer.js';
import { loadModelWeights } from '../src/model/load-weights.js';
import type { ModelWeights, TernaryMatrix } from '../src/model/tensor.js';

const SMALL: FixtureOptions = { nLayer: 2, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 256, vocab: 320, nMerges: 40 };

async function load(bytes: Uint8Array, opts?: Parameters<typeof loadModelWeights>[1]): Promise<ModelWeights> {
  return loadModelWeights(await openGGUF(bufferSource(bytes)), opts);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BitNetError);
    return (err as BitNetError).code;
  }
  throw new Error('expected a rejection');
}

/** Re-writes a fixture after editing its tensor list / metadata. */
async function rewrite(bytes: Uint8Array, edit: (t: GGUFWriterTensor[], md: GGUFMetadata) => GGUFWriterTensor[]): Promise<Uint8Array> {
  const f = await openGGUF(bufferSource(bytes));
  const md = new Map(f.metadata);
  const tensors = edit(f.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.typeId, data: () => f.readTensorBytes(t) })), md);
  return writeGGUFToBuffer({ metadata: md, tensors });
}

function sameTernary(m: TernaryMatrix, want: TernaryMatrix): void {
  expect([m.rows, m.cols, m.scale, m.blockScales]).toEqual([want.rows, want.cols, want.scale, null]);
  expect(Buffer.compare(Buffer.from(m.packed), Buffer.from(want.packed))).toBe(0);
}

describe('loadModelWeights', () => {
  for (const arch of ['bitnet-b1.58', 'bitnet-25', 'bitnet', 'llama'] as const) {
    for (const ternaryType of ['TQ1_0', 'TQ2_0', 'I2_S'] as const) {
      it(`${arch} / ${ternaryType}: decodes every tensor to the generator's values`, async () => {
        const seed = 5;
        const w = await load(await makeFixture({ ...SMALL, arch, ternaryType, seed }));
        const c = w.config;
        expect(c).toMatchObject({ architecture: arch, nLayer: 2, nEmbd: 256, nHead: 4, nHeadKv: 2, headDim: 64, nFf: 256, vocabSize: 320 });
        expect(c.activation).toBe(arch === 'bitnet-b1.58' || arch === 'bitnet-25' ? 'relu2' : 'silu');
        expect(w.output).toBe(w.tokenEmbd);
        expect(w.tokenEmbd.storage).toBe('f16');
        const row = new Float32Array(256);
        decodeFloatRow(w.tokenEmbd, 17, row);
        expect(Array.from(row)).toEqual(Array.from(fixtureFloats(seed, 'token_embd.weight', 256, 'embd', 17 * 256)));
        expect(Array.from(w.outputNorm)).toEqual(Array.from(fixtureFloats(seed, 'output_norm.weight', 256, 'norm')));
        const L = w.layers[1]!;
        sameTernary(L.wq, fixtureTernary(seed, 'blk.1.attn_q.weight', 256, 256));
        sameTernary(L.wk, fixtureTernary(seed, 'blk.1.attn_k.weight', 128, 256));
        sameTernary(L.wDown, fixtureTernary(seed, 'blk.1.ffn_down.weight', 256, 256));
        expect(L.wq.sourceType).toBe(ternaryType);
        expect(Array.from(L.ffnNorm)).toEqual(Array.from(fixtureFloats(seed, 'blk.1.ffn_norm.weight', 256, 'norm')));
        if (arch === 'llama') {
          expect([L.attnSubNorm, L.ffnSubNorm]).toEqual([null, null]);
        } else {
          expect(Array.from(L.ffnSubNorm!)).toEqual(Array.from(fixtureFloats(seed, 'blk.1.ffn_sub_norm.weight', 256, 'norm')));
          expect(L.attnSubNorm!.length).toBe(256);
        }
        expect(L.outScales).toEqual({ q: 1, k: 1, v: 1, o: 1, gate: 1, up: 1, down: 1 });
      });
    }
  }

  it('supports F32 / BF16 / Q8_0 embeddings, untied output and projection scales', async () => {
    for (const embeddingType of ['F32', 'BF16', 'Q8_0'] as const) {
      const w = await load(await makeFixture({ ...SMALL, nLayer: 1, embeddingType, untiedOutput: true, projectionScales: true }));
      expect(w.tokenEmbd.storage).toBe(embeddingType.toLowerCase());
      expect(w.output).not.toBe(w.tokenEmbd);
      const row = new Float32Array(256);
      decodeFloatRow(w.output, 3, row);
      const want = fixtureFloats(1, 'output.weight', 256, 'embd', 3 * 256);
      const tol = embeddingType === 'F32' ? 0 : 1e-2;
      expect(Math.max(...row.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThanOrEqual(tol);
      expect(w.layers[0]!.outScales.down).toBe(fixtureFloats(1, 'blk.0.ffn_down.scale', 1, 'norm')[0]);
    }
  });

  it('reports progress and honours abort signals', async () => {
    const bytes = await makeFixture({ ...SMALL, nLayer: 1 });
    const seen: Array<[number, number]> = [];
    await load(bytes, { onProgress: (a, b) => seen.push([a, b]) });
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.at(-1)![0]).toBe(seen.at(-1)![1]);
    expect(seen.every(([a], i) => i === 0 || a > seen[i - 1]![0])).toBe(true);

    const ac = new AbortController();
    ac.abort();
    await expect(load(bytes, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const mid = new AbortController();
    await expect(load(bytes, { signal: mid.signal, onProgress: () => mid.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('forces the activation when asked', async () => {
    const w = await load(await makeFixture({ ...SMALL, nLayer: 1, arch: 'bitnet' }), { activation: 'relu2' });
    expect(w.config.activation).toBe('relu2');
  });

  describe('validation', () => {
    const base = () => makeFixture({ ...SMALL, nLayer: 1, arch: 'bitnet-b1.58', ternaryType: 'TQ2_0' });
    const drop = (name: string) => (t: GGUFWriterTensor[]) => t.filter((x) => x.name !== name);
    const replace = (name: string, over: Partial<GGUFWriterTensor>) => (t: GGUFWriterTensor[]) => t.map((x) => (x.name === name ? { ...x, ...over } : x));

    it('MISSING_TENSOR for absent projections, norms and sub-norms', async () => {
      const b = await base();
      for (const name of ['blk.0.attn_v.weight', 'output_norm.weight', 'blk.0.ffn_sub_norm.weight', 'blk.0.attn_norm.weight']) {
        expect(await codeOf(load(await rewrite(b, drop(name))))).toBe('MISSING_TENSOR');
      }
    });

    it('BAD_TENSOR_TYPE for non-ternary projections and non-float embeddings/norms', async () => {
      const b = await base();
      expect(await codeOf(load(await rewrite(b, replace('blk.0.attn_q.weight', { type: 'F16', data: new Uint8Array(256 * 256 * 2) }))))).toBe('BAD_TENSOR_TYPE');
      expect(await codeOf(load(await rewrite(b, replace('blk.0.ffn_up.weight', { type: 'Q4_0', data: new Uint8Array(8 * 256 * 18) }))))).toBe('BAD_TENSOR_TYPE');
      expect(await codeOf(load(await rewrite(b, replace('token_embd.weight', { type: 'TQ2_0', data: new Uint8Array(320 * 66) }))))).toBe('BAD_TENSOR_TYPE');
      expect(await codeOf(load(await rewrite(b, replace('blk.0.ffn_norm.weight', { type: 'I8', data: new Uint8Array(256) }))))).toBe('BAD_TENSOR_TYPE');
    });

    it('BAD_TENSOR_SHAPE for transposed or mis-sized tensors', async () => {
      const b = await base();
      expect(await codeOf(load(await rewrite(b, replace('blk.0.ffn_norm.weight', { dims: [128], data: new Uint8Array(512) }))))).toBe('BAD_TENSOR_SHAPE');
      const t = fixtureTernary(1, 'x', 256, 512);
      const { encodeTernary } = await import('../src/model/formats/index.js');
      const kT = encodeTernary('TQ2_0', { ...t, rows: 512, cols: 256 });
      expect(await codeOf(load(await rewrite(b, replace('blk.0.attn_k.weight', { dims: [256, 512], data: kT }))))).toBe('BAD_TENSOR_SHAPE');
      expect(await codeOf(load(await rewrite(b, replace('blk.0.attn_q.weight', { dims: [256, 256, 2], data: new Uint8Array(512 * 66).fill(0x55) }))))).toBe('BAD_TENSOR_SHAPE');
    });

    it('accepts trailing unit dimensions', async () => {
      const b = await base();
      const w = await load(await rewrite(b, replace('blk.0.ffn_norm.weight', { dims: [256, 1] })));
      expect(w.layers[0]!.ffnNorm.length).toBe(256);
    });

    it('BAD_CONFIG for bias tensors and rope_freqs; llama ignores sub-norms', async () => {
      const b = await base();
      const add = (x: GGUFWriterTensor) => (t: GGUFWriterTensor[]) => [...t, x];
      expect(await codeOf(load(await rewrite(b, add({ name: 'blk.0.attn_q.bias', dims: [256], type: 'F32', data: new Uint8Array(1024) }))))).toBe('BAD_CONFIG');
      expect(await codeOf(load(await rewrite(b, add({ name: 'rope_freqs.weight', dims: [32], type: 'F32', data: new Uint8Array(128) }))))).toBe('BAD_CONFIG');
      const llama = await makeFixture({ ...SMALL, nLayer: 1, arch: 'llama', ternaryType: 'TQ2_0' });
      const extra = await rewrite(llama, add({ name: 'blk.0.ffn_sub_norm.weight', dims: [256], type: 'F32', data: new Uint8Array(1024) }));
      expect((await load(extra)).layers[0]!.ffnSubNorm).toBeNull();
    });

    it('BAD_TENSOR_DATA for invalid ternary codes and non-finite scales', async () => {
      const b = await base();
      const bad = new Uint8Array(256 * 66).fill(0xff);
      expect(await codeOf(load(await rewrite(b, replace('blk.0.attn_q.weight', { data: bad }))))).toBe('BAD_TENSOR_DATA');
      const withScale = await makeFixture({ ...SMALL, nLayer: 1, projectionScales: true });
      const nan = new Uint8Array(new Float32Array([NaN]).buffer);
      expect(await codeOf(load(await rewrite(withScale, replace('blk.0.attn_q.scale', { data: nan }))))).toBe('BAD_TENSOR_DATA');
    });

    it('VOCAB_MISMATCH when metadata and embedding disagree', async () => {
      const b = await base();
      const bytes = await rewrite(b, (t, md) => {
        md.set('bitnet-b1.58.vocab_size', { type: 4, value: 999 } as GGUFEntry);
        return t;
      });
      expect(await codeOf(load(bytes))).toBe('VOCAB_MISMATCH');
    });
  });
});
