import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { parseModelConfig } from '../src/model/config.js';
import { type GGUFEntry, type GGUFMetadata, type GGUFTensorInfo, GGUFValueType as T } from '../src/model/gguf-types.js';

const u32 = (v: number): GGUFEntry => ({ type: T.UINT32, value: v });
const f32 = (v: number): GGUFEntry => ({ type: T.FLOAT32, value: Math.fround(v) });
const str = (v: string): GGUFEntry => ({ type: T.STRING, value: v });

/** Metadata as in the official 2B-4T GGUF (§3.4), for any architecture name. */
function official(arch = 'bitnet-b1.58', over: Record<string, GGUFEntry | undefined> = {}): GGUFMetadata {
  const base: Record<string, GGUFEntry> = {
    'general.architecture': str(arch),
    'general.name': str('bitnet2b'),
    [`${arch}.vocab_size`]: u32(128256),
    [`${arch}.context_length`]: u32(4096),
    [`${arch}.embedding_length`]: u32(2560),
    [`${arch}.block_count`]: u32(30),
    [`${arch}.feed_forward_length`]: u32(6912),
    [`${arch}.rope.dimension_count`]: u32(128),
    [`${arch}.attention.head_count`]: u32(20),
    [`${arch}.attention.head_count_kv`]: u32(5),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(1e-5),
    [`${arch}.rope.freq_base`]: f32(500000),
    'general.file_type': u32(40),
  };
  const md: GGUFMetadata = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(over)) {
    const key = k.startsWith('.') ? `${arch}${k}` : k;
    if (v === undefined) md.delete(key);
    else md.set(key, v);
  }
  return md;
}

const embd = (rows = 128256, cols = 2560): GGUFTensorInfo => ({ name: 'token_embd.weight', dims: [cols, rows], typeId: 1, type: 'F16', offset: 0, nbytes: rows * cols * 2 });

function err(f: () => unknown): BitNetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BitNetError);
    return e as BitNetError;
  }
  throw new Error('expected a throw');
}

