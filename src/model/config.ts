/**
 * Model hyperparameters from GGUF metadata (FORMATS.md §3.1, §3.2).
 *
 * Architectures: `bitnet-b1.58` / `bitnet-25` (ReLU², SubLN, NeoX RoPE), `bitnet` (SiLU, SubLN, NeoX),
 * `llama` (SiLU, no SubLN, 'normal' RoPE because llama.cpp converters permute Q/K; ternary
 * projections are required by the loader). `{arch}.hidden_activation` overrides the activation
 * (`relu2`/`relu_sqr`/`relu_squared` → ReLU², `silu`/`swish` → SiLU); an explicit option overrides both.
 *
 * Errors: UNSUPPORTED_ARCHITECTURE; BAD_CONFIG naming the key (missing, wrong type, not a positive
 * integer, heads not dividing, bad rope dims); MISSING_TENSOR (no token_embd.weight); VOCAB_MISMATCH.
 */
import { BitNetError } from '../errors.js';
import { getNumber, getString, getStringArray } from './gguf-access.js';
import type { GGUFMetadata, GGUFTensorInfo } from './gguf-types.js';
import type { Architecture, FfnActivation, ModelConfig } from './tensor.js';

export const SUPPORTED_ARCHITECTURES: readonly Architecture[] = ['bitnet-b1.58', 'bitnet-25', 'bitnet', 'llama'];

export interface ParseConfigOptions {
  /** Forces the FFN activation regardless of metadata. */
  readonly activation?: FfnActivation;
}

const ACTIVATIONS: Readonly<Record<string, FfnActivation>> = {
  relu2: 'relu2', relu_sqr: 'relu2', relu_squared: 'relu2', squared_relu: 'relu2', silu: 'silu', swish: 'silu',
};

function badConfig(key: string, msg: string): BitNetError {
  return new BitNetError('BAD_CONFIG', `${key}: ${msg}`, { details: { key } });
}

/** Reads a numeric key, mapping metadata type errors to BAD_CONFIG. */
function num(md: GGUFMetadata, key: string): number | undefined {
  try {
    return getNumber(md, key);
  } catch (e) {
    throw badConfig(key, (e as Error).message);
  }
}

function str(md: GGUFMetadata, key: string): string | undefined {
  try {
    return getString(md, key);
  } catch (e) {
    throw badConfig(key, (e as Error).message);
  }
}

function positiveInt(md: GGUFMetadata, key: string, fallback?: number): number {
  const v = num(md, key) ?? fallback;
  if (v === undefined) throw badConfig(key, 'required key is missing');
  if (!Number.isSafeInteger(v) || v <= 0) throw badConfig(key, `must be a positive integer, got ${v}`);
  return v;
}

function positiveFloat(md: GGUFMetadata, key: string, fallback?: number): number {
  const v = num(md, key) ?? fallback;
  if (v === undefined) throw badConfig(key, 'required key is missing');
  if (!Number.isFinite(v) || v <= 0) throw badConfig(key, `must be a positive number, got ${v}`);
  return v;
}

function resolveActivation(md: GGUFMetadata, arch: Architecture, override?: FfnActivation): FfnActivation {
  if (override) return override;
  const key = `${arch}.hidden_activation`;
  const name = str(md, key);
  if (name !== undefined) {
    const a = ACTIVATIONS[name.toLowerCase()];
    if (!a) throw badConfig(key, `unsupported activation "${name}" (expected relu2, relu_sqr or silu)`);
    return a;
  }
  return arch === 'bitnet-b1.58' || arch === 'bitnet-25' ? 'relu2' : 'silu';
}

