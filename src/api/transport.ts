/**
 * How the main-thread API reaches the engine core: through the worker RPC (default in browsers) or
 * by calling an in-process `EngineCore` (default in Node, or `worker: false`). Both expose the same
 * `call(method, ...args)`, so the API code does not know which one it has.
 */
import type { BitNetError } from '../errors.js';
import { callback, connect, type RpcClient } from '../worker/rpc.js';
import type { CoreApi } from '../worker/protocol.js';
import { spawnEngineWorker } from '../worker/spawn.js';

export interface CoreTransport {
  call<K extends keyof CoreApi>(method: K, ...args: Parameters<CoreApi[K]>): ReturnType<CoreApi[K]>;
  /** Wraps a callback argument for the transport (a comlink proxy for the worker). */
  callback<F extends (...args: never[]) => unknown>(fn: F): F;
  /** WORKER_CRASHED once the worker died, else null. */
  readonly crashed: BitNetError | null;
  onCrash(listener: (e: BitNetError) => void): void;
  readonly inWorker: boolean;
  close(): Promise<void>;
}

export async function localTransport(): Promise<CoreTransport> {
  const [{ EngineCore }] = await Promise.all([import('../worker/engine-core.js'), import('../worker/backends.js')]);
  const core = new EngineCore();
  return {
    call: ((method: keyof CoreApi, ...args: unknown[]) => (core[method] as (...a: unknown[]) => unknown)(...args)) as CoreTransport['call'],
    callback: (fn) => fn,
    crashed: null,
    onCrash: () => undefined,
    inWorker: false,
    close: async () => undefined,
  };
}

export async function workerTransport(url?: string | URL): Promise<CoreTransport> {
  const w = await spawnEngineWorker(url !== undefined ? { url } : {});
  const client: RpcClient<CoreApi> = connect<CoreApi>(w.endpoint, w);
  return {
    call: ((method: keyof CoreApi, ...args: unknown[]) => (client.call as (m: string, ...a: unknown[]) => Promise<unknown>)(method, ...args)) as CoreTransport['call'],
    callback,
    get crashed() {
      return client.crashed;
    },
    onCrash: (l) => w.onCrash(l),
    inWorker: true,
    async close() {
      client.release();
      await w.terminate();
    },
  };
}
