import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { bf16ToF32, f32ToBf16, unpackTernary } from '../src/model/formats/index.js';
import { parseHFConfig } from '../src/model/hf-checkpoint.js';
import { packHFTernary } from '../src/model/hf-fixture.js';
import { floatsFromBytes, ternarizeAbsmean, toF16Bytes, unpackHFTernary, weightScaleValue } from '../src/model/hf-tensors.js';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(BitNetError);
    return (err as BitNetError).code;
  }
  throw new Error('expected a throw');
}

const bf16 = (x: number): Uint8Array => {
  const h = f32ToBf16(x);
  return Uint8Array.of(h & 0xff, h >> 8);
};

describe('§5.3 packed uint8 unpacking', () => {
  // out = 8 rows, in = 4 columns → packed [R = 2, 4]. Every byte is 0x55 (four zeros) except
  // packed[1, 2] = 0x92 = 0b10_01_00_10: bits 1–0 = 10 → T[0·2 + 1, 2] = +1; bits 3–2 = 00 → T[3, 2] = −1;
  // bits 5–4 = 01 → T[5, 2] = 0; bits 7–6 = 10 → T[7, 2] = +1.
  const packed = new Uint8Array(8).fill(0x55);
  packed[1 * 4 + 2] = 0x92;
  const expected = new Int8Array(32);
  expected[1 * 4 + 2] = 1;
  expected[3 * 4 + 2] = -1;
  expected[7 * 4 + 2] = 1;

  it('matches the hand-worked byte (word path, cols % 4 == 0)', () => {
    const m = unpackHFTernary(packed, 8, 4, 1.5);
    expect([m.rows, m.cols, m.scale, m.blockScales]).toEqual([8, 4, 1.5, null]);
    expect(unpackTernary(m)).toEqual(expected);
  });

  it('matches it on the per-element path (cols % 4 != 0) and for byte 0x92 at column 0 of 3', () => {
    const p = new Uint8Array(6).fill(0x55);
    p[3] = 0x92; // packed[1, 0] with in = 3
    const want = new Int8Array(24);
    want[1 * 3] = 1;
    want[3 * 3] = -1;
    want[7 * 3] = 1;
    expect(unpackTernary(unpackHFTernary(p, 8, 3, 1))).toEqual(want);
  });

  it('inverts the fixture packer on random codes and rejects code 3', () => {
    const rows = 16;
    const cols = 12;
    const codes = Int8Array.from({ length: rows * cols }, (_, i) => ((i * 7919) % 3) - 1);
    expect(unpackTernary(unpackHFTernary(packHFTernary(codes, rows, cols), rows, cols, 1))).toEqual(codes);
    const bad = packHFTernary(codes, rows, cols);
    bad[5] = 0xff;
    expect(codeOf(() => unpackHFTernary(bad, rows, cols, 1))).toBe('BAD_TENSOR_DATA');
    expect(codeOf(() => unpackHFTernary(packed, 6, 4, 1))).toBe('BAD_TENSOR_SHAPE');
  });
});

describe('weight_scale and float conversions', () => {
  it('multiplies (autobitlinear) or inverts (bitlinear)', () => {
    expect(weightScaleValue(bf16(1.5546875), 'BF16', 'multiply')).toBe(1.5546875);
    expect(weightScaleValue(bf16(4), 'BF16', 'divide')).toBe(0.25);
    expect(weightScaleValue(bf16(3), 'BF16', 'divide')).toBe(Math.fround(1 / 3));
    expect(weightScaleValue(new Uint8Array(new Float32Array([0.1]).buffer), 'F32', 'multiply')).toBe(Math.fround(0.1));
    for (const v of [0, -1, Infinity, NaN]) expect(codeOf(() => weightScaleValue(bf16(v), 'BF16', 'multiply'))).toBe('BAD_TENSOR_DATA');
  });

  it('converts bf16 to f16 exactly for normal values and rounds tiny ones', () => {
    const vals = [1, -0.5, 0.0174560546875, 3.140625, 2 ** -20, 0];
    const src = new Uint8Array(vals.length * 2);
    vals.forEach((v, i) => src.set(bf16(v), 2 * i));
    const f16 = floatsFromBytes(toF16Bytes(src, 'BF16'), 'F16');
    expect(Array.from(f16.subarray(0, 4))).toEqual(vals.slice(0, 4).map((v) => bf16ToF32(f32ToBf16(v))));
    expect(f16[4]).toBeCloseTo(2 ** -20, 9);
    expect(f16[5]).toBe(0);
  });
});

