/**
 * End-to-end conversion of fixture checkpoints in the 2B-4T layout to GGUF (i2_s / tq2_0 / tq1_0),
 * checked through our own GGUF reader, `loadModelWeights` and the reference backend.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { fileSource } from '../src/model/byte-source.js';
import { decodeFloatMatrix, f16ToF32, f32ToF16, unpackTernary } from '../src/model/formats/index.js';
import { type GGUFFile, getNumber, getString, openGGUF } from '../src/model/gguf.js';
import { convertHFCheckpoint, type HFConvertType } from '../src/model/hf-convert.js';
import { type HFFixture, type HFFixtureOptions, writeHFFixture } from '../src/model/hf-fixture.js';
import { loadModelWeights } from '../src/model/load-weights.js';
import type { ModelWeights, TernaryMatrix } from '../src/model/tensor.js';

const TYPES: readonly HFConvertType[] = ['i2_s', 'tq2_0', 'tq1_0'];
const GGML = { i2_s: 'I2_S', tq2_0: 'TQ2_0', tq1_0: 'TQ1_0' } as const;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bitnet-hf-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
async function fixture(options: HFFixtureOptions = {}): Promise<HFFixture> {
  return writeHFFixture(join(root, `ck${n++}`), options);
}

async function convert(fx: HFFixture, type: HFConvertType, extra: Partial<Parameters<typeof convertHFCheckpoint>[2]> = {}): Promise<{ file: GGUFFile; weights: ModelWeights; path: string }> {
  const path = join(root, `out${n++}-${type}.gguf`);
  await convertHFCheckpoint(fx.dir, path, { type, onWarning: () => {}, ...extra });
  const file = await openGGUF(await fileSource(path));
  return { file, weights: await loadModelWeights(file), path };
}

function projections(w: ModelWeights): Map<string, TernaryMatrix> {
  const out = new Map<string, TernaryMatrix>();
  w.layers.forEach((l, i) => {
    const p = `blk.${i}.`;
    out.set(`${p}attn_q.weight`, l.wq).set(`${p}attn_k.weight`, l.wk).set(`${p}attn_v.weight`, l.wv).set(`${p}attn_output.weight`, l.wo);
    out.set(`${p}ffn_gate.weight`, l.wGate).set(`${p}ffn_up.weight`, l.wUp).set(`${p}ffn_down.weight`, l.wDown);
  });
  return out;
}

async function logits(w: ModelWeights, tokens: number[]): Promise<Float32Array> {
  const be = new ReferenceBackend(w);
  const [out] = await be.forward([{ seq: be.createSequence(), tokens }]);
  await be.dispose();
  return out!;
}

/** §2.5 I2_S written out by hand: flat [out, in] codes, 128-element blocks, MSB-first groups, f32 scale, 28 zeros. */
function naiveI2S(codes: Int8Array, scale: number): Uint8Array {
  const out = new Uint8Array(codes.length / 4 + 32);
  for (let i = 0; i < codes.length; i++) {
    const k = Math.floor(i / 128);
    const j = i % 128;
    out[32 * k + (j % 32)]! |= (codes[i]! + 1) << (6 - 2 * Math.floor(j / 32));
  }
  new DataView(out.buffer).setFloat32(codes.length / 4, scale, true);
  return out;
}