/** Parses and validates the model configuration. `tensors` supply the vocabulary/embedding check. */
export function parseModelConfig(md: GGUFMetadata, tensors: readonly GGUFTensorInfo[], options: ParseConfigOptions = {}): ModelConfig {
  const archName = str(md, 'general.architecture');
  if (archName === undefined) throw badConfig('general.architecture', 'required key is missing');
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(archName)) {
    throw new BitNetError('UNSUPPORTED_ARCHITECTURE', `architecture "${archName}" is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`, {
      details: { architecture: archName },
    });
  }
  const arch = archName as Architecture;
  const k = (suffix: string): string => `${arch}.${suffix}`;

  const nEmbd = positiveInt(md, k('embedding_length'));
  const nLayer = positiveInt(md, k('block_count'));
  const nFf = positiveInt(md, k('feed_forward_length'));
  const contextLength = positiveInt(md, k('context_length'));
  const nHead = positiveInt(md, k('attention.head_count'));
  const nHeadKv = positiveInt(md, k('attention.head_count_kv'), nHead);
  if (nHead % nHeadKv !== 0) throw badConfig(k('attention.head_count_kv'), `${nHeadKv} does not divide head_count ${nHead}`);

  let headDim: number;
  if (md.has(k('attention.key_length'))) {
    headDim = positiveInt(md, k('attention.key_length'));
  } else {
    if (nEmbd % nHead !== 0) throw badConfig(k('attention.head_count'), `${nHead} does not divide embedding_length ${nEmbd}`);
    headDim = nEmbd / nHead;
  }
  const valueLength = positiveInt(md, k('attention.value_length'), headDim);
  if (valueLength !== headDim) throw badConfig(k('attention.value_length'), `${valueLength} differs from key_length ${headDim} (unsupported)`);

  const ropeDim = positiveInt(md, k('rope.dimension_count'), headDim);
  if (ropeDim > headDim || ropeDim % 2 !== 0) throw badConfig(k('rope.dimension_count'), `${ropeDim} must be even and at most head_dim ${headDim}`);
  if ((arch === 'bitnet-b1.58' || arch === 'bitnet-25') && ropeDim !== headDim) {
    throw badConfig(k('rope.dimension_count'), `${ropeDim} must equal head_dim ${headDim} for ${arch}`);
  }
  const ropeTheta = positiveFloat(md, k('rope.freq_base'), 10000);
  const rmsEps = positiveFloat(md, k('attention.layer_norm_rms_epsilon'));
  const scalingType = str(md, k('rope.scaling.type'));
  if (scalingType !== undefined && scalingType !== 'none' && scalingType !== 'linear') {
    throw badConfig(k('rope.scaling.type'), `RoPE scaling "${scalingType}" is not supported`);
  }
  const scalingFactor = num(md, k('rope.scaling.factor'));
  if (scalingType === 'linear' && scalingFactor !== undefined && scalingFactor !== 1 && scalingFactor !== 0) {
    throw badConfig(k('rope.scaling.factor'), `linear RoPE scaling factor ${scalingFactor} is not supported`);
  }

  const embd = tensors.find((t) => t.name === 'token_embd.weight');
  if (!embd) throw new BitNetError('MISSING_TENSOR', 'tensor "token_embd.weight" is missing', { details: { tensor: 'token_embd.weight' } });
  const embdRows = embd.dims[1] ?? 1;
  const vocabKey = num(md, k('vocab_size'));
  if (vocabKey !== undefined && vocabKey !== embdRows) {
    throw new BitNetError('VOCAB_MISMATCH', `${k('vocab_size')} = ${vocabKey} but token_embd.weight has ${embdRows} rows`, { details: { key: k('vocab_size') } });
  }
  let tokens: readonly string[] | undefined;
  try {
    tokens = getStringArray(md, 'tokenizer.ggml.tokens');
  } catch (e) {
    throw badConfig('tokenizer.ggml.tokens', (e as Error).message);
  }
  if (tokens !== undefined && tokens.length !== embdRows) {
    throw new BitNetError('VOCAB_MISMATCH', `tokenizer.ggml.tokens has ${tokens.length} entries but token_embd.weight has ${embdRows} rows`, {
      details: { key: 'tokenizer.ggml.tokens' },
    });
  }

  const isLlama = arch === 'llama';
  return {
    architecture: arch,
    name: str(md, 'general.name') ?? arch,
    vocabSize: embdRows,
    contextLength,
    nEmbd,
    nLayer,
    nFf,
    nHead,
    nHeadKv,
    headDim,
    ropeDim,
    ropeTheta,
    ropeType: isLlama ? 'normal' : 'neox',
    rmsEps,
    activation: resolveActivation(md, arch, options.activation),
    subNorms: !isLlama,
    tiedEmbeddings: !tensors.some((t) => t.name === 'output.weight'),
  };
}
