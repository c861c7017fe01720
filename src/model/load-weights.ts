/**
 * Reads every tensor a model needs from an opened GGUF (FORMATS.md §3.3) and decodes it into
 * `ModelWeights`. All names, types and shapes are validated before any tensor data is read.
 *
 * - Projections (attn_q/k/v/output, ffn_gate/up/down) must be ternary: TQ1_0, TQ2_0 or I2_S.
 * - token_embd / output: F32, F16, BF16 or Q8_0, kept in storage form (`FloatMatrix`).
 * - Norms: any of those float types, decoded to Float32Array. Sub-norms are required for BitNet
 *   architectures and ignored for `llama`.
 * - Optional `blk.N.<proj>.scale` tensors (one element) become `outScales` (default 1).
 * - Tied output when `output.weight` is absent (`output === tokenEmbd`).
 * - Bias tensors and `rope_freqs.weight` are not supported (BAD_CONFIG) rather than silently ignored.
 *
 * Errors: MISSING_TENSOR, BAD_TENSOR_TYPE, BAD_TENSOR_SHAPE, BAD_TENSOR_DATA, BAD_CONFIG and the
 * config errors of config.ts; aborts throw AbortError.
 */
import { BitNetError, throwIfAborted } from '../errors.js';
import { parseModelConfig } from './config.js';
import { floatMatrixFromTensor, floatsFromTensor, isFloatType, isTernaryType, ternaryFromTensor } from './formats/index.js';
import type { GGUFFile } from './gguf.js';
import type { GGUFTensorInfo } from './gguf-types.js';
import type { FfnActivation, FloatMatrix, LayerWeights, ModelConfig, ModelWeights, TernaryMatrix } from './tensor.js';

export interface LoadWeightsOptions {
  readonly signal?: AbortSignal;
  /** Called after each tensor with bytes read so far and the total to read. */
  readonly onProgress?: (loadedBytes: number, totalBytes: number) => void;
  /** Forces the FFN activation (see config.ts). */
  readonly activation?: FfnActivation;
}

type Kind = 'ternary' | 'float' | 'norm' | 'scale';

interface Need {
  readonly name: string;
  readonly kind: Kind;
  readonly dims: readonly number[];
}

const PROJECTIONS = [
  ['attn_q', 'q'], ['attn_k', 'k'], ['attn_v', 'v'], ['attn_output', 'o'], ['ffn_gate', 'gate'], ['ffn_up', 'up'], ['ffn_down', 'down'],
] as const;

function sameShape(actual: readonly number[], expected: readonly number[]): boolean {
  for (let i = 0; i < 4; i++) if ((actual[i] ?? 1) !== (expected[i] ?? 1)) return false;
  return true;
}

/**
 * The tensors a model needs, in load order, each validated as soon as it is listed (so a corrupt
 * `block_count` fails at the first missing layer instead of building a huge list).
 */
function requiredTensors(c: ModelConfig, file: GGUFFile): Array<[Need, GGUFTensorInfo]> {
  const qDim = c.nHead * c.headDim;
  const kvDim = c.nHeadKv * c.headDim;
  const out: Array<[Need, GGUFTensorInfo]> = [];
  const needs = { push: (n: Need): void => void out.push([n, validate(n, file.tensor(n.name))]) };
  needs.push({ name: 'token_embd.weight', kind: 'float', dims: [c.nEmbd, c.vocabSize] });
  needs.push({ name: 'output_norm.weight', kind: 'norm', dims: [c.nEmbd] });
  if (!c.tiedEmbeddings) needs.push({ name: 'output.weight', kind: 'float', dims: [c.nEmbd, c.vocabSize] });
  const projDims: Record<string, number[]> = {
    attn_q: [c.nEmbd, qDim], attn_k: [c.nEmbd, kvDim], attn_v: [c.nEmbd, kvDim], attn_output: [qDim, c.nEmbd],
    ffn_gate: [c.nEmbd, c.nFf], ffn_up: [c.nEmbd, c.nFf], ffn_down: [c.nFf, c.nEmbd],
  };
  for (let l = 0; l < c.nLayer; l++) {
    const p = `blk.${l}.`;
    needs.push({ name: `${p}attn_norm.weight`, kind: 'norm', dims: [c.nEmbd] });
    needs.push({ name: `${p}ffn_norm.weight`, kind: 'norm', dims: [c.nEmbd] });
    if (c.subNorms) {
      needs.push({ name: `${p}attn_sub_norm.weight`, kind: 'norm', dims: [qDim] });
      needs.push({ name: `${p}ffn_sub_norm.weight`, kind: 'norm', dims: [c.nFf] });
    }
    for (const [proj] of PROJECTIONS) {
      needs.push({ name: `${p}${proj}.weight`, kind: 'ternary', dims: projDims[proj]! });
      if (file.tensor(`${p}${proj}.scale`)) needs.push({ name: `${p}${proj}.scale`, kind: 'scale', dims: [1] });
      const bias = `${p}${proj}.bias`;
      if (file.tensor(bias)) throw new BitNetError('BAD_CONFIG', `bias tensor "${bias}" is not supported`, { details: { tensor: bias } });
    }
  }
  if (file.tensor('rope_freqs.weight')) {
    throw new BitNetError('BAD_CONFIG', 'tensor "rope_freqs.weight" (RoPE frequency scaling) is not supported', { details: { tensor: 'rope_freqs.weight' } });
  }
  return out;
}

