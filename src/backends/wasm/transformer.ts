/**
 * The batched forward pass on the wasm kernels (FORMATS.md §4.2, same op order as the reference
 * transformer): every projection runs once per chunk as a GEMM over all tokens of all sequences
 * (q/k/v and gate/up fused into one dispatch each, sharing one activation quantization; blocks of
 * 6–8 tokens on the table-lookup kernels, see ternary-dispatch.ts, unless `lutGemm` is off);
 * attention runs per token against that token's own sequence pages. Scratch buffers for up to
 * `maxTokens` tokens are allocated once.
 */
import type { LayerWeights, ModelConfig } from '../../model/tensor.js';
import { BitNetError } from '../../errors.js';
import { AJOB_BYTES, FMT, LJOB_BYTES, LUT_BYTES_PER_COL, TJOB_BYTES, writeAJob, writeLJob, type TMatDesc } from './abi.js';
import type { KvPagePool } from './kv-pages.js';
import { LUT_MIN_TOKENS, runTernary } from './ternary-dispatch.js';
import { padCols, type DevModel, type DevTernary } from './weights.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Rows of logits computed per bn_logits dispatch. */
export const LOGIT_TOKENS = 16;

export interface ChunkToken {
  readonly token: number;
  readonly pos: number;
  /** Address of the sequence's page table. */
  readonly table: number;
}

interface Proj {
  readonly m: DevTernary;
  readonly out: number;
  readonly ldo: number;
  readonly outScale: number;
}


/** Bytes of the LUT GEMM table: 0 when the table-lookup kernels cannot run (off, or chunks below LUT_MIN_TOKENS). */
function lutBytes(widest: number, maxTokens: number, lutGemm: boolean): number {
  return lutGemm && maxTokens >= LUT_MIN_TOKENS ? padCols(widest) * LUT_BYTES_PER_COL : 0;
}
export class WasmTransformer {
  readonly maxTokens: number;
  private readonly c: ModelConfig;
  private readonly qDim: number;
  private readonly kvDim: number;
  private readonly buf: Record<string, number> = {};
  private readonly maxChunks: number;

  constructor(
    private readonly rt: WasmRuntime,
    private readonly dev: DevModel,
    config: ModelConfig,
    private readonly outScales: readonly LayerWeights['outScales'][],
    private readonly kv: KvPagePool,
    maxTokens: number,
    private readonly logitsInt8: boolean,
    lutGemm = true,
  ) {
    this.c = config;
    this.maxTokens = maxTokens;
    this.qDim = config.nHead * config.headDim;
    this.kvDim = config.nHeadKv * config.headDim;
    const c = config;
    const B = maxTokens;
    const widest = Math.max(c.nEmbd, this.qDim, c.nFf);
    this.maxChunks = padCols(widest) / 64;
    const grp = c.nHead / c.nHeadKv;
    const a = rt.arena;
    const f = (n: number): number => a.alloc(n * 4);
    const lut = lutBytes(widest, B, lutGemm);
    Object.assign(this.buf, {
      X: f(B * c.nEmbd), H: f(B * Math.max(c.nEmbd, this.qDim)), Q: f(B * this.qDim), K: f(B * this.kvDim), V: f(B * this.kvDim),
      ATT: f(B * this.qDim), O: f(B * c.nEmbd), G: f(B * c.nFf), U: f(B * c.nFf),
      ACT: a.alloc(B * padCols(widest) * 2), CS: f(B * this.maxChunks), BS: f(4 * B * this.maxChunks), ASCALE: f(B),
      TOK: f(B), POS: f(B), TPAGES: f(B), ROPE: a.alloc(B * c.ropeDim * 8, 16),
      ATTS: f(rt.threads * grp * kv.g.maxContext),
      LX: f(LOGIT_TOKENS * c.nEmbd), LOUT: f(LOGIT_TOKENS * dev.output.rows),
      Q8X: a.alloc(LOGIT_TOKENS * c.nEmbd * 2), Q8D: f(LOGIT_TOKENS * Math.ceil(c.nEmbd / 32)),
      TJOB: a.alloc(TJOB_BYTES), LJOB: a.alloc(LJOB_BYTES), AJOB: a.alloc(AJOB_BYTES),
      LUT: lut > 0 ? a.alloc(lut, 16) : 0,
    });
  }

