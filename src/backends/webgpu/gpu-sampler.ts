/**
 * Host side of GPU sampling (shaders/sample.wgsl): per-item parameters and distinct penalty ids are
 * written into preallocated buffers, one workgroup per item picks a token from its logits row, and
 * only the u32 ids are read back. The random number u of each draw comes from the sequence's
 * seeded RNG on the host (src/runtime/rng.ts), exactly as the CPU Sampler draws it.
 * The pipeline is compiled on first use (it is the slowest kernel to compile).
 */
import type { ResolvedSamplingOptions } from '../../runtime/sampler.js';
import { BufferUsage } from './gpu-constants.js';
import { packUniform } from './params.js';
import { bindGroup, createKernelSet, type KernelSet } from './pipelines.js';
import type { ShaderSources, ShaderVariant } from './shader-source.js';

/** At most this many distinct penalized ids per item (the most recent ones win). */
export const PENALTY_CAP = 1024;
const ITEM_BYTES = 32;

export interface SampleRequest {
  readonly options: Pick<ResolvedSamplingOptions, 'temperature' | 'topK' | 'topP' | 'minP' | 'repetitionPenalty' | 'repetitionLastN'>;
  /** Token history of the sequence (for the repetition penalty). */
  readonly history: ArrayLike<number>;
  /** Uniform draw in [0, 1) (ignored when greedy). */
  readonly u: number;
  /** Logits row of this item. */
  readonly row: number;
}

/** Distinct ids among the last `lastN` of `history`, most recent first, at most PENALTY_CAP. */
export function penaltyIds(history: ArrayLike<number>, lastN: number, vocab: number): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  for (let i = history.length - 1; i >= Math.max(0, history.length - lastN) && out.length < PENALTY_CAP; i--) {
    const id = history[i]!;
    if (id < 0 || id >= vocab || seen.has(id)) continue;
    seen.add(id);
    out.push(id);
  }
  return out;
}

export class GpuSampler {
  readonly outIds: GPUBuffer;
  private readonly items: GPUBuffer;
  private readonly penalties: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly group: GPUBindGroup;

  private constructor(private readonly ks: KernelSet, logits: GPUBuffer, private readonly maxItems: number, private readonly vocab: number) {
    const d = ks.device;
    const S = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;
    this.outIds = d.createBuffer({ label: 'bitnet.sample.ids', size: Math.max(16, maxItems * 4), usage: S });
    this.items = d.createBuffer({ label: 'bitnet.sample.items', size: maxItems * ITEM_BYTES, usage: S });
    this.penalties = d.createBuffer({ label: 'bitnet.sample.penalties', size: maxItems * PENALTY_CAP * 4, usage: S });
    this.params = d.createBuffer({ label: 'bitnet.sample.params', size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    d.queue.writeBuffer(this.params, 0, packUniform([['u', vocab], ['u', PENALTY_CAP]]));
    this.group = bindGroup(ks, 'sample', [this.params, logits, this.items, this.penalties, this.outIds]);
  }

  static async create(device: GPUDevice, variant: ShaderVariant, sources: ShaderSources | undefined, logits: GPUBuffer, maxItems: number, vocab: number): Promise<GpuSampler> {
    const ks = await createKernelSet(device, variant, sources, ['sample']);
    return new GpuSampler(ks, logits, maxItems, vocab);
  }

  /** Uploads the parameters of `reqs` (≤ maxItems) for the next `encode`. */
  write(reqs: readonly SampleRequest[]): void {
    const q = this.ks.device.queue;
    const img = new ArrayBuffer(reqs.length * ITEM_BYTES);
    const dv = new DataView(img);
    reqs.forEach((r, i) => {
      const o = r.options;
      const ids = o.repetitionPenalty !== 1 ? penaltyIds(r.history, o.repetitionLastN, this.vocab) : [];
      const b = i * ITEM_BYTES;
      dv.setFloat32(b, o.temperature, true);
      dv.setUint32(b + 4, o.topK, true);
      dv.setFloat32(b + 8, o.topP, true);
      dv.setFloat32(b + 12, o.minP, true);
      dv.setFloat32(b + 16, o.repetitionPenalty, true);
      dv.setUint32(b + 20, ids.length, true);
      dv.setFloat32(b + 24, Math.min(r.u, 1 - 2 ** -24), true);
      dv.setUint32(b + 28, r.row, true);
      if (ids.length > 0) q.writeBuffer(this.penalties, i * PENALTY_CAP * 4, Uint32Array.from(ids));
    });
    q.writeBuffer(this.items, 0, img);
  }

  /** Records the sampling dispatch for `n` items into an open compute pass. */
  encode(pass: GPUComputePassEncoder, n: number): void {
    if (n > this.maxItems) throw new Error(`GpuSampler: ${n} items > ${this.maxItems}`);
    pass.setPipeline(this.ks.pipelines.sample);
    pass.setBindGroup(0, this.group);
    pass.dispatchWorkgroups(n);
  }

  destroy(): void {
    for (const b of [this.outIds, this.items, this.penalties, this.params]) b.destroy();
  }
}
