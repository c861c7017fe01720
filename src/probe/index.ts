/**
 * Capability probe: one plain, structured-cloneable report of what this browser / worker / Node
 * process can run — WebGPU (adapter, features, limits, fallback or not, packed dot product), wasm
 * (SIMD, relaxed SIMD, threads), cross-origin isolation, memory and cores. Shown to users as is and
 * used by backend selection. Never throws; unknown values are null.
 */
import { probeCores, probeMemory, probeRuntime, probeThreads, type CoresReport, type MemoryReport, type RuntimeReport, type ThreadsReport } from './environment.js';
import { probeWebGPU, type ProbeWebGPUOptions, type WebGPUReport } from './gpu-adapter.js';
import { probeWasmInstructions, type WasmInstructionReport } from './wasm-instructions.js';

export type { CoresReport, MemoryReport, RuntimeReport, ThreadsReport } from './environment.js';
export { COOP_COEP_FIX } from './environment.js';
export type { WebGPUReport } from './gpu-adapter.js';
export type { WebGPUAdapterReport } from './webgpu-features.js';
export type { WasmInstructionReport } from './wasm-instructions.js';

export interface CapabilityReport {
  readonly runtime: RuntimeReport;
  readonly webgpu: WebGPUReport;
  readonly wasm: WasmInstructionReport;
  readonly threads: ThreadsReport;
  readonly memory: MemoryReport;
  readonly cores: CoresReport;
  /** How long probing took (ms). */
  readonly probeMs: number;
}

export interface ProbeOptions {
  /** Skip WebGPU (report it unavailable without touching the GPU). */
  readonly webgpu?: boolean;
  readonly gpu?: ProbeWebGPUOptions['gpu'];
  readonly gpuTimeoutMs?: number;
}

/** Probes everything (the WebGPU part asks for an adapter, bounded by `gpuTimeoutMs`, default 5 s). */
export async function probeCapabilities(o: ProbeOptions = {}): Promise<CapabilityReport> {
  const t0 = Date.now();
  const runtime = probeRuntime();
  const webgpu: Promise<WebGPUReport> =
    o.webgpu === false
      ? Promise.resolve({ available: false, reason: 'not probed (webgpu: false)', adapter: null })
      : probeWebGPU({ ...(o.gpu !== undefined ? { gpu: o.gpu } : {}), ...(o.gpuTimeoutMs !== undefined ? { timeoutMs: o.gpuTimeoutMs } : {}) });
  const [gpu, memory, cores] = await Promise.all([webgpu, probeMemory(), probeCores()]);
  return {
    runtime,
    webgpu: gpu,
    wasm: probeWasmInstructions(),
    threads: probeThreads(runtime),
    memory,
    cores,
    probeMs: Date.now() - t0,
  };
}
