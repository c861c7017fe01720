/**
 * Builds small random ModelWeights in memory (no GGUF involved) for backend / runtime tests.
 * Ternary matrices are packed in the canonical layout of src/model/tensor.ts.
 */
import type { FloatMatrix, LayerWeights, ModelConfig, ModelWeights, TernaryMatrix } from '../../src/model/tensor.js';
import { createRng } from '../../src/runtime/rng.js';

export interface TinyModelOptions extends Partial<ModelConfig> {
  seed?: number;
  /** Add `.scale` output scales different from 1. */
  outScales?: boolean;
  /** Use untied output matrix. */
  untied?: boolean;
}

/** Packs ternary values (−1/0/+1, row-major rows × cols) into a TernaryMatrix. */
export function packTernary(t: ArrayLike<number>, rows: number, cols: number, scale: number): TernaryMatrix {
  const rowBytes = (cols + 3) >> 2;
  const packed = new Uint8Array(rows * rowBytes).fill(0x55); // code 1 = zero everywhere (incl. padding)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const code = t[r * cols + c]! + 1;
      const i = r * rowBytes + (c >> 2);
      const sh = (c & 3) * 2;
      packed[i] = (packed[i]! & ~(3 << sh)) | (code << sh);
    }
  }
  return { kind: 'ternary', rows, cols, packed, scale, blockScales: null, scaleBlock: cols, sourceType: 'test' };
}

export function f32Matrix(values: Float32Array, rows: number, cols: number): FloatMatrix {
  return { kind: 'float', rows, cols, storage: 'f32', data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

export interface TinyModel {
  weights: ModelWeights;
  /** Unpacked ternary values per layer, for independent recomputation. */
  ternary: Array<Record<'wq' | 'wk' | 'wv' | 'wo' | 'wGate' | 'wUp' | 'wDown', Int8Array>>;
  embd: Float32Array;
  out: Float32Array;
}

export function tinyModel(o: TinyModelOptions = {}): TinyModel {
  const rng = createRng(o.seed ?? 1);
  const uni = (): number => rng.nextFloat() * 2 - 1;
  const nEmbd = o.nEmbd ?? 16;
  const nHead = o.nHead ?? 4;
  const nHeadKv = o.nHeadKv ?? 2;
  const headDim = o.headDim ?? nEmbd / nHead;
  const config: ModelConfig = {
    architecture: o.architecture ?? 'bitnet-b1.58',
    name: 'tiny',
    vocabSize: o.vocabSize ?? 24,
    contextLength: o.contextLength ?? 32,
    nEmbd,
    nLayer: o.nLayer ?? 2,
    nFf: o.nFf ?? 24,
    nHead,
    nHeadKv,
    headDim,
    ropeDim: o.ropeDim ?? headDim,
    ropeTheta: o.ropeTheta ?? 10000,
    ropeType: o.ropeType ?? 'neox',
    rmsEps: o.rmsEps ?? 1e-5,
    activation: o.activation ?? 'relu2',
    subNorms: o.subNorms ?? true,
    tiedEmbeddings: !o.untied,
  };
  const qDim = nHead * headDim;
  const kvDim = nHeadKv * headDim;
  const tern = (rows: number, cols: number): [TernaryMatrix, Int8Array] => {
    const t = new Int8Array(rows * cols);
    for (let i = 0; i < t.length; i++) t[i] = Math.floor(rng.nextFloat() * 3) - 1;
    const scale = 0.5 + rng.nextFloat();
    return [packTernary(t, rows, cols, scale), t];
  };
  const norm = (n: number): Float32Array => Float32Array.from({ length: n }, () => 0.5 + rng.nextFloat());
  const layers: LayerWeights[] = [];
  const ternary: TinyModel['ternary'] = [];
  for (let l = 0; l < config.nLayer; l++) {
    const [wq, tq] = tern(qDim, nEmbd);
    const [wk, tk] = tern(kvDim, nEmbd);
    const [wv, tv] = tern(kvDim, nEmbd);
    const [wo, to] = tern(nEmbd, qDim);
    const [wGate, tg] = tern(config.nFf, nEmbd);
    const [wUp, tu] = tern(config.nFf, nEmbd);
    const [wDown, td] = tern(nEmbd, config.nFf);
    const sc = (): number => (o.outScales ? 0.5 + rng.nextFloat() : 1);
    layers.push({
      attnNorm: norm(nEmbd),
      wq, wk, wv,
      attnSubNorm: config.subNorms ? norm(qDim) : null,
      wo,
      ffnNorm: norm(nEmbd),
      wGate, wUp,
      ffnSubNorm: config.subNorms ? norm(config.nFf) : null,
      wDown,
      outScales: { q: sc(), k: sc(), v: sc(), o: sc(), gate: sc(), up: sc(), down: sc() },
    });
    ternary.push({ wq: tq, wk: tk, wv: tv, wo: to, wGate: tg, wUp: tu, wDown: td });
  }
  const embd = Float32Array.from({ length: config.vocabSize * nEmbd }, uni);
  const tokenEmbd = f32Matrix(embd, config.vocabSize, nEmbd);
  const out = o.untied ? Float32Array.from({ length: config.vocabSize * nEmbd }, uni) : embd;
  const output = o.untied ? f32Matrix(out, config.vocabSize, nEmbd) : tokenEmbd;
  return { weights: { config, tokenEmbd, output, outputNorm: norm(nEmbd), layers }, ternary, embd, out };
}