function validate(need: Need, t: GGUFTensorInfo | undefined): GGUFTensorInfo {
  if (!t) throw new BitNetError('MISSING_TENSOR', `tensor "${need.name}" is missing`, { details: { tensor: need.name } });
  const typeOk = need.kind === 'ternary' ? isTernaryType(t.type) : isFloatType(t.type);
  if (!typeOk) {
    const want = need.kind === 'ternary' ? 'TQ1_0, TQ2_0 or I2_S' : 'F32, F16, BF16 or Q8_0';
    throw new BitNetError('BAD_TENSOR_TYPE', `tensor "${t.name}" has type ${t.type}, expected ${want}`, { details: { tensor: t.name, type: t.type } });
  }
  if (!sameShape(t.dims, need.dims)) {
    throw new BitNetError('BAD_TENSOR_SHAPE', `tensor "${t.name}" has shape [${t.dims.join(', ')}], expected [${need.dims.join(', ')}]`, {
      details: { tensor: t.name, dims: [...t.dims], expected: [...need.dims] },
    });
  }
  return t;
}

type Decoded = TernaryMatrix | FloatMatrix | Float32Array | number;

function decode(need: Need, info: GGUFTensorInfo, bytes: Uint8Array): Decoded {
  switch (need.kind) {
    case 'ternary': return ternaryFromTensor(info, bytes);
    case 'float': return floatMatrixFromTensor(info, bytes);
    case 'norm': return floatsFromTensor(info, bytes);
    case 'scale': {
      const v = floatsFromTensor(info, bytes)[0]!;
      if (!Number.isFinite(v)) throw new BitNetError('BAD_TENSOR_DATA', `tensor "${info.name}" holds a non-finite scale`, { details: { tensor: info.name } });
      return v;
    }
  }
}

/** Loads and decodes all model weights. */
export async function loadModelWeights(file: GGUFFile, options: LoadWeightsOptions = {}): Promise<ModelWeights> {
  throwIfAborted(options.signal);
  const config = parseModelConfig(file.metadata, file.tensors, { activation: options.activation });
  const plan = requiredTensors(config, file);
  const total = plan.reduce((s, [, t]) => s + t.nbytes, 0);
  const out = new Map<string, Decoded>();
  let loaded = 0;
  for (const [need, info] of plan) {
    throwIfAborted(options.signal);
    const bytes = await file.readTensorBytes(info);
    out.set(need.name, decode(need, info, bytes));
    loaded += info.nbytes;
    options.onProgress?.(loaded, total);
  }
  throwIfAborted(options.signal);

  const get = <T extends Decoded>(name: string): T => out.get(name) as T;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const p = `blk.${l}.`;
    const scale = (proj: string): number => (out.has(`${p}${proj}.scale`) ? get<number>(`${p}${proj}.scale`) : 1);
    layers.push({
      attnNorm: get(`${p}attn_norm.weight`),
      wq: get(`${p}attn_q.weight`),
      wk: get(`${p}attn_k.weight`),
      wv: get(`${p}attn_v.weight`),
      attnSubNorm: config.subNorms ? get<Float32Array>(`${p}attn_sub_norm.weight`) : null,
      wo: get(`${p}attn_output.weight`),
      ffnNorm: get(`${p}ffn_norm.weight`),
      wGate: get(`${p}ffn_gate.weight`),
      wUp: get(`${p}ffn_up.weight`),
      ffnSubNorm: config.subNorms ? get<Float32Array>(`${p}ffn_sub_norm.weight`) : null,
      wDown: get(`${p}ffn_down.weight`),
      outScales: {
        q: scale('attn_q'), k: scale('attn_k'), v: scale('attn_v'), o: scale('attn_output'),
        gate: scale('ffn_gate'), up: scale('ffn_up'), down: scale('ffn_down'),
      },
    });
  }
  const tokenEmbd = get<FloatMatrix>('token_embd.weight');
  return {
    config,
    tokenEmbd,
    output: config.tiedEmbeddings ? tokenEmbd : get<FloatMatrix>('output.weight'),
    outputNorm: get('output_norm.weight'),
    layers,
  };
}
