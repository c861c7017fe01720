/**
 * One instantiated kernel module with its memory, allocator and (optionally) worker pool.
 * threads = 1 uses bitnet-simd.wasm over a private growable memory; threads ≥ 2 uses
 * bitnet-simd-mt.wasm over a shared memory that every pool worker instantiates too.
 */
import { BitNetError } from '../../errors.js';
import type { KernelExports, ParallelOp } from './abi.js';
import { MAX_PAGES, WasmArena, createMemory } from './arena.js';
import { WasmThreadPool } from './thread-pool.js';
import { loadWasmModule } from './wasm-loader.js';

export interface WasmRuntimeOptions {
  /** Kernel threads including the calling thread (default 1). */
  readonly threads?: number;
  /** Directory (URL or path) holding the .wasm files; default: the package's wasm/build/. */
  readonly wasmPath?: string | URL;
  /** Busy-wait polls before blocking, for workers and the dispatching thread. */
  readonly spin?: number;
  /** Memory the caller expects to need (pages), to size the shared-memory reservation. */
  readonly expectedPages?: number;
  /** Per-worker C stack bytes (see ThreadPoolOptions.stackBytes). */
  readonly stackBytes?: number;
}

export class WasmRuntime {
  readonly ex: KernelExports;
  readonly arena: WasmArena;
  readonly pool: WasmThreadPool | null;
  readonly threads: number;
  private closed = false;

  private constructor(ex: KernelExports, arena: WasmArena, pool: WasmThreadPool | null) {
    this.ex = ex;
    this.arena = arena;
    this.pool = pool;
    this.threads = pool ? pool.threads : 1;
  }

  /** @throws BitNetError BACKEND_UNAVAILABLE / BACKEND_FAILED / OUT_OF_MEMORY */
  static async create(options: WasmRuntimeOptions = {}): Promise<WasmRuntime> {
    const threads = Math.max(1, Math.floor(options.threads ?? 1));
    const shared = threads > 1;
    const module = await loadWasmModule(shared ? 'threads' : 'single', options.wasmPath);
    const memory = createMemory(shared, options.expectedPages ?? 0, MAX_PAGES);
    let ex: KernelExports;
    try {
      const inst = await WebAssembly.instantiate(module, { env: { memory } });
      ex = inst.exports as unknown as KernelExports;
      ex._initialize();
    } catch (e) {
      throw new BitNetError('BACKEND_FAILED', `wasm kernels failed to instantiate: ${String(e)}`, { cause: e });
    }
    const arena = new WasmArena(memory, ex.bn_heap_base() >>> 0);
    const pool = shared ? await WasmThreadPool.create(module, arena, ex, {
      threads,
      ...(options.spin !== undefined ? { spin: options.spin } : {}),
      ...(options.stackBytes !== undefined ? { stackBytes: options.stackBytes } : {}),
    }) : null;
    return new WasmRuntime(ex, arena, pool);
  }

  /** Runs a parallel kernel over all threads (or directly when single-threaded). */
  run(op: ParallelOp, job: number): void {
    if (this.pool) this.pool.run(op, job);
    else this.ex[op](job, 0, 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool?.close();
  }
}
