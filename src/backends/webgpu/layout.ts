/**
 * Plans every GPU buffer of a model before anything is uploaded: ternary matrices split into row
 * parts packed into weight arenas, float tables (embedding / lm_head) sharded by rows, KV cache,
 * activations. Every binding must fit `bindingLimit` (the smaller of maxStorageBufferBindingSize
 * and maxBufferSize the adapter allows, or a caller's cap); the plan says which limits to request.
 *
 * @throws BitNetError TOO_LARGE when something cannot be split to fit (a single row wider than a
 *   binding, a KV layer or a logits row too large), with the numbers in the message.
 */
import type { FloatMatrix, ModelConfig, ModelWeights, TernaryMatrix } from '../../model/tensor.js';
import { BitNetError } from '../../errors.js';
import { floatRowBytes } from '../../model/formats/float.js';
import { GPU_TERNARY_LAYOUT_VERSION, ternaryGpuShape, type TernaryGpuShape } from './repack.js';

export const STORAGE_ALIGN = 256;
export const align = (n: number, a = STORAGE_ALIGN): number => Math.ceil(n / a) * a;

export const MATRIX_NAMES = ['wq', 'wk', 'wv', 'wo', 'wGate', 'wUp', 'wDown'] as const;
export type MatrixName = (typeof MATRIX_NAMES)[number];
export const OUT_SCALE_KEY: Record<MatrixName, 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down'> = {
  wq: 'q', wk: 'k', wv: 'v', wo: 'o', wGate: 'gate', wUp: 'up', wDown: 'down',
};

export interface PartPlan {
  readonly layer: number;
  readonly name: MatrixName;
  readonly rowOffset: number;
  readonly shape: TernaryGpuShape;   // rows = rows of this part
  readonly arena: number;
  readonly wOffset: number;
  readonly wBytes: number;
  readonly sOffset: number;
  readonly sBytes: number;
}

export interface ShardPlan {
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly bytes: number;
}

export interface TablePlan {
  readonly matrix: FloatMatrix;
  readonly rowBytes: number;
  readonly shards: ShardPlan[];
}

export interface ModelPlan {
  readonly config: ModelConfig;
  readonly bindingLimit: number;
  readonly parts: PartPlan[];
  readonly arenaBytes: number[];
  readonly embed: TablePlan;
  /** Same object as `embed` when the output matrix is the embedding (tied). */
  readonly output: TablePlan;
  readonly vocabOut: number;
  readonly maxContext: number;
  readonly maxSequences: number;
  readonly maxBatch: number;
  /** Output rows (logits) per submit. */
  readonly maxOut: number;
  readonly kvElemBytes: number;
  readonly kvLayerBytes: number;
  /** Largest words-per-row over all inputs of ternary matrices (activation stride, vec4 units). */
  readonly actStride: number;
  /** Largest single buffer / binding the plan uses (what to request). */
  readonly maxBinding: number;
  readonly totalBytes: number;
}

export interface PlanOptions {
  readonly bindingLimit: number;
  readonly maxContext: number;
  readonly maxSequences: number;
  readonly maxBatch: number;
  readonly kvElemBytes: number;
}

function planTable(m: FloatMatrix, limit: number, what: string): TablePlan {
  const rowBytes = floatRowBytes(m.storage, m.cols);
  const rowsPer = Math.floor((limit - 4) / rowBytes);
  if (rowsPer < 1) throw new BitNetError('TOO_LARGE', `${what}: one row is ${rowBytes} bytes, more than the ${limit}-byte storage binding limit of this GPU`);
  const shards: ShardPlan[] = [];
  for (let r = 0; r < m.rows; r += rowsPer) {
    const end = Math.min(m.rows, r + rowsPer);
    shards.push({ rowStart: r, rowEnd: end, bytes: align((end - r) * rowBytes, 4) });
  }
  return { matrix: m, rowBytes, shards };
}

