/**
 * Per-kernel timing of one recorded step. With the 'timestamp-query' feature every dispatch runs
 * in its own compute pass with begin/end timestamps (GPU time); without it each dispatch is
 * submitted alone and timed on the host until the queue drains (an upper bound).
 * The query set and its buffers are created per call (profiling is explicit, never per token).
 */
import { BufferUsage, MapMode } from './gpu-constants.js';
import type { Dispatch } from './gpu-model.js';
import type { KernelSet } from './pipelines.js';

export interface KernelTiming {
  readonly label: string;
  readonly kernel: string;
  readonly ms: number;
  /** Weight bytes streamed (matmuls, logits). */
  readonly bytes: number;
  /** bytes / time, for weight matmuls and logits; null otherwise. */
  readonly gbPerS: number | null;
}

export interface StepProfile {
  readonly source: 'timestamp-query' | 'wall-clock';
  /** Sum of the per-kernel times. */
  readonly totalMs: number;
  /** Host time from submit to results (the whole profiled step, with its per-kernel passes). */
  readonly wallMs: number;
  /**
   * False when GPU timestamps add up to more than the wall time (a driver that does not report
   * nanoseconds — SwiftShader does this); then compare kernels only relative to each other.
   */
  readonly plausible: boolean;
  readonly kernels: KernelTiming[];
  /** Summed per kernel kind (gemv, attention, …). */
  readonly byKernel: Record<string, { ms: number; count: number; bytes: number; gbPerS: number | null }>;
}

function summarize(source: StepProfile['source'], list: readonly Dispatch[], ms: number[], wallMs: number): StepProfile {
  const kernels: KernelTiming[] = list.map((d, i) => ({
    label: d.label,
    kernel: d.pipeline,
    ms: ms[i]!,
    bytes: d.weightBytes,
    gbPerS: d.weightBytes > 0 && ms[i]! > 0 ? d.weightBytes / (ms[i]! * 1e6) : null,
  }));
  const byKernel: StepProfile['byKernel'] = {};
  for (const k of kernels) {
    const e = (byKernel[k.kernel] ??= { ms: 0, count: 0, bytes: 0, gbPerS: null });
    e.ms += k.ms;
    e.count++;
    e.bytes += k.bytes;
  }
  for (const e of Object.values(byKernel)) e.gbPerS = e.bytes > 0 && e.ms > 0 ? e.bytes / (e.ms * 1e6) : null;
  const totalMs = ms.reduce((a, b) => a + b, 0);
  return { source, totalMs, wallMs, plausible: totalMs <= wallMs * 1.05 + 0.05, kernels, byKernel };
}

export async function profileDispatches(device: GPUDevice, ks: KernelSet, list: readonly Dispatch[], timestamps: boolean): Promise<StepProfile> {
  const run = (pass: GPUComputePassEncoder, d: Dispatch): void => {
    pass.setPipeline(ks.pipelines[d.pipeline]);
    pass.setBindGroup(0, d.group);
    pass.dispatchWorkgroups(d.grid[0], d.grid[1] ?? 1, d.grid[2] ?? 1);
  };
  if (!timestamps) {
    const ms: number[] = [];
    const w0 = performance.now();
    for (const d of list) {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      run(pass, d);
      pass.end();
      const t0 = performance.now();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      ms.push(performance.now() - t0);
    }
    return summarize('wall-clock', list, ms, performance.now() - w0);
  }
  const count = list.length * 2;
  const qs = device.createQuerySet({ type: 'timestamp', count });
  const resolve = device.createBuffer({ size: count * 8, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: count * 8, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  try {
    const enc = device.createCommandEncoder({ label: 'bitnet.profile' });
    list.forEach((d, i) => {
      const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      run(pass, d);
      pass.end();
    });
    enc.resolveQuerySet(qs, 0, count, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
    const w0 = performance.now();
    device.queue.submit([enc.finish()]);
    await read.mapAsync(MapMode.READ);
    const wallMs = performance.now() - w0;
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    const ms = list.map((_, i) => Number(t[2 * i + 1]! - t[2 * i]!) / 1e6);
    return summarize('timestamp-query', list, ms, wallMs);
  } finally {
    qs.destroy();
    resolve.destroy();
    read.destroy();
  }
}
