/**
 * A fixed pool of kernel workers over one shared WebAssembly.Memory, created once per backend.
 * `run(op, job)` is synchronous: it publishes the job in a shared control block, wakes the
 * workers (Atomics.notify), runs part 0 on the calling thread, then waits until every worker
 * has finished its part. Parts are contiguous row slices chosen by the kernels themselves
 * (bn_split), so no per-call allocation or message passing happens.
 *
 * Each worker instantiates the same compiled module and gets its own C stack carved from the
 * arena (instances sharing a memory would otherwise share the stack region at the module's
 * initial __stack_pointer).
 */
import { BitNetError } from '../../errors.js';
import { PARALLEL_OPS, type KernelExports, type ParallelOp } from './abi.js';
import type { WasmArena } from './arena.js';
import { isNode } from './wasm-loader.js';
import { CTRL, CTRL_WORDS, WORKER_SOURCE } from './worker-source.js';

export interface ThreadPoolOptions {
  /** Total threads including the calling one (≥ 2). */
  readonly threads: number;
  /**
   * C stack bytes per worker (default 256 KiB). 0 keeps the module's initial stack pointer in
   * every worker — the shared-stack bug this pool exists to avoid; only tests use it.
   */
  readonly stackBytes?: number;
  /** Atomics.load polls before a worker or the caller blocks in Atomics.wait (default 20000). */
  readonly spin?: number;
}

interface WorkerHandle {
  postMessage(msg: unknown): void;
  terminate(): unknown;
}

/** True when this thread may block in Atomics.wait (Node main thread, any worker; not a browser window). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

async function spawn(): Promise<{ w: WorkerHandle; onMessage(fn: (m: { type: string; message?: string }) => void): void; onError(fn: (e: unknown) => void): void }> {
  if (isNode()) {
    const name = 'node:worker_threads';
    const wt = (await import(/* @vite-ignore */ name)) as typeof import('node:worker_threads');
    const w = new wt.Worker(WORKER_SOURCE, { eval: true });
    w.unref();
    return { w, onMessage: (fn) => w.on('message', fn), onError: (fn) => w.on('error', fn) };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  const w = new Worker(url);
  URL.revokeObjectURL(url);
  return {
    w,
    onMessage: (fn) => w.addEventListener('message', (e: MessageEvent) => fn(e.data)),
    onError: (fn) => w.addEventListener('error', fn),
  };
}

export class WasmThreadPool {
  readonly threads: number;
  /** Stack regions given to the workers, [lo, hi) byte ranges (for tests). */
  readonly stacks: ReadonlyArray<readonly [number, number]>;
  private readonly ctrl: Int32Array;
  private readonly workers: WorkerHandle[];
  private readonly fns: ((job: number, part: number, nparts: number) => void)[];
  private readonly spin: number;
  private readonly block: boolean;
  private closed = false;

  private constructor(threads: number, ctrl: Int32Array, workers: WorkerHandle[], ex: KernelExports, stacks: [number, number][], spin: number) {
    this.threads = threads;
    this.ctrl = ctrl;
    this.workers = workers;
    this.fns = PARALLEL_OPS.map((n) => ex[n].bind(ex));
    this.stacks = stacks;
    this.spin = spin;
    this.block = canBlock();
  }

  /**
   * Starts `threads - 1` workers and waits until each has instantiated the module.
   * @throws BitNetError BACKEND_FAILED when a worker cannot start, OUT_OF_MEMORY for the stacks.
   */
  static async create(module: WebAssembly.Module, arena: WasmArena, ex: KernelExports, options: ThreadPoolOptions): Promise<WasmThreadPool> {
    const threads = Math.max(2, Math.floor(options.threads));
    const stackBytes = options.stackBytes ?? 256 * 1024;
    const spin = options.spin ?? 20000;
    const ctrlBuf = new SharedArrayBuffer(CTRL_WORDS * 4);
    const ctrl = new Int32Array(ctrlBuf);
    const workers: WorkerHandle[] = [];
    const stacks: [number, number][] = [];
    const ready: Promise<void>[] = [];
    try {
      for (let i = 1; i < threads; i++) {
        const lo = stackBytes > 0 ? arena.alloc(stackBytes, 16) : 0;
        stacks.push([lo, lo + stackBytes]);
        const { w, onMessage, onError } = await spawn();
        workers.push(w);
        ready.push(
          new Promise<void>((resolve, reject) => {
            onMessage((m) => {
              if (m.type === 'ready') resolve();
              else if (m.type === 'error') reject(new Error(m.message));
            });
            onError(reject);
          }),
        );
        w.postMessage({ module, memory: arena.memory, control: ctrlBuf, index: i, stackTop: stackBytes > 0 ? lo + stackBytes : -1, ops: PARALLEL_OPS, spin });
      }
      await Promise.all(ready);
    } catch (e) {
      for (const w of workers) void w.terminate();
      if (e instanceof BitNetError) throw e;
      throw new BitNetError('BACKEND_FAILED', `wasm worker failed to start: ${String(e)}`, { cause: e });
    }
    return new WasmThreadPool(threads, ctrl, workers, ex, stacks, spin);
  }

  /**
   * Runs a parallel kernel on all threads and returns when every part is done.
   * @throws BitNetError WORKER_CRASHED when a worker's part trapped (the caller's own trap is rethrown).
   */
  run(op: ParallelOp, job: number): void {
    if (this.closed) throw new BitNetError('DISPOSED', 'thread pool has been shut down');
    const c = this.ctrl;
    const n = this.threads;
    c[CTRL.OP] = PARALLEL_OPS.indexOf(op);
    c[CTRL.ARG] = job | 0;
    c[CTRL.NPARTS] = n;
    c[CTRL.ERROR] = 0;
    Atomics.store(c, CTRL.PENDING, n - 1);
    Atomics.add(c, CTRL.GEN, 1);
    Atomics.notify(c, CTRL.GEN);
    let own: unknown = null;
    try {
      this.fns[c[CTRL.OP]!]!(job, 0, n);
    } catch (e) {
      own = e;
    }
    this.join();
    if (own !== null) throw own;
    const bad = Atomics.load(c, CTRL.ERROR);
    if (bad !== 0) throw new BitNetError('WORKER_CRASHED', `wasm worker ${bad - 1} trapped in ${op}`, { details: { worker: bad - 1, op } });
  }

  /** Waits for PENDING to reach 0; a pool with no progress for `stallMs` is declared crashed. */
  private join(stallMs = 60_000): void {
    const c = this.ctrl;
    let p = Atomics.load(c, CTRL.PENDING);
    for (let i = 0; p !== 0 && i < this.spin; i++) p = Atomics.load(c, CTRL.PENDING);
    let last = p;
    let since = Date.now();
    while (p !== 0) {
      if (this.block) Atomics.wait(c, CTRL.PENDING, p, 100);
      p = Atomics.load(c, CTRL.PENDING);
      if (p !== last) {
        last = p;
        since = Date.now();
      } else if (Date.now() - since > stallMs) {
        this.closed = true;
        throw new BitNetError('WORKER_CRASHED', `wasm workers stopped responding (${p} parts outstanding)`);
      }
    }
  }

  /** Stops the workers (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const c = this.ctrl;
    c[CTRL.OP] = -1;
    Atomics.add(c, CTRL.GEN, 1);
    Atomics.notify(c, CTRL.GEN);
    await Promise.all(this.workers.map((w) => Promise.resolve(w.terminate()).catch(() => undefined)));
  }
}