describe('convertHFCheckpoint: packed autobitlinear (2B-4T layout)', () => {
  let fx: HFFixture;
  const out = new Map<HFConvertType, { file: GGUFFile; weights: ModelWeights }>();

  beforeAll(async () => {
    fx = await fixture({ seed: 3 });
    for (const t of TYPES) out.set(t, await convert(fx, t));
  });
  afterAll(async () => {
    for (const o of out.values()) await o.file.close();
  });

  it('writes the §3.2 hyperparameters, file type and tensor types', () => {
    for (const t of TYPES) {
      const { file, weights } = out.get(t)!;
      const md = file.metadata;
      const a = 'bitnet-b1.58';
      expect(file.architecture).toBe(a);
      expect([...md.keys()].slice(0, 3)).toEqual(['general.architecture', 'general.name', `${a}.vocab_size`]);
      const want: Record<string, number> = {
        vocab_size: 384, context_length: 256, embedding_length: 256, block_count: 2, feed_forward_length: 512,
        'rope.dimension_count': 64, 'attention.head_count': 4, 'attention.head_count_kv': 2, 'rope.freq_base': 500000,
      };
      for (const [k, v] of Object.entries(want)) expect(getNumber(md, `${a}.${k}`), k).toBe(v);
      expect(getNumber(md, `${a}.attention.layer_norm_rms_epsilon`)).toBeCloseTo(1e-5, 10);
      expect(getNumber(md, 'general.file_type')).toBe({ i2_s: 40, tq2_0: 37, tq1_0: 36 }[t]);
      expect(getNumber(md, 'general.quantization_version')).toBe(2);
      expect(getString(md, 'tokenizer.ggml.pre')).toBe('llama-bpe');
      expect(getString(md, 'tokenizer.ggml.model')).toBe('gpt2');
      expect(weights.config).toMatchObject({ activation: 'relu2', nHeadKv: 2, headDim: 64, tiedEmbeddings: true, vocabSize: 384 });
      const types = new Map(file.tensors.map((x) => [x.name, x.type]));
      expect(file.tensors).toHaveLength(2 + 2 * 11);
      expect(types.get('token_embd.weight')).toBe('F16');
      expect(types.get('output_norm.weight')).toBe('F32');
      expect(types.get('blk.1.ffn_sub_norm.weight')).toBe('F32');
      expect(types.get('blk.0.attn_k.weight')).toBe(GGML[t]);
      expect(file.tensor('blk.0.attn_k.weight')!.dims).toEqual([256, 128]);
      expect(file.tensor('blk.1.ffn_down.weight')!.dims).toEqual([512, 256]);
    }
  });

  it('keeps every ternary code and uses weight_scale as the scale (f16-rounded for TQ)', () => {
    for (const t of TYPES) {
      const got = projections(out.get(t)!.weights);
      expect(got.size).toBe(fx.projections.length);
      for (const p of fx.projections) {
        const m = got.get(p.gguf)!;
        expect([m.rows, m.cols], p.gguf).toEqual([p.rows, p.cols]);
        expect(firstDiff(unpackTernary(m), p.codes), `${t} ${p.gguf} codes`).toBe(-1);
        expect(m.scale, `${t} ${p.gguf}`).toBe(t === 'i2_s' ? p.weightScale : f16ToF32(f32ToF16(p.weightScale)));
      }
    }
  });

  it('I2_S tensors are byte-exact per the §5.3 recipe', async () => {
    const { file } = out.get('i2_s')!;
    for (const p of fx.projections.slice(0, 7)) {
      const raw = await file.readTensorBytes(p.gguf);
      expect(Buffer.from(raw).equals(Buffer.from(naiveI2S(p.codes, p.weightScale))), p.gguf).toBe(true);
    }
  });

  it('converts the embedding to F16 and the norms to F32 exactly', () => {
    const w = out.get('tq2_0')!.weights;
    const embd = decodeFloatMatrix(w.tokenEmbd);
    const src = fx.floats.get('model.embed_tokens.weight')!;
    expect(firstDiff(embd, src.map((v) => f16ToF32(f32ToF16(v))))).toBe(-1);
    expect(firstDiff(w.outputNorm, fx.floats.get('model.norm.weight')!)).toBe(-1);
    expect(firstDiff(w.layers[1]!.ffnSubNorm!, fx.floats.get('model.layers.1.mlp.ffn_sub_norm.weight')!)).toBe(-1);
    expect(firstDiff(w.layers[0]!.attnSubNorm!, fx.floats.get('model.layers.0.self_attn.attn_sub_norm.weight')!)).toBe(-1);
  });

  it('gives the same logits through the reference backend for all three types', async () => {
    const tokens = [fx.bosId, 72, 101, 108, 108, 111];
    const [a, b, c] = await Promise.all(TYPES.map((t) => logits(out.get(t)!.weights, tokens)));
    // weight_scale is bf16, hence exact in f16: the three files hold identical weights.
    expect(firstDiff(b!, a!)).toBe(-1);
    expect(firstDiff(c!, a!)).toBe(-1);
    expect(a!.some((v) => v !== 0)).toBe(true);
  });
});