  /** Bytes the scratch buffers of a transformer with these dimensions need (for size checks). */
  static scratchBytes(c: ModelConfig, vocabOut: number, maxTokens: number, threads: number, maxContext: number, lutGemm = true): number {
    const qDim = c.nHead * c.headDim, kvDim = c.nHeadKv * c.headDim, widest = Math.max(c.nEmbd, qDim, c.nFf);
    const perTok = 4 * (c.nEmbd * 3 + qDim * 3 + kvDim * 2 + c.nFf * 2 + 5 * padCols(widest) / 64 + 4) + 2 * padCols(widest) + 8 * c.ropeDim;
    const lut = lutBytes(widest, maxTokens, lutGemm);
    return maxTokens * perTok + 4 * threads * (c.nHead / c.nHeadKv) * maxContext + LOGIT_TOKENS * (4 * vocabOut + 10 * c.nEmbd) + (lut && lut + 16) + 4096;
  }

  /** Address of the final-norm hidden state of chunk row t (valid after runChunk). */
  hiddenRow(t: number): number {
    return this.buf.H! + t * this.c.nEmbd * 4;
  }

  /**
   * Runs all layers for the chunk's tokens (their K/V are stored at their positions; pages must
   * be reserved) and leaves the final-norm hidden states in H.
   */
  runChunk(tokens: readonly ChunkToken[]): void {
    const { rt, c, buf: b } = this;
    const ex = rt.ex;
    const n = tokens.length;
    if (n < 1 || n > this.maxTokens) throw new RangeError(`chunk of ${n} tokens (max ${this.maxTokens})`);
    const v = rt.arena.v;
    for (let t = 0; t < n; t++) {
      const tk = tokens[t]!;
      v.i32[(b.TOK! >>> 2) + t] = tk.token;
      v.u32[(b.POS! >>> 2) + t] = tk.pos;
      v.u32[(b.TPAGES! >>> 2) + t] = tk.table;
    }
    const d = c.nEmbd, qd = this.qDim, kvd = this.kvDim, ff = c.nFf, eps = c.rmsEps;
    const e = this.dev.tokenEmbd;
    ex.bn_embed(e.ptr, e.fmt, e.rows, e.cols, b.TOK!, n, b.X!, d);
    ex.bn_rope_table(b.POS!, n, c.ropeDim, c.ropeTheta, b.ROPE!);
    const neox = c.ropeType === 'neox' ? 1 : 0;
    for (let l = 0; l < c.nLayer; l++) {
      const L = this.dev.layers[l]!;
      const s = this.outScales[l]!;
      ex.bn_rmsnorm(b.X!, d, L.attnNorm, b.H!, d, d, n, eps);
      this.project(b.H!, d, n, [
        { m: L.wq, out: b.Q!, ldo: qd, outScale: s.q },
        { m: L.wk, out: b.K!, ldo: kvd, outScale: s.k },
        { m: L.wv, out: b.V!, ldo: kvd, outScale: s.v },
      ]);
      ex.bn_rope(b.Q!, qd, n, c.nHead, c.headDim, c.ropeDim, neox, b.ROPE!);
      ex.bn_rope(b.K!, kvd, n, c.nHeadKv, c.headDim, c.ropeDim, neox, b.ROPE!);
      ex.bn_kv_store(b.K!, kvd, b.V!, kvd, n, b.POS!, b.TPAGES!, this.kv.g.pageSize, this.kv.layerOff(l), this.kv.vOff, kvd);
      const av = rt.arena.v;
      writeAJob(av.u32, av.f32, b.AJOB!, {
        q: b.Q!, ldq: qd, out: b.ATT!, ldo: qd, nTok: n, tokPos: b.POS!, tokPages: b.TPAGES!, pageSize: this.kv.g.pageSize,
        layerOff: this.kv.layerOff(l), vOff: this.kv.vOff, nHead: c.nHead, nKv: c.nHeadKv, headDim: c.headDim,
        scale: Math.fround(1 / Math.sqrt(c.headDim)), scratch: b.ATTS!, scratchStride: (c.nHead / c.nHeadKv) * this.kv.g.maxContext,
      });
      let attWork = 0;
      for (const tk of tokens) attWork += (tk.pos + 1) * qd * 2;
      rt.run('bn_attention', b.AJOB!, attWork);
      if (c.subNorms) ex.bn_rmsnorm(b.ATT!, qd, L.attnSubNorm, b.ATT!, qd, qd, n, eps);
      this.project(b.ATT!, qd, n, [{ m: L.wo, out: b.O!, ldo: d, outScale: s.o }]);
      ex.bn_add(b.X!, d, b.O!, d, d, n);
      ex.bn_rmsnorm(b.X!, d, L.ffnNorm, b.H!, d, d, n, eps);
      this.project(b.H!, d, n, [
        { m: L.wGate, out: b.G!, ldo: ff, outScale: s.gate },
        { m: L.wUp, out: b.U!, ldo: ff, outScale: s.up },
      ]);
      ex.bn_glu(b.G!, ff, b.U!, ff, b.G!, ff, ff, n, c.activation === 'relu2' ? 0 : 1);
      if (c.subNorms) ex.bn_rmsnorm(b.G!, ff, L.ffnSubNorm, b.G!, ff, ff, n, eps);
      this.project(b.G!, ff, n, [{ m: L.wDown, out: b.O!, ldo: d, outScale: s.down }]);
      ex.bn_add(b.X!, d, b.O!, d, d, n);
    }
    ex.bn_rmsnorm(b.X!, d, this.dev.outputNorm, b.H!, d, d, n, eps);
  }

