/**
 * One-token transformer step with the scalar reference kernels, exactly FORMATS.md §4.2
 * (SubLN BitNet, ReLU² or SiLU gate per config) and the plain `llama` variant (no sub-norms).
 * Fused projections that read the same input (q/k/v, gate/up) share one activation quantization;
 * each applies its own weight scale and optional `.scale` output scale.
 */
import type { LayerWeights, ModelConfig, ModelWeights, TernaryMatrix } from '../../model/tensor.js';
import type { KVCache } from '../../runtime/kv-cache.js';
import { BitNetError } from '../../errors.js';
import { quantizeActivations, relu2, rmsNorm, rope, scaleAccumulators, silu, softmax, ternaryAccumulate, type QuantizedActivations } from './kernels.js';
import { FloatRows } from './float-rows.js';

/** Projection of already-quantized activations through one ternary matrix. */
function project(m: TernaryMatrix, a: QuantizedActivations, outScale: number): Float32Array {
  return scaleAccumulators(m, ternaryAccumulate(m, a.q), a.scale, outScale);
}

function expectShape(name: string, m: { rows: number; cols: number }, rows: number, cols: number): void {
  if (m.rows !== rows || m.cols !== cols) {
    throw new BitNetError('BAD_TENSOR_SHAPE', `${name}: expected ${rows}×${cols} (rows×cols), got ${m.rows}×${m.cols}`);
  }
}

function expectLen(name: string, v: Float32Array | null, n: number): void {
  if (v === null) throw new BitNetError('MISSING_TENSOR', `${name} is required by this architecture`);
  if (v.length !== n) throw new BitNetError('BAD_TENSOR_SHAPE', `${name}: expected ${n} values, got ${v.length}`);
}

/**
 * Checks that config and weight shapes agree.
 * @throws BitNetError BAD_CONFIG / BAD_TENSOR_SHAPE / MISSING_TENSOR.
 */
export function validateWeights(w: ModelWeights): void {
  const c = w.config;
  const ints = { nEmbd: c.nEmbd, nLayer: c.nLayer, nFf: c.nFf, nHead: c.nHead, nHeadKv: c.nHeadKv, headDim: c.headDim, vocabSize: c.vocabSize };
  for (const [k, v] of Object.entries(ints)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new BitNetError('BAD_CONFIG', `${k} must be a positive integer, got ${v}`);
  }
  if (c.nHead % c.nHeadKv !== 0) throw new BitNetError('BAD_CONFIG', `nHead ${c.nHead} is not a multiple of nHeadKv ${c.nHeadKv}`);
  if (c.ropeDim % 2 !== 0 || c.ropeDim > c.headDim || c.ropeDim < 0) throw new BitNetError('BAD_CONFIG', `ropeDim ${c.ropeDim} must be even and ≤ headDim ${c.headDim}`);
  if (w.layers.length !== c.nLayer) throw new BitNetError('BAD_CONFIG', `config has ${c.nLayer} layers, weights have ${w.layers.length}`);
  const qDim = c.nHead * c.headDim;
  const kvDim = c.nHeadKv * c.headDim;
  expectShape('token_embd', w.tokenEmbd, c.vocabSize, c.nEmbd);
  if (w.output.cols !== c.nEmbd) throw new BitNetError('BAD_TENSOR_SHAPE', `output: expected ${c.nEmbd} cols, got ${w.output.cols}`);
  expectLen('output_norm', w.outputNorm, c.nEmbd);
  w.layers.forEach((l, i) => {
    const p = `blk.${i}.`;
    expectLen(p + 'attn_norm', l.attnNorm, c.nEmbd);
    expectLen(p + 'ffn_norm', l.ffnNorm, c.nEmbd);
    expectShape(p + 'attn_q', l.wq, qDim, c.nEmbd);
    expectShape(p + 'attn_k', l.wk, kvDim, c.nEmbd);
    expectShape(p + 'attn_v', l.wv, kvDim, c.nEmbd);
    expectShape(p + 'attn_output', l.wo, c.nEmbd, qDim);
    expectShape(p + 'ffn_gate', l.wGate, c.nFf, c.nEmbd);
    expectShape(p + 'ffn_up', l.wUp, c.nFf, c.nEmbd);
    expectShape(p + 'ffn_down', l.wDown, c.nEmbd, c.nFf);
    if (c.subNorms) {
      expectLen(p + 'attn_sub_norm', l.attnSubNorm, qDim);
      expectLen(p + 'ffn_sub_norm', l.ffnSubNorm, c.nFf);
    }
  });
}

