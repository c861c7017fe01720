/**
 * The model on the GPU: buffers created and filled once (weights, norms, RoPE table, KV cache,
 * activations, static uniforms) and every bind group built once. `encodeStep` records one forward
 * step (all layers) as a list of dispatches; nothing here creates buffers per step.
 *
 * Activation buffers (B = plan.maxBatch tokens per submit, f32 unless noted):
 *   x [B×nEmbd] residual stream · h [B×nEmbd] final-norm output · q [B×qDim] · k, v [B×kvDim]
 *   attn [B×qDim] · g, u [B×nFf] · actQ [B×actStride] vec4<u32> · actSum [B×actStride] i32
 *   actScale [B] · logits [maxOut×vocab] · tokens [B] u32 · tokInfo [B] (slot, position)
 *   outRows [maxOut] u32 (which hidden rows get logits)
 * KV cache: per layer one K and one V buffer, [slot][position][kvDim] (f32 or f16).
 */
import type { BackendLoadOptions } from '../backend.js';
import type { ModelWeights } from '../../model/tensor.js';
import { throwIfAborted } from '../../errors.js';
import { BufferUsage } from './gpu-constants.js';
import { align, MATRIX_NAMES, OUT_SCALE_KEY, STORAGE_ALIGN, type MatrixName, type ModelPlan, type TablePlan } from './layout.js';
import { matParams, packUniform, prepParams, PREP_GATE, PREP_NORM, PREP_QUANT, PREP_SILU, PREP_WRITE_F32, UNIFORM_ALIGN } from './params.js';
import { bindGroup, type KernelSet, type PipelineKey } from './pipelines.js';
import { repackTernaryRows, ternaryScales } from './repack.js';

/** One recorded dispatch (also the unit of profiling). */
export interface Dispatch {
  readonly label: string;
  readonly pipeline: PipelineKey;
  readonly group: GPUBindGroup;
  readonly grid: readonly number[];
  /** Bytes of weights it streams (GEMV bandwidth); 0 when not a weight matmul. */
  readonly weightBytes: number;
}

interface MatBinding { readonly rows: number; readonly weightBytes: number; readonly group: GPUBindGroup }

interface LayerBindings {
  readonly mats: Record<MatrixName, MatBinding[]>;
  readonly prepAttn: GPUBindGroup;
  readonly prepAttnOut: GPUBindGroup;
  readonly prepFfn: GPUBindGroup;
  readonly prepDown: GPUBindGroup;
  readonly rope: GPUBindGroup;
  readonly attn: GPUBindGroup;
}

/** Up to this many tokens per submit use the GEMV kernels; more use the tiled GEMM (GPUs). */
export const GEMV_MAX_TOKENS = 3;

export interface UploadOptions {
  /** Token counts up to this use GEMV (default GEMV_MAX_TOKENS). */
  readonly gemvMaxTokens?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: BackendLoadOptions['onProgress'];
  /**
   * Contents of the weight arenas from an earlier load (one array per arena, `plan.arenaBytes[i]`
   * bytes each): copied in instead of repacking. Ignored unless every length matches.
   */
  readonly prepacked?: readonly Uint8Array[];
  /** Keep a copy of the repacked arenas in `repacked` (to store them for the next load). */
  readonly keepRepacked?: boolean;
}

export class GpuModel {
  readonly buffers: GPUBuffer[] = [];
  readonly x: GPUBuffer;
  readonly h: GPUBuffer;
  readonly logits: GPUBuffer;
  readonly tokens: GPUBuffer;
  readonly tokInfo: GPUBuffer;
  readonly outRows: GPUBuffer;
  readonly step: GPUBuffer;
  private readonly layers: LayerBindings[] = [];
  private readonly embedGroups: GPUBindGroup[] = [];
  private readonly logitGroups: { group: GPUBindGroup; rows: number }[] = [];
  private readonly prepFinal: GPUBindGroup;
  private readonly gemvMaxTokens: number;
  /** With `keepRepacked`: a copy of each arena after repacking (null when prepacked data was used). */
  repacked: Uint8Array[] | null = null;
  /** True when the arenas came from `prepacked` instead of repacking. */
  readonly usedPrepacked: boolean;