  /** Quantizes x (n × cols, stride ldx) once and runs the projections as one ternary dispatch. */
  private project(x: number, cols: number, n: number, projs: readonly Proj[]): void {
    const { rt, buf: b } = this;
    const ex = rt.ex;
    const colsPad = padCols(cols);
    const nChunks = colsPad / 64;
    for (const p of projs) {
      if (p.m.cols !== cols) throw new BitNetError('SHAPE_MISMATCH', `projection input width ${cols} != matrix cols ${p.m.cols}`);
    }
    ex.bn_quantize(x, cols, cols, n, b.ACT!, colsPad, b.CS!, b.ASCALE!);
    const mats: TMatDesc[] = projs.map((p, i) => {
      const bs = b.BS! + i * this.maxTokens * this.maxChunks * 4;
      ex.bn_block_sums(b.CS!, n, nChunks, p.m.blockChunks, bs);
      return { w: p.m.ptr, rows: p.m.rows, blockChunks: p.m.blockChunks, scales: p.m.scales, blkSum: bs, outScale: p.outScale, out: p.out, ldo: p.ldo };
    });
    runTernary(rt, b.TJOB!, { nTok: n, colsPad, accMode: false, act: b.ACT!, actScale: b.ASCALE!, mats }, b.LUT!);
  }

  /**
   * Logits for up to LOGIT_TOKENS hidden rows (chunk row indices); returns the address of the
   * [rows.length × vocab] f32 result (valid until the next call).
   */
  logits(rows: readonly number[]): number {
    const { rt, c, buf: b } = this;
    const ex = rt.ex;
    const n = rows.length;
    if (n < 1 || n > LOGIT_TOKENS) throw new RangeError(`logits for ${n} rows`);
    const d = c.nEmbd;
    const f32 = rt.arena.v.f32;
    rows.forEach((r, i) => f32.copyWithin((b.LX! >>> 2) + i * d, (this.hiddenRow(r) >>> 2), (this.hiddenRow(r) >>> 2) + d));
    const o = this.dev.output;
    const int8 = this.logitsInt8 && o.fmt === FMT.q8;
    if (int8) ex.bn_quantize_q8(b.LX!, d, d, n, b.Q8X!, b.Q8D!);
    writeLJob(rt.arena.v.u32, b.LJOB!, {
      mat: o.ptr, fmt: o.fmt, rows: o.rows, cols: o.cols, nTok: n, x: b.LX!, ldx: d, out: b.LOUT!, ldo: o.rows,
      xq: int8 ? b.Q8X! : 0, xqScale: int8 ? b.Q8D! : 0,
    });
    rt.run('bn_logits', b.LJOB!, o.rows * o.cols * n);
    return b.LOUT!;
  }
}
