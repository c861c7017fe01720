/**
 * Pure, synchronous checks the wasm backend uses to decide what it can run (no module is
 * instantiated, nothing is cached, never throws).
 */
import { probeThreads } from './environment.js';
import { probeWasmInstructions } from './wasm-instructions.js';

/** True when this engine compiles WebAssembly SIMD128 (required by the wasm backend). */
export function supportsWasmSimd(): boolean {
  return probeWasmInstructions().simd;
}

/**
 * True when the multi-threaded kernels can run: shared wasm memory + atomics compile, a shared
 * WebAssembly.Memory can be created, and workers exist. In browsers this additionally requires
 * `crossOriginIsolated === true`; in Node (worker_threads) it is always possible.
 */
export function supportsThreads(): boolean {
  if (!probeWasmInstructions().threads || !probeThreads().usable) return false;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode && typeof Worker !== 'function') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

/** Why threads are unavailable, or null when `supportsThreads()` is true. */
export function threadsUnavailableReason(): string | null {
  if (supportsThreads()) return null;
  const t = probeThreads();
  if (t.reason) return t.reason;
  if (!probeWasmInstructions().threads) return 'this engine does not compile wasm shared memory / atomics';
  return 'shared WebAssembly.Memory or Worker is unavailable';
}