export function planModel(w: ModelWeights, o: PlanOptions): ModelPlan {
  const c = w.config;
  const limit = Math.floor(o.bindingLimit / STORAGE_ALIGN) * STORAGE_ALIGN;
  const parts: PartPlan[] = [];
  const arenaBytes: number[] = [];
  let arena = -1;
  let used = 0;
  const arenaCap = Math.min(limit, 256 * 1024 * 1024);
  let actStride = 1;
  w.layers.forEach((l, layer) => {
    for (const name of MATRIX_NAMES) {
      const m: TernaryMatrix = l[name];
      const full = ternaryGpuShape(m);
      actStride = Math.max(actStride, full.k16);
      const rowW = full.k16 * 4;
      const rowS = full.scaleRowStride * 4;
      const rowsPer = Math.floor((arenaCap - 2 * STORAGE_ALIGN) / (rowW + rowS));
      if (rowsPer < 1) throw new BitNetError('TOO_LARGE', `blk.${layer}.${name}: one row needs ${rowW + rowS} bytes, more than the ${limit}-byte storage binding limit`);
      for (let r0 = 0; r0 < m.rows; r0 += rowsPer) {
        const rows = Math.min(rowsPer, m.rows - r0);
        const wBytes = rows * rowW;
        const sBytes = Math.max(4, rows * rowS);
        const need = align(wBytes) + align(sBytes);
        if (arena < 0 || used + need > arenaCap) {
          arena++;
          arenaBytes.push(0);
          used = 0;
        }
        const wOffset = used;
        const sOffset = used + align(wBytes);
        used += need;
        arenaBytes[arena] = used;
        parts.push({ layer, name, rowOffset: r0, shape: { ...full, rows }, arena, wOffset, wBytes, sOffset, sBytes });
      }
    }
  });
  const embed = planTable(w.tokenEmbd, limit, 'token_embd');
  const output = w.output === w.tokenEmbd ? embed : planTable(w.output, limit, 'output');
  const kvDim = c.nHeadKv * c.headDim;
  const kvLayerBytes = align(o.maxSequences * o.maxContext * kvDim * o.kvElemBytes, 4);
  if (kvLayerBytes > limit) {
    throw new BitNetError('TOO_LARGE', `KV cache of one layer (${o.maxSequences} sequences × ${o.maxContext} positions × ${kvDim} × ${o.kvElemBytes} B = ${kvLayerBytes} B) exceeds the ${limit}-byte storage binding limit; lower maxContext or maxSequences`);
  }
  const vocabOut = w.output.rows;
  const maxOut = Math.min(o.maxBatch, Math.floor(limit / (vocabOut * 4)));
  if (maxOut < 1) throw new BitNetError('TOO_LARGE', `one logits row (${vocabOut * 4} B) exceeds the ${limit}-byte storage binding limit`);
  const B = o.maxBatch;
  const widest = Math.max(c.nEmbd, c.nHead * c.headDim, c.nFf);
  const act = [B * widest * 4, B * actStride * 16, maxOut * vocabOut * 4, o.maxContext * Math.max(1, c.ropeDim / 2) * 8];
  for (const a of act) if (a > limit) throw new BitNetError('TOO_LARGE', `an activation buffer of ${a} bytes exceeds the ${limit}-byte storage binding limit; lower maxBatch`);
  const maxBinding = Math.max(...arenaBytes, ...embed.shards.map((s) => s.bytes), ...output.shards.map((s) => s.bytes), kvLayerBytes, ...act);
  const totalBytes =
    arenaBytes.reduce((a, b) => a + b, 0) +
    embed.shards.reduce((a, s) => a + s.bytes, 0) +
    (output === embed ? 0 : output.shards.reduce((a, s) => a + s.bytes, 0)) +
    2 * c.nLayer * kvLayerBytes +
    act.reduce((a, b) => a + b, 0);
  return {
    config: c, bindingLimit: limit, parts, arenaBytes, embed, output, vocabOut,
    maxContext: o.maxContext, maxSequences: o.maxSequences, maxBatch: B, maxOut,
    kvElemBytes: o.kvElemBytes, kvLayerBytes, actStride, maxBinding, totalBytes,
  };
}

/**
 * Names the weight-arena bytes a plan produces: the word layout version plus every part's
 * placement (a different binding limit moves parts between arenas). Equal ids ⇒ equal arena bytes
 * for the same model file; used as the `layout` of cached repacks.
 */
export function arenaLayoutId(plan: ModelPlan): string {
  let h = 0x811c9dc5;
  const mix = (n: number): void => {
    h = Math.imul(h ^ (n & 0xffff), 0x01000193) >>> 0;
    h = Math.imul(h ^ (n >>> 16), 0x01000193) >>> 0;
  };
  for (const p of plan.parts) {
    for (const n of [p.layer, MATRIX_NAMES.indexOf(p.name), p.rowOffset, p.shape.rows, p.shape.cols, p.shape.scaleRowStride, p.arena, p.wOffset, p.wBytes, p.sOffset, p.sBytes]) mix(n);
  }
  return `gpu-words-v${GPU_TERNARY_LAYOUT_VERSION}-${plan.parts.length}p-${plan.arenaBytes.join('.')}-${h.toString(16).padStart(8, '0')}`;
}
