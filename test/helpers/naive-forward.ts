/**
 * An independent, deliberately plain float re-implementation of FORMATS.md §4.2 used as a test
 * oracle for the reference backend: float64 math, "fake-quantized" activations (q / a_scale),
 * dequantized weights (T · scale), full recomputation of attention over the whole prefix (no cache).
 */
import type { ModelConfig } from '../../src/model/tensor.js';
import type { TinyModel } from './tiny-model.js';

function rhe(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

export function fakeQuant(x: number[]): number[] {
  const amax = Math.max(1e-5, ...x.map(Math.abs));
  const s = 127 / amax;
  return x.map((v) => Math.min(127, Math.max(-128, rhe(v * s))) / s);
}

export function rms(x: number[], w: ArrayLike<number>, eps: number): number[] {
  const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
  return x.map((v, i) => (v / Math.sqrt(ms + eps)) * w[i]!);
}

/** y = (T · scale) x · outScale, with T given row-major rows × cols. */
export function linear(t: Int8Array, scale: number, rows: number, cols: number, x: number[], outScale = 1): number[] {
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += t[r * cols + c]! * scale * x[c]!;
    y.push(s * outScale);
  }
  return y;
}

export function ropeHead(v: number[], pos: number, cfg: ModelConfig): number[] {
  const out = v.slice();
  const d = cfg.ropeDim;
  for (let i = 0; i < d / 2; i++) {
    const ang = pos / Math.pow(cfg.ropeTheta, (2 * i) / d);
    const [a, b] = cfg.ropeType === 'neox' ? [i, i + d / 2] : [2 * i, 2 * i + 1];
    out[a] = v[a]! * Math.cos(ang) - v[b]! * Math.sin(ang);
    out[b] = v[a]! * Math.sin(ang) + v[b]! * Math.cos(ang);
  }
  return out;
}

export interface NaiveResult {
  /** Final-norm hidden state per position. */
  hidden: number[][];
  logits: number[][];
}

export function naiveForward(m: TinyModel, tokens: number[]): NaiveResult {
  const w = m.weights;
  const c = w.config;
  const hd = c.headDim;
  const qDim = c.nHead * hd;
  const kvDim = c.nHeadKv * hd;
  let xs = tokens.map((t) => Array.from(m.embd.subarray(t * c.nEmbd, (t + 1) * c.nEmbd)));
  for (let l = 0; l < c.nLayer; l++) {
    const L = w.layers[l]!;
    const T = m.ternary[l]!;
    const S = L.outScales;
    const Q: number[][] = [], K: number[][] = [], V: number[][] = [];
    xs.forEach((x, p) => {
      const h = fakeQuant(rms(x, L.attnNorm, c.rmsEps));
      const q = linear(T.wq, L.wq.scale, qDim, c.nEmbd, h, S.q);
      const k = linear(T.wk, L.wk.scale, kvDim, c.nEmbd, h, S.k);
      const v = linear(T.wv, L.wv.scale, kvDim, c.nEmbd, h, S.v);
      const heads = (a: number[], n: number): number[] => {
        const r: number[] = [];
        for (let i = 0; i < n; i++) r.push(...ropeHead(a.slice(i * hd, (i + 1) * hd), p, c));
        return r;
      };
      Q.push(heads(q, c.nHead));
      K.push(heads(k, c.nHeadKv));
      V.push(v);
    });
    xs = xs.map((x, p) => {
      const att: number[] = new Array(qDim).fill(0);
      for (let h = 0; h < c.nHead; h++) {
        const kh = Math.floor((h * c.nHeadKv) / c.nHead);
        const sc: number[] = [];
        for (let j = 0; j <= p; j++) {
          let s = 0;
          for (let i = 0; i < hd; i++) s += Q[p]![h * hd + i]! * K[j]![kh * hd + i]!;
          sc.push(s / Math.sqrt(hd));
        }
        const mx = Math.max(...sc);
        const e = sc.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= p; j++) for (let i = 0; i < hd; i++) att[h * hd + i] += (e[j]! / z) * V[j]![kh * hd + i]!;
      }
      const a2 = c.subNorms ? rms(att, L.attnSubNorm!, c.rmsEps) : att;
      const o = linear(T.wo, L.wo.scale, c.nEmbd, qDim, fakeQuant(a2), S.o);
      const x1 = x.map((v, i) => v + o[i]!);
      const h = fakeQuant(rms(x1, L.ffnNorm, c.rmsEps));
      const g = linear(T.wGate, L.wGate.scale, c.nFf, c.nEmbd, h, S.gate);
      const u = linear(T.wUp, L.wUp.scale, c.nFf, c.nEmbd, h, S.up);
      const act = (z: number): number => (c.activation === 'relu2' ? (z > 0 ? z * z : 0) : z / (1 + Math.exp(-z)));
      const mm = g.map((gv, i) => act(gv) * u[i]!);
      const m2 = c.subNorms ? rms(mm, L.ffnSubNorm!, c.rmsEps) : mm;
      const d = linear(T.wDown, L.wDown.scale, c.nEmbd, c.nFf, fakeQuant(m2), S.down);
      return x1.map((v, i) => v + d[i]!);
    });
  }
  const hidden = xs.map((x) => rms(x, w.outputNorm, c.rmsEps));
  const logits = hidden.map((h) => {
    const r: number[] = [];
    for (let v = 0; v < c.vocabSize; v++) {
      let s = 0;
      for (let i = 0; i < c.nEmbd; i++) s += m.out[v * c.nEmbd + i]! * h[i]!;
      r.push(s);
    }
    return r;
  });
  return { hidden, logits };
}