describe('parseModelConfig', () => {
  it('parses the official 2B-4T metadata', () => {
    expect(parseModelConfig(official(), [embd()])).toEqual({
      architecture: 'bitnet-b1.58', name: 'bitnet2b', vocabSize: 128256, contextLength: 4096, nEmbd: 2560, nLayer: 30,
      nFf: 6912, nHead: 20, nHeadKv: 5, headDim: 128, ropeDim: 128, ropeTheta: 500000, ropeType: 'neox',
      rmsEps: Math.fround(1e-5), activation: 'relu2', subNorms: true, tiedEmbeddings: true,
    });
  });

  it('applies per-architecture defaults', () => {
    expect(parseModelConfig(official('bitnet-25'), [embd()])).toMatchObject({ activation: 'relu2', subNorms: true, ropeType: 'neox' });
    expect(parseModelConfig(official('bitnet'), [embd()])).toMatchObject({ activation: 'silu', subNorms: true, ropeType: 'neox' });
    expect(parseModelConfig(official('llama'), [embd()])).toMatchObject({ activation: 'silu', subNorms: false, ropeType: 'normal' });
  });

  it('honours hidden_activation and the explicit override', () => {
    const withAct = (arch: string, act: string) => parseModelConfig(official(arch, { '.hidden_activation': str(act) }), [embd()]).activation;
    expect(withAct('bitnet', 'relu2')).toBe('relu2');
    expect(withAct('bitnet', 'relu_sqr')).toBe('relu2');
    expect(withAct('bitnet-b1.58', 'silu')).toBe('silu');
    expect(err(() => withAct('bitnet', 'gelu')).code).toBe('BAD_CONFIG');
    expect(parseModelConfig(official('bitnet-b1.58', { '.hidden_activation': str('relu2') }), [embd()], { activation: 'silu' }).activation).toBe('silu');
  });

  it('accepts any integer type for hyperparameters and fills defaults', () => {
    const md = official('bitnet', {
      '.block_count': { type: T.INT32, value: 30 },
      '.embedding_length': { type: T.UINT64, value: 2560 },
      '.feed_forward_length': { type: T.UINT16, value: 6912 },
      '.attention.head_count_kv': undefined,
      '.rope.dimension_count': undefined,
      '.rope.freq_base': undefined,
      '.vocab_size': undefined,
    });
    expect(parseModelConfig(md, [embd()])).toMatchObject({ nLayer: 30, nEmbd: 2560, nFf: 6912, nHeadKv: 20, ropeDim: 128, ropeTheta: 10000, vocabSize: 128256 });
  });

  it('names the key in BAD_CONFIG errors', () => {
    for (const key of ['.embedding_length', '.block_count', '.feed_forward_length', '.context_length', '.attention.head_count', '.attention.layer_norm_rms_epsilon']) {
      const e = err(() => parseModelConfig(official('bitnet-b1.58', { [key]: undefined }), [embd()]));
      expect(e.code).toBe('BAD_CONFIG');
      expect(e.message).toContain(`bitnet-b1.58${key}`);
      expect(e.details?.key).toBe(`bitnet-b1.58${key}`);
    }
    expect(err(() => parseModelConfig(official('bitnet', { '.block_count': str('30') }), [embd()])).code).toBe('BAD_CONFIG');
    expect(err(() => parseModelConfig(official('bitnet', { '.block_count': f32(2.5) }), [embd()])).code).toBe('BAD_CONFIG');
    expect(err(() => parseModelConfig(official('bitnet', { '.block_count': { type: T.INT32, value: -1 } }), [embd()])).code).toBe('BAD_CONFIG');
    expect(err(() => parseModelConfig(official('bitnet', { '.attention.layer_norm_rms_epsilon': f32(0) }), [embd()])).code).toBe('BAD_CONFIG');
    expect(err(() => parseModelConfig(official('bitnet', { 'general.architecture': undefined }), [embd()])).code).toBe('BAD_CONFIG');
  });

  it('validates head geometry and rope dimensions', () => {
    const bad = (over: Record<string, GGUFEntry | undefined>, arch = 'bitnet-b1.58') => err(() => parseModelConfig(official(arch, over), [embd()]));
    expect(bad({ '.attention.head_count_kv': u32(3) }).message).toContain('head_count_kv');
    expect(bad({ '.attention.head_count': u32(24), '.attention.head_count_kv': u32(6) }).message).toContain('does not divide embedding_length');
    expect(bad({ '.rope.dimension_count': u32(64) }).code).toBe('BAD_CONFIG');
    expect(bad({ '.rope.dimension_count': u32(127) }, 'llama').code).toBe('BAD_CONFIG');
    expect(bad({ '.rope.dimension_count': u32(256) }, 'llama').code).toBe('BAD_CONFIG');
    expect(parseModelConfig(official('llama', { '.rope.dimension_count': u32(64) }), [embd()]).ropeDim).toBe(64);
    const kl = parseModelConfig(official('bitnet', { '.attention.head_count': u32(24), '.attention.head_count_kv': u32(6), '.attention.key_length': u32(64), '.rope.dimension_count': u32(64) }), [embd()]);
    expect([kl.headDim, kl.nHead * kl.headDim]).toEqual([64, 1536]);
    expect(bad({ '.attention.key_length': u32(128), '.attention.value_length': u32(64) }).message).toContain('value_length');
    expect(bad({ '.rope.scaling.type': str('yarn') }).code).toBe('BAD_CONFIG');
    expect(parseModelConfig(official('bitnet', { '.rope.scaling.type': str('linear'), '.rope.scaling.factor': f32(1) }), [embd()]).ropeTheta).toBe(500000);
  });

  it('checks the vocabulary against token_embd', () => {
    expect(err(() => parseModelConfig(official('bitnet', { '.vocab_size': u32(32000) }), [embd()])).code).toBe('VOCAB_MISMATCH');
    const tokens: GGUFEntry = { type: T.ARRAY, value: { type: T.ARRAY, elementType: T.STRING, values: ['a', 'b'] } };
    const md = official('bitnet', { '.vocab_size': undefined, 'tokenizer.ggml.tokens': tokens });
    expect(err(() => parseModelConfig(md, [embd()])).code).toBe('VOCAB_MISMATCH');
    expect(parseModelConfig(md, [embd(2)]).vocabSize).toBe(2);
    expect(err(() => parseModelConfig(official(), [])).code).toBe('MISSING_TENSOR');
  });

  it('rejects unknown architectures and detects untied output', () => {
    const e = err(() => parseModelConfig(official('gpt2'), [embd()]));
    expect(e.code).toBe('UNSUPPORTED_ARCHITECTURE');
    expect(e.message).toContain('gpt2');
    const out: GGUFTensorInfo = { ...embd(), name: 'output.weight' };
    expect(parseModelConfig(official(), [embd(), out]).tiedEmbeddings).toBe(false);
  });
});
