/**
 * One instantiated kernel module with its memory, allocator and (optionally) worker pool.
 * threads = 1 uses bitnet-simd.wasm over a private growable memory; threads ≥ 2 uses
 * bitnet-simd-mt.wasm over a shared memory that every pool worker instantiates too.
 */
import { BitNetError } from '../../errors.js';
import type { KernelExports, ParallelOp } from './abi.js';
import { INITIAL_PAGES, MAX_PAGES, PAGE, WasmArena, createMemory } from './arena.js';
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
  /** Cap on the linear memory in bytes (default and maximum: 4 GiB). */
  readonly maxMemoryBytes?: number;
  /**
   * Jobs whose estimated work (multiply-adds) is below this run on the calling thread only,
   * where a dispatch round trip would cost more than it saves. Default 2^19.
   */
  readonly minParallelWork?: number;
}

export class WasmRuntime {
  readonly ex: KernelExports;
  readonly arena: WasmArena;
  readonly pool: WasmThreadPool | null;
  readonly threads: number;
  readonly minParallelWork: number;
  private closed = false;

  private constructor(ex: KernelExports, arena: WasmArena, pool: WasmThreadPool | null, minParallelWork: number) {
    this.ex = ex;
    this.arena = arena;
    this.pool = pool;
    this.threads = pool ? pool.threads : 1;
    this.minParallelWork = minParallelWork;
  }

  /** @throws BitNetError BACKEND_UNAVAILABLE / BACKEND_FAILED / OUT_OF_MEMORY */
  static async create(options: WasmRuntimeOptions = {}): Promise<WasmRuntime> {
    const threads = Math.max(1, Math.floor(options.threads ?? 1));
    const shared = threads > 1;
    const module = await loadWasmModule(shared ? 'threads' : 'single', options.wasmPath);
    const maxPages = Math.max(INITIAL_PAGES, Math.min(MAX_PAGES, Math.floor((options.maxMemoryBytes ?? MAX_PAGES * PAGE) / PAGE)));
    const memory = createMemory(shared, Math.min(options.expectedPages ?? 0, maxPages), maxPages);
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
    return new WasmRuntime(ex, arena, pool, options.minParallelWork ?? 1 << 19);
  }

  /**
   * Runs a parallel kernel over all threads, or directly on this thread when single-threaded or
   * when `work` (estimated multiply-adds) is below minParallelWork.
   */
  run(op: ParallelOp, job: number, work = Infinity): void {
    if (this.pool && work >= this.minParallelWork) this.pool.run(op, job);
    else this.ex[op](job, 0, 1);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool?.close();
  }
}
