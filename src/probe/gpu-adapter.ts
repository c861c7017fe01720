/**
 * WebGPU part of the capability probe: asks the GPU object for an adapter (high-performance first)
 * and describes it with `describeAdapter` (features, limits, fallback flag, packed dot product).
 * Never requests a device. Bounded by a timeout because some drivers never answer.
 */
import { describeAdapter, type WebGPUAdapterReport } from './webgpu-features.js';

export interface WebGPUReport {
  /** A usable (hardware or fallback) adapter exists. */
  readonly available: boolean;
  /** Why not, when unavailable. */
  readonly reason: string | null;
  readonly adapter: WebGPUAdapterReport | null;
}

export interface ProbeWebGPUOptions {
  /** The GPU object to ask (default: navigator.gpu, or Dawn in Node). null = none. */
  readonly gpu?: GPU | null;
  readonly timeoutMs?: number;
}

async function findGPU(): Promise<{ gpu: GPU | null; why: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, why: '' };
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
  if (!isNode) return { gpu: null, why: 'navigator.gpu is missing (this browser has no WebGPU, or the page is not a secure context)' };
  const dawn = await import('../backends/webgpu/dawn-node.js');
  const gpu = await dawn.getNodeGPU();
  return { gpu, why: gpu ? '' : dawn.nodeGPUError() || 'no WebGPU implementation for Node' };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export async function probeWebGPU(o: ProbeWebGPUOptions = {}): Promise<WebGPUReport> {
  const timeoutMs = o.timeoutMs ?? 5000;
  try {
    const found = o.gpu !== undefined ? { gpu: o.gpu, why: 'no GPU object given' } : await findGPU();
    const gpu = found.gpu;
    if (!gpu) return { available: false, reason: found.why, adapter: null };
    const adapter =
      (await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }), timeoutMs, 'requestAdapter')) ??
      (await withTimeout(gpu.requestAdapter(), timeoutMs, 'requestAdapter'));
    if (!adapter) return { available: false, reason: 'requestAdapter() returned null (WebGPU disabled, blocklisted GPU or no driver)', adapter: null };
    return { available: true, reason: null, adapter: describeAdapter(adapter, gpu) };
  } catch (e) {
    return { available: false, reason: `probing WebGPU failed: ${e instanceof Error ? e.message : String(e)}`, adapter: null };
  }
}
