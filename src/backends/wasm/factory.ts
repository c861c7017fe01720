/**
 * Registry factory for the wasm backend. `threads: 'auto'` (default) uses every core
 * (os.availableParallelism() in Node, navigator.hardwareConcurrency in browsers, at most 16) when
 * threads are supported — in browsers only on cross-origin-isolated pages — and 1 otherwise.
 */
import type { BackendFactory, BackendLoadOptions } from '../backend.js';
import type { ModelWeights } from '../../model/tensor.js';
import { BitNetError } from '../../errors.js';
import { supportsThreads, supportsWasmSimd, threadsUnavailableReason } from '../../probe/wasm-features.js';
import { WasmBackend, type WasmBackendOptions } from './wasm-backend.js';
import { isNode } from './wasm-loader.js';

export interface WasmFactoryOptions extends Omit<WasmBackendOptions, keyof BackendLoadOptions | 'threads'> {
  readonly threads?: number | 'auto';
}

/** Registry priority: above the reference backend (0), below WebGPU. */
export const WASM_PRIORITY = 10;
export const MAX_AUTO_THREADS = 16;

/** Cores available to this process / page. */
export async function hardwareThreads(): Promise<number> {
  if (isNode()) {
    const name = 'node:os';
    const os = (await import(/* @vite-ignore */ name)) as typeof import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && n > 0 ? n : 1;
}

/** Thread count a `threads` option resolves to here. @throws BitNetError BAD_OPTION / BACKEND_UNAVAILABLE */
export async function resolveThreads(threads: number | 'auto' = 'auto'): Promise<number> {
  if (threads === 'auto') return supportsThreads() ? Math.max(1, Math.min(MAX_AUTO_THREADS, await hardwareThreads())) : 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BitNetError('BAD_OPTION', `threads: expected 'auto' or a positive integer, got ${String(threads)}`, { details: { option: 'threads' } });
  }
  if (threads > 1 && !supportsThreads()) {
    throw new BitNetError('BACKEND_UNAVAILABLE', `wasm threads unavailable: ${threadsUnavailableReason()}`, { details: { backend: 'wasm' } });
  }
  return threads;
}

export function createWasmBackendFactory(options: WasmFactoryOptions = {}): BackendFactory {
  return {
    name: 'wasm',
    priority: WASM_PRIORITY,
    async unavailableReason(): Promise<string | null> {
      if (typeof WebAssembly !== 'object') return 'WebAssembly is unavailable';
      if (!supportsWasmSimd()) return 'this engine does not support WebAssembly SIMD128';
      if (typeof options.threads === 'number' && options.threads > 1 && !supportsThreads()) return `wasm threads unavailable: ${threadsUnavailableReason()}`;
      return null;
    },
    async create(weights: ModelWeights, load?: BackendLoadOptions) {
      const { threads, ...rest } = options;
      return WasmBackend.create(weights, { ...rest, ...load, threads: await resolveThreads(threads) });
    },
  };
}