/** Causal attention of one position over cached K/V (positions 0..pos inclusive), GQA-aware. */
export function attend(c: ModelConfig, q: Float32Array, cache: KVCache, layer: number, pos: number): Float32Array {
  const hd = c.headDim;
  const kvDim = c.nHeadKv * hd;
  const group = c.nHead / c.nHeadKv;
  const keys = cache.keys(layer);
  const vals = cache.values(layer);
  const out = new Float32Array(c.nHead * hd);
  const scores = new Float32Array(pos + 1);
  const inv = Math.fround(1 / Math.sqrt(hd));
  for (let h = 0; h < c.nHead; h++) {
    const kvOff = Math.floor(h / group) * hd;
    const qOff = h * hd;
    for (let j = 0; j <= pos; j++) {
      const kOff = j * kvDim + kvOff;
      let s = 0;
      for (let i = 0; i < hd; i++) s += q[qOff + i]! * keys[kOff + i]!;
      scores[j] = Math.fround(s) * inv;
    }
    softmax(scores, pos + 1);
    for (let j = 0; j <= pos; j++) {
      const p = scores[j]!;
      const vOff = j * kvDim + kvOff;
      for (let i = 0; i < hd; i++) out[qOff + i] += p * vals[vOff + i]!;
    }
  }
  return out;
}

/** One decoder layer applied in place to the residual stream `x` for the token at `pos`. */
export function layerStep(c: ModelConfig, l: LayerWeights, layer: number, x: Float32Array, cache: KVCache, pos: number): void {
  const s = l.outScales;
  // Attention block.
  const h = rmsNorm(x, l.attnNorm, c.rmsEps);
  const ah = quantizeActivations(h);
  const q = project(l.wq, ah, s.q);
  const k = project(l.wk, ah, s.k);
  const v = project(l.wv, ah, s.v);
  for (let hh = 0; hh < c.nHead; hh++) rope(q, hh * c.headDim, c.headDim, c.ropeDim, pos, c.ropeTheta, c.ropeType);
  for (let hh = 0; hh < c.nHeadKv; hh++) rope(k, hh * c.headDim, c.headDim, c.ropeDim, pos, c.ropeTheta, c.ropeType);
  cache.write(layer, pos, k, v);
  let att: Float32Array = attend(c, q, cache, layer, pos);
  if (c.subNorms) att = rmsNorm(att, l.attnSubNorm!, c.rmsEps);
  const o = project(l.wo, quantizeActivations(att), s.o);
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + o[i]!);
  // Feed-forward block.
  const h2 = rmsNorm(x, l.ffnNorm, c.rmsEps);
  const af = quantizeActivations(h2);
  const g = project(l.wGate, af, s.gate);
  const u = project(l.wUp, af, s.up);
  let m: Float32Array = new Float32Array(c.nFf);
  const act = c.activation === 'relu2' ? relu2 : silu;
  for (let i = 0; i < m.length; i++) m[i] = act(g[i]!) * u[i]!;
  if (c.subNorms) m = rmsNorm(m, l.ffnSubNorm!, c.rmsEps);
  const d = project(l.wDown, quantizeActivations(m), s.down);
  for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + d[i]!);
}

/** The whole model for one token at a time; holds decoded float matrices. */
export class ReferenceTransformer {
  readonly config: ModelConfig;
  readonly vocabOut: number;
  private readonly embd: FloatRows;
  private readonly out: FloatRows;

  constructor(private readonly w: ModelWeights) {
    validateWeights(w);
    this.config = w.config;
    this.embd = new FloatRows(w.tokenEmbd);
    this.out = w.output === w.tokenEmbd ? this.embd : new FloatRows(w.output);
    this.vocabOut = w.output.rows;
  }

  /**
   * Runs token `token` at position `pos` (= cache.length; the caller reserved room and commits
   * afterwards) and returns the final-norm hidden state (nEmbd).
   */
  step(token: number, pos: number, cache: KVCache): Float32Array {
    const x = Float32Array.from(this.embd.row(token));
    for (let l = 0; l < this.config.nLayer; l++) layerStep(this.config, this.w.layers[l]!, l, x, cache, pos);
    return rmsNorm(x, this.w.outputNorm, this.config.rmsEps);
  }

  /** logits[v] = Σ_c out[v, c] · hidden[c] (full precision, no activation quantization). */
  logits(hidden: Float32Array, out: Float32Array = new Float32Array(this.vocabOut)): Float32Array {
    for (let v = 0; v < this.vocabOut; v++) {
      const row = this.out.row(v);
      let s = 0;
      for (let c = 0; c < row.length; c++) s += row[c]! * hidden[c]!;
      out[v] = s;
    }
    return out;
  }
}