describe('absmean ternarization (§4.1)', () => {
  it('matches a naive implementation', () => {
    const rows = 6;
    const cols = 10;
    const w = Float32Array.from({ length: rows * cols }, (_, i) => bf16ToF32(f32ToBf16(Math.sin(i * 1.7) * 2)));
    const bytes = new Uint8Array(w.length * 2);
    w.forEach((v, i) => bytes.set(bf16(v), 2 * i));
    const m = ternarizeAbsmean(bytes, 'BF16', rows, cols);
    const mean = Math.fround(w.reduce((s, v) => s + Math.abs(v), 0) / w.length);
    expect(m.scale).toBe(mean);
    const want = Int8Array.from(w, (v) => Math.max(-1, Math.min(1, Math.abs((v / mean) % 1) === 0.5 ? 2 * Math.round(v / mean / 2) : Math.round(v / mean))));
    expect(unpackTernary(m)).toEqual(want);
  });

  it('rounds exact halves to zero and uses the 1e-5 floor', () => {
    const f32 = (v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);
    // mean|W| = 0.375: ±0.5 / 0.375 = ±1.33 → ±1.
    expect(Array.from(unpackTernary(ternarizeAbsmean(f32([1, -1, 0.5, -0.5, 0, 0, 0, 0]), 'F32', 2, 4)))).toEqual([1, -1, 1, -1, 0, 0, 0, 0]);
    // mean|W| = 1: ±0.5 is an exact tie, round-half-even gives 0.
    expect(Array.from(unpackTernary(ternarizeAbsmean(f32([3, 0.5, -0.5, 0]), 'F32', 1, 4)))).toEqual([1, 0, 0, 0]);
    expect(ternarizeAbsmean(new Uint8Array(16), 'F32', 1, 4).scale).toBe(Math.fround(1e-5));
    expect(codeOf(() => ternarizeAbsmean(f32([NaN, 1]), 'F32', 1, 2))).toBe('BAD_TENSOR_DATA');
  });
});

const BASE = {
  architectures: ['BitNetForCausalLM'], hidden_act: 'relu2', hidden_size: 2560, intermediate_size: 6912, num_hidden_layers: 30,
  num_attention_heads: 20, num_key_value_heads: 5, vocab_size: 128256, max_position_embeddings: 4096, rope_theta: 500000.0,
  rms_norm_eps: 1e-5, tie_word_embeddings: true, bos_token_id: 128000, eos_token_id: 128001,
  quantization_config: { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'offline' },
};

describe('config.json', () => {
  it('maps the 2B-4T config', () => {
    const c = parseHFConfig(BASE);
    expect(c).toMatchObject({
      architecture: 'bitnet-b1.58', activation: 'relu2', nEmbd: 2560, nFf: 6912, nLayer: 30, nHead: 20, nHeadKv: 5, headDim: 128,
      vocabSize: 128256, contextLength: 4096, ropeTheta: 500000, rmsEps: 1e-5, bosTokenId: 128000, eosTokenId: 128001,
      quant: { linearClass: 'autobitlinear', mode: 'offline' }, weightScale: 'multiply', tieEmbeddings: true,
    });
  });

  it('silu → bitnet, BitnetForCausalLM accepted, eos lists take the first id', () => {
    const c = parseHFConfig({ ...BASE, architectures: ['BitnetForCausalLM'], hidden_act: 'silu', eos_token_id: [7, 9], quantization_config: undefined });
    expect([c.architecture, c.activation, c.eosTokenId, c.quant.mode]).toEqual(['bitnet', 'silu', 7, 'none']);
  });

  it('linear_class decides the weight_scale rule', () => {
    const q = (quantization_config: unknown): string => parseHFConfig({ ...BASE, quantization_config }).weightScale;
    expect(q({ quant_method: 'bitnet', linear_class: 'bitlinear' })).toBe('divide');
    expect(q({ quant_method: 'bitnet' })).toBe('divide'); // transformers' default linear class
    expect(q({ quant_method: 'bitnet', offline_quantization: true })).toBe('multiply'); // pre-release 2B-4T schema
    expect(parseHFConfig({ ...BASE, quantization_config: { quant_method: 'bitnet', linear_class: 'bitlinear' } }, { weightScale: 'multiply' }).weightScale).toBe('multiply');
    expect(parseHFConfig({ ...BASE, quantization_config: { ...BASE.quantization_config, quantization_mode: 'online' } }).quant.mode).toBe('online');
  });

  it('rejects unsupported or malformed configs', () => {
    expect(codeOf(() => parseHFConfig({ ...BASE, architectures: ['LlamaForCausalLM'] }))).toBe('UNSUPPORTED_ARCHITECTURE');
    expect(codeOf(() => parseHFConfig({ ...BASE, hidden_act: 'gelu' }))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseHFConfig({ ...BASE, hidden_act: undefined }))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseHFConfig({ ...BASE, hidden_size: undefined }))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseHFConfig({ ...BASE, num_key_value_heads: 3 }))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseHFConfig({ ...BASE, quantization_config: { quant_method: 'gptq' } }))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseHFConfig({ ...BASE, quantization_config: { quant_method: 'bitnet', linear_class: 'x' } }))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseHFConfig({ ...BASE, rope_scaling: { type: 'yarn', factor: 4 } }))).toBe('BAD_CONFIG');
    expect(codeOf(() => parseHFConfig([]))).toBe('BAD_CONFIG');
  });
});
