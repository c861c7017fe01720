/**
 * Probes of the JavaScript environment that do not depend on a compute API: what kind of runtime
 * this is, whether wasm threads can work (SharedArrayBuffer + cross-origin isolation), memory and
 * core count. Each function is cheap, never throws, and answers `null` for "cannot tell".
 */

export type RuntimeKind = 'browser' | 'worker' | 'node' | 'other';

export interface RuntimeReport {
  readonly kind: RuntimeKind;
  readonly userAgent: string | null;
  /** `isSecureContext` (browsers: https or localhost; needed for WebGPU and crypto.subtle). */
  readonly secureContext: boolean | null;
  /** Node version for `node`. */
  readonly nodeVersion: string | null;
}

export interface ThreadsReport {
  /** `crossOriginIsolated` (browsers); null in Node where it does not apply. */
  readonly crossOriginIsolated: boolean | null;
  readonly sharedArrayBuffer: boolean;
  readonly atomics: boolean;
  /** Whether multi-threaded wasm can run here. */
  readonly usable: boolean;
  /** Why not, naming the fix (null when usable). */
  readonly reason: string | null;
}

export interface MemoryReport {
  /** `navigator.deviceMemory` (GiB, rounded down by browsers to 0.25…8); null when unsupported. */
  readonly deviceMemoryGiB: number | null;
  /** Physical memory in bytes (Node `os.totalmem()`, or deviceMemory × 2^30 in browsers). */
  readonly totalBytes: number | null;
  /** JS heap limit (Chrome `performance.memory.jsHeapSizeLimit`, Node `v8` heap limit). */
  readonly jsHeapLimitBytes: number | null;
}

export interface CoresReport {
  /** Logical processors (`navigator.hardwareConcurrency` / `os.availableParallelism()`). */
  readonly logical: number | null;
}

type G = {
  window?: unknown;
  document?: unknown;
  importScripts?: unknown;
  navigator?: { userAgent?: string; deviceMemory?: number; hardwareConcurrency?: number };
  isSecureContext?: boolean;
  crossOriginIsolated?: boolean;
  process?: { versions?: { node?: string } };
  performance?: { memory?: { jsHeapSizeLimit?: number } };
};
const g = globalThis as unknown as G;

/** The message shown when threads are off because the page is not cross-origin isolated. */
export const COOP_COEP_FIX =
  'serve the page with the headers "Cross-Origin-Opener-Policy: same-origin" and ' +
  '"Cross-Origin-Embedder-Policy: require-corp" (or "credentialless") so it is cross-origin isolated';

export function probeRuntime(): RuntimeReport {
  const node = typeof g.process?.versions?.node === 'string' ? g.process.versions.node : null;
  let kind: RuntimeKind = 'other';
  if (typeof g.window !== 'undefined' && typeof g.document !== 'undefined') kind = 'browser';
  else if (typeof g.importScripts === 'function') kind = 'worker';
  else if (node !== null) kind = 'node';
  else if (typeof g.navigator !== 'undefined' && typeof g.document === 'undefined') kind = 'worker';
  return {
    kind,
    userAgent: typeof g.navigator?.userAgent === 'string' ? g.navigator.userAgent : null,
    secureContext: typeof g.isSecureContext === 'boolean' ? g.isSecureContext : null,
    nodeVersion: node,
  };
}

export function probeThreads(runtime: RuntimeReport = probeRuntime()): ThreadsReport {
  const sab = typeof SharedArrayBuffer === 'function';
  const atomics = typeof Atomics === 'object' && Atomics !== null;
  if (runtime.kind === 'node') {
    return { crossOriginIsolated: null, sharedArrayBuffer: sab, atomics, usable: sab && atomics, reason: sab && atomics ? null : 'SharedArrayBuffer is unavailable' };
  }
  const coi = typeof g.crossOriginIsolated === 'boolean' ? g.crossOriginIsolated : null;
  if (coi === false) {
    return { crossOriginIsolated: false, sharedArrayBuffer: sab, atomics, usable: false, reason: `the page is not cross-origin isolated: ${COOP_COEP_FIX}` };
  }
  if (!sab || !atomics) {
    return { crossOriginIsolated: coi, sharedArrayBuffer: sab, atomics, usable: false, reason: 'SharedArrayBuffer / Atomics are unavailable in this browser' };
  }
  return { crossOriginIsolated: coi, sharedArrayBuffer: sab, atomics, usable: true, reason: null };
}

async function nodeOs(): Promise<{ totalmem(): number; availableParallelism?(): number; cpus(): unknown[] } | null> {
  if (probeRuntime().kind !== 'node') return null;
  try {
    const name = 'node:os';
    return (await import(/* @vite-ignore */ name)) as { totalmem(): number; availableParallelism?(): number; cpus(): unknown[] };
  } catch {
    return null;
  }
}

async function nodeHeapLimit(): Promise<number | null> {
  try {
    const name = 'node:v8';
    const v8 = (await import(/* @vite-ignore */ name)) as { getHeapStatistics(): { heap_size_limit: number } };
    return v8.getHeapStatistics().heap_size_limit;
  } catch {
    return null;
  }
}

export async function probeMemory(): Promise<MemoryReport> {
  const dm = typeof g.navigator?.deviceMemory === 'number' ? g.navigator.deviceMemory : null;
  const os = await nodeOs();
  const total = os ? os.totalmem() : dm !== null ? Math.round(dm * 2 ** 30) : null;
  const heap = typeof g.performance?.memory?.jsHeapSizeLimit === 'number' ? g.performance.memory.jsHeapSizeLimit : os ? await nodeHeapLimit() : null;
  return { deviceMemoryGiB: dm, totalBytes: total, jsHeapLimitBytes: heap };
}

export async function probeCores(): Promise<CoresReport> {
  const hc = g.navigator?.hardwareConcurrency;
  if (typeof hc === 'number' && hc > 0) return { logical: hc };
  const os = await nodeOs();
  if (os) return { logical: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length };
  return { logical: null };
}