/** Index of the first element where a and b differ (or -1; lengths must match). */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Dimensions I2_S can hold (not TQ: rows of 128). */
const SMALL = { nEmbd: 128, nHead: 2, nHeadKv: 1, nFf: 256, vocab: 300, nMerges: 30 } as const;

function roundHalfEven(x: number): number {
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
}

describe('convertHFCheckpoint: weight_scale semantics and variants', () => {
  it('bitlinear checkpoints invert weight_scale; the override restores multiplication', async () => {
    const fx = await fixture({ seed: 4, linearClass: 'bitlinear', nLayer: 1 });
    for (const t of ['i2_s', 'tq2_0'] as const) {
      const { file, weights } = await convert(fx, t);
      const got = projections(weights);
      for (const p of fx.projections) {
        expect(p.scale).toBe(Math.fround(1 / p.weightScale));
        expect(got.get(p.gguf)!.scale).toBe(t === 'i2_s' ? p.scale : f16ToF32(f32ToF16(p.scale)));
        expect(firstDiff(unpackTernary(got.get(p.gguf)!), p.codes)).toBe(-1);
      }
      await file.close();
    }
    const forced = await convert(fx, 'i2_s', { weightScale: 'multiply' });
    expect(projections(forced.weights).get('blk.0.attn_q.weight')!.scale).toBe(fx.projections[0]!.weightScale);
    await forced.file.close();
  });

  it('bf16 master weights (online mode) are ternarized with absmean', async () => {
    const fx = await fixture({ seed: 5, weights: 'bf16', nLayer: 1, ...SMALL });
    const { file, weights } = await convert(fx, 'i2_s');
    const got = projections(weights);
    for (const p of fx.projections) {
      const mean = Math.fround(p.master.reduce((s, v) => s + Math.abs(v), 0) / p.master.length);
      const m = got.get(p.gguf)!;
      expect(m.scale, p.gguf).toBe(mean);
      const want = Int8Array.from(p.master, (v) => Math.max(-1, Math.min(1, roundHalfEven(v / mean))));
      expect(firstDiff(unpackTernary(m), want), p.gguf).toBe(-1);
    }
    await file.close();
  });

  it('reads sharded checkpoints, 1bitLLM names, SiLU → bitnet, merges as pairs, padded vocabularies', async () => {
    const fx = await fixture({ seed: 6, shards: 3, legacyNames: true, hiddenAct: 'silu', mergesAsPairs: true, configVocab: 392, nLayer: 1 });
    const warnings: string[] = [];
    const { file, weights } = await convert(fx, 'tq1_0', { onWarning: (m) => warnings.push(m) });
    expect(file.architecture).toBe('bitnet');
    expect(weights.config.activation).toBe('silu');
    expect(weights.config.vocabSize).toBe(392);
    expect(warnings.join('\n')).toMatch(/8 ids without a token/);
    const tokens = file.metadata.get('tokenizer.ggml.tokens')!.value as { values: string[] };
    expect(tokens.values).toEqual(fx.tokens);
    const types = (file.metadata.get('tokenizer.ggml.token_type')!.value as { values: Int32Array }).values;
    expect(Array.from(types.subarray(384))).toEqual(new Array(8).fill(5));
    for (const p of fx.projections) expect(firstDiff(unpackTernary(projections(weights).get(p.gguf)!), p.codes)).toBe(-1);
    await file.close();
  });

  it('reports byte-weighted progress per tensor, ending at 1', async () => {
    const fx = await fixture({ seed: 7, nLayer: 1, ...SMALL });
    const seen: Array<{ fraction: number; tensor: string; index: number; count: number }> = [];
    const r = await convert(fx, 'i2_s', { onProgress: (p) => seen.push(p) });
    expect([...new Set(seen.map((p) => p.tensor))]).toEqual(r.file.tensors.map((t) => t.name));
    expect(seen.every((p, i) => p.count === 13 && (i === 0 || (p.fraction > seen[i - 1]!.fraction && p.index >= seen[i - 1]!.index)))).toBe(true);
    expect(seen.at(-1)!.fraction).toBe(1);
    // The embedding (300 × 128 F16 = 76800 bytes) dominates this file, and the first report says so.
    const total = r.file.tensors.reduce((s, t) => s + t.nbytes, 0);
    expect(seen[0]!.fraction).toBeCloseTo(76800 / total, 10);
    await r.file.close();
  });
});