  private constructor(readonly ks: KernelSet, readonly plan: ModelPlan, w: ModelWeights, o: UploadOptions) {
    const d = ks.device;
    const c = plan.config;
    const B = plan.maxBatch;
    this.gemvMaxTokens = o.gemvMaxTokens ?? GEMV_MAX_TOKENS;
    const qDim = c.nHead * c.headDim;
    const kvDim = c.nHeadKv * c.headDim;
    const S = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;
    const mk = (size: number, label: string, usage = S): GPUBuffer => {
      const b = d.createBuffer({ label: `bitnet.${label}`, size: align(Math.max(16, size), 16), usage });
      this.buffers.push(b);
      return b;
    };
    // --- weights: arenas filled while mapped (no extra staging copy).
    const arenas = plan.arenaBytes.map((n, i) => d.createBuffer({ label: `bitnet.arena${i}`, size: align(n, 16), usage: BufferUsage.STORAGE, mappedAtCreation: true }));
    this.buffers.push(...arenas);
    const mapped = arenas.map((a) => a.getMappedRange());
    const pre = o.prepacked;
    this.usedPrepacked = !!pre && pre.length === plan.arenaBytes.length && pre.every((p, i) => p.length === plan.arenaBytes[i]);
    if (this.usedPrepacked) {
      pre!.forEach((p, i) => new Uint8Array(mapped[i]!, 0, p.length).set(p));
    } else {
      plan.parts.forEach((p, i) => {
        if (o.signal?.aborted) return;
        const m = w.layers[p.layer]![p.name];
        repackTernaryRows(m, p.rowOffset, p.rowOffset + p.shape.rows, new Uint32Array(mapped[p.arena]!, p.wOffset, p.wBytes / 4));
        new Float32Array(mapped[p.arena]!, p.sOffset, p.sBytes / 4).set(ternaryScales(m, p.rowOffset, p.rowOffset + p.shape.rows));
        if (i % 16 === 15) o.onProgress?.('repack', (i + 1) / plan.parts.length);
      });
      if (o.keepRepacked && !o.signal?.aborted) this.repacked = mapped.map((m, i) => new Uint8Array(m, 0, plan.arenaBytes[i]).slice());
    }
    for (const a of arenas) a.unmap();
    throwIfAborted(o.signal);
    o.onProgress?.('repack', 1, this.usedPrepacked ? { skipped: true } : undefined);
    // --- float tables (embedding, lm_head), one buffer per row shard.
    const upload = (t: TablePlan): GPUBuffer[] =>
      t.shards.map((s, i) => {
        const b = d.createBuffer({ label: `bitnet.table${i}`, size: align(s.bytes, 16), usage: BufferUsage.STORAGE, mappedAtCreation: true });
        this.buffers.push(b);
        const src = t.matrix.data.subarray(s.rowStart * t.rowBytes, s.rowEnd * t.rowBytes);
        new Uint8Array(b.getMappedRange()).set(src);
        b.unmap();
        o.onProgress?.('upload', 0.5 * ((i + 1) / t.shards.length));
        return b;
      });
    const embedShards = upload(plan.embed);
    const outShards = plan.output === plan.embed ? embedShards : upload(plan.output);
    throwIfAborted(o.signal);
    // --- norms (one buffer), RoPE table.
    const normList: Float32Array[] = [w.outputNorm];
    for (const l of w.layers) normList.push(l.attnNorm, l.attnSubNorm ?? w.outputNorm, l.ffnNorm, l.ffnSubNorm ?? w.outputNorm);
    const normOffsets: number[] = [];
    let nb = 0;
    for (const n of normList) { normOffsets.push(nb); nb += align(n.byteLength); }
    const norms = mk(nb, 'norms');
    normList.forEach((n, i) => d.queue.writeBuffer(norms, normOffsets[i]!, n.slice()));
    const normRange = (i: number): GPUBufferBinding => ({ buffer: norms, offset: normOffsets[i]!, size: normList[i]!.byteLength });
    const half = c.ropeDim >> 1;
    const ropeTab = new Float32Array(plan.maxContext * Math.max(1, half) * 2);
    for (let i = 0; i < half; i++) {
      const freq = Math.pow(c.ropeTheta, (-2 * i) / c.ropeDim);
      for (let p = 0; p < plan.maxContext; p++) {
        ropeTab[(p * half + i) * 2] = Math.cos(p * freq);
        ropeTab[(p * half + i) * 2 + 1] = Math.sin(p * freq);
      }
    }
    const rope = mk(ropeTab.byteLength, 'rope');
    d.queue.writeBuffer(rope, 0, ropeTab);
    // --- KV cache and activations.
    const kc: GPUBuffer[] = [];
    const vc: GPUBuffer[] = [];
    for (let l = 0; l < c.nLayer; l++) { kc.push(mk(plan.kvLayerBytes, `k${l}`)); vc.push(mk(plan.kvLayerBytes, `v${l}`)); }
    this.x = mk(B * c.nEmbd * 4, 'x');
    this.h = mk(B * c.nEmbd * 4, 'h');
    const q = mk(B * qDim * 4, 'q');
    const k = mk(B * kvDim * 4, 'k');
    const v = mk(B * kvDim * 4, 'v');
    const attn = mk(B * qDim * 4, 'attn');
    const g = mk(B * c.nFf * 4, 'g');
    const u = mk(B * c.nFf * 4, 'u');
    const actQ = mk(B * plan.actStride * 16, 'actQ');
    const actSum = mk(B * plan.actStride * 4, 'actSum');
    const actScale = mk(B * 4, 'actScale');
    this.logits = mk(plan.maxOut * plan.vocabOut * 4, 'logits');
    this.tokens = mk(B * 4, 'tokens');
    this.tokInfo = mk(B * 8, 'tokInfo');
    this.outRows = mk(plan.maxOut * 4, 'outRows');
    const dummy = mk(16, 'dummy');
    this.step = mk(16, 'step', BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    // --- static uniforms: one buffer, 256-byte slots.
    const slots: Uint8Array[] = [];
    const slot = (bytes: Uint8Array): number => slots.push(bytes) - 1;
    const partSlots = plan.parts.map((p) =>
      slot(matParams(p.shape, { actStride: plan.actStride, rowOffset: p.rowOffset, rowsTotal: w.layers[p.layer]![p.name].rows, residual: p.name === 'wo' || p.name === 'wDown', outScale: w.layers[p.layer]!.outScales[OUT_SCALE_KEY[p.name]] })),
    );
    const prep = (n: number, flags: number): number => slot(prepParams({ n, flags, inStride: n, outStride: n, qStride: plan.actStride, eps: c.rmsEps }));
    const sub = c.subNorms ? PREP_NORM : 0;
    const sPrepAttn = prep(c.nEmbd, PREP_NORM | PREP_QUANT);
    const sPrepAttnOut = prep(qDim, sub | PREP_QUANT);
    const sPrepDown = prep(c.nFf, PREP_GATE | (c.activation === 'silu' ? PREP_SILU : 0) | sub | PREP_QUANT);
    const sPrepFinal = prep(c.nEmbd, PREP_NORM | PREP_WRITE_F32);
    const sRope = slot(packUniform([['u', c.nHead], ['u', c.nHeadKv], ['u', c.headDim], ['u', c.ropeDim], ['u', c.ropeType === 'neox' ? 1 : 0], ['u', plan.maxContext]]));
    const sAttn = slot(packUniform([['u', c.nHead], ['u', c.nHeadKv], ['u', c.headDim], ['u', plan.maxContext], ['f', Math.fround(1 / Math.sqrt(c.headDim))]]));
    const storageCode = { f32: 0, f16: 1, bf16: 2, q8_0: 3 } as const;
    const tableSlots = (t: TablePlan): number[] =>
      t.shards.map((s) => slot(packUniform([['u', s.rowStart], ['u', s.rowEnd], ['u', t.matrix.cols], ['u', storageCode[t.matrix.storage]], ['u', t.rowBytes], ['u', c.nEmbd], ['u', plan.vocabOut], ['u', 0]])));
    const sEmbed = tableSlots(plan.embed);
    const sOut = tableSlots(plan.output);
    const uniforms = mk(slots.length * UNIFORM_ALIGN, 'uniforms', BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    const img = new Uint8Array(slots.length * UNIFORM_ALIGN);
    slots.forEach((s, i) => img.set(s, i * UNIFORM_ALIGN));
    d.queue.writeBuffer(uniforms, 0, img);
    const uni = (i: number): GPUBufferBinding => ({ buffer: uniforms, offset: i * UNIFORM_ALIGN, size: slots[i]!.byteLength });
    // --- bind groups.
    const yOf: Record<MatrixName, GPUBuffer> = { wq: q, wk: k, wv: v, wo: this.x, wGate: g, wUp: u, wDown: this.x };
    for (let l = 0; l < c.nLayer; l++) {
      const mats = Object.fromEntries(MATRIX_NAMES.map((n) => [n, [] as MatBinding[]])) as unknown as Record<MatrixName, MatBinding[]>;
      this.layers.push({
        mats,
        prepAttn: bindGroup(ks, 'prep', [uni(sPrepAttn), this.x, this.x, normRange(1 + 4 * l), dummy, actQ, actSum, actScale]),
        prepAttnOut: bindGroup(ks, 'prep', [uni(sPrepAttnOut), attn, attn, normRange(2 + 4 * l), dummy, actQ, actSum, actScale]),
        prepFfn: bindGroup(ks, 'prep', [uni(sPrepAttn), this.x, this.x, normRange(3 + 4 * l), dummy, actQ, actSum, actScale]),
        prepDown: bindGroup(ks, 'prep', [uni(sPrepDown), g, u, normRange(4 + 4 * l), dummy, actQ, actSum, actScale]),
        rope: bindGroup(ks, 'rope_kv', [uni(sRope), q, k, v, rope, kc[l]!, vc[l]!, this.tokInfo]),
        attn: bindGroup(ks, 'attention', [uni(sAttn), q, kc[l]!, vc[l]!, this.tokInfo, attn]),
      });
    }
    plan.parts.forEach((p, i) => {
      const arena = arenas[p.arena]!;
      const group = bindGroup(ks, 'gemv', [
        uni(partSlots[i]!),
        { buffer: arena, offset: p.wOffset, size: p.wBytes },
        { buffer: arena, offset: p.sOffset, size: p.sBytes },
        actQ, actSum, actScale, yOf[p.name], dummy, this.step,
      ], `bitnet.blk${p.layer}.${p.name}@${p.rowOffset}`);
      this.layers[p.layer]!.mats[p.name].push({ rows: p.shape.rows, weightBytes: p.wBytes + p.sBytes, group });
    });
    this.prepFinal = bindGroup(ks, 'prep', [uni(sPrepFinal), this.x, this.x, normRange(0), this.h, actQ, actSum, actScale]);
    plan.embed.shards.forEach((_, i) => this.embedGroups.push(bindGroup(ks, 'embed', [uni(sEmbed[i]!), this.tokens, embedShards[i]!, this.x])));
    plan.output.shards.forEach((s, i) =>
      this.logitGroups.push({ rows: s.rowEnd - s.rowStart, group: bindGroup(ks, 'logits', [uni(sOut[i]!), this.h, outShards[i]!, this.outRows, this.logits, this.step]) }),
    );
    o.onProgress?.('upload', 1);
  }

  /** Creates and fills every buffer. @throws AbortError when `signal` fires (buffers are released). */
  static create(ks: KernelSet, plan: ModelPlan, w: ModelWeights, o: UploadOptions = {}): GpuModel {
    return new GpuModel(ks, plan, w, o);
  }

  private readonly stepCache = new Map<string, Dispatch[]>();

  /** Dispatches of one step over `n` tokens; logits for `nOut` rows when > 0 (cached per shape). */
  encodeStep(n: number, nOut: number): readonly Dispatch[] {
    const key = `${n},${nOut}`;
    let list = this.stepCache.get(key);
    if (!list) {
      list = this.buildStep(n, nOut);
      if (this.stepCache.size > 64) this.stepCache.clear();
      this.stepCache.set(key, list);
    }
    return list;
  }

  private buildStep(n: number, nOut: number): Dispatch[] {
    const c = this.plan.config;
    const out: Dispatch[] = [];
    const gemv = n <= this.gemvMaxTokens;
    const rowsPerGroup = 256 / this.ks.lanes;
    this.embedGroups.forEach((group, i) => out.push({ label: `embed${i}`, pipeline: 'embed', group, grid: [Math.ceil(c.nEmbd / 256), n], weightBytes: 0 }));
    const mm = (l: number, name: MatrixName): void => {
      for (const p of this.layers[l]!.mats[name]) {
        out.push({
          label: `blk${l}.${name}`,
          pipeline: gemv ? 'gemv' : 'gemm',
          group: p.group,
          grid: gemv ? [Math.ceil(p.rows / rowsPerGroup), n] : [Math.ceil(p.rows / 64), Math.ceil(n / 32)],
          weightBytes: p.weightBytes,
        });
      }
    };
    for (let l = 0; l < c.nLayer; l++) {
      const L = this.layers[l]!;
      out.push({ label: `blk${l}.prep_attn`, pipeline: 'prep', group: L.prepAttn, grid: [n], weightBytes: 0 });
      mm(l, 'wq');
      mm(l, 'wk');
      mm(l, 'wv');
      out.push({ label: `blk${l}.rope_kv`, pipeline: 'rope_kv', group: L.rope, grid: [n], weightBytes: 0 });
      out.push({ label: `blk${l}.attention`, pipeline: 'attention', group: L.attn, grid: [c.nHead, n], weightBytes: 0 });
      out.push({ label: `blk${l}.prep_attn_out`, pipeline: 'prep', group: L.prepAttnOut, grid: [n], weightBytes: 0 });
      mm(l, 'wo');
      out.push({ label: `blk${l}.prep_ffn`, pipeline: 'prep', group: L.prepFfn, grid: [n], weightBytes: 0 });
      mm(l, 'wGate');
      mm(l, 'wUp');
      out.push({ label: `blk${l}.prep_down`, pipeline: 'prep', group: L.prepDown, grid: [n], weightBytes: 0 });
      mm(l, 'wDown');
    }
    out.push({ label: 'output_norm', pipeline: 'prep', group: this.prepFinal, grid: [n], weightBytes: 0 });
    if (nOut > 0) {
      this.logitGroups.forEach(({ group, rows }, i) => {
        const nwg = Math.ceil(rows / rowsPerGroup);
        const gx = Math.min(nwg, 32768);
        out.push({ label: `logits${i}`, pipeline: 'logits', group, grid: [gx, Math.ceil(nwg / gx)], weightBytes: this.plan.output.shards[i]!.bytes });
      });
    }
    return out;
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }
}

export { STORAGE_ALIGN };
