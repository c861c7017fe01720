/**
 * The one internal RPC layer between the main-thread API and the engine worker, on top of comlink.
 *
 * - `serve(api, endpoint)` (worker side) exposes the async methods of `api`. Results and errors travel
 *   in envelopes so that a `BitNetError` keeps its `code` and `details` and an abort stays an
 *   `AbortError` (comlink's own error transfer keeps only name/message/stack).
 * - `connect(endpoint, lifecycle)` (main side) returns `call(method, ...args)`. When the worker dies
 *   (uncaught error, exit, failed message) every pending and later call rejects with
 *   `WORKER_CRASHED` instead of hanging.
 * - Functions passed as arguments must be wrapped with `callback()` (a comlink proxy).
 */
import * as Comlink from 'comlink';
import { BitNetError, abortError, type BitNetErrorCode } from '../errors.js';

export type Endpoint = Comlink.Endpoint;

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly details?: Record<string, unknown>;
  readonly stack?: string;
  readonly cause?: WireError;
}

type Envelope<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** A structured-cloneable description of any thrown value (details are made clone-safe). */
export function serializeError(e: unknown, depth = 0): WireError {
  if (e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)) {
    const err = e as Error & { code?: unknown; details?: unknown; cause?: unknown };
    const out: { -readonly [K in keyof WireError]: WireError[K] } = { name: String(err.name ?? 'Error'), message: String(err.message) };
    if (typeof err.code === 'string') out.code = err.code;
    if (err.details && typeof err.details === 'object') {
      try {
        out.details = structuredClone(err.details) as Record<string, unknown>;
      } catch {
        out.details = JSON.parse(JSON.stringify(err.details, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as Record<string, unknown>;
      }
    }
    if (typeof err.stack === 'string') out.stack = err.stack;
    if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
    return out;
  }
  return { name: 'Error', message: String(e) };
}

/** Rebuilds the error a `WireError` describes (BitNetError, AbortError or plain Error). */
export function deserializeError(w: WireError): Error {
  const cause = w.cause ? deserializeError(w.cause) : undefined;
  let e: Error;
  if (w.name === 'AbortError') e = abortError(w.message);
  else if (w.name === 'BitNetError' && typeof w.code === 'string') {
    e = new BitNetError(w.code as BitNetErrorCode, w.message, { ...(cause ? { cause } : {}), ...(w.details ? { details: w.details } : {}) });
  } else {
    e = new Error(w.message, cause ? { cause } : undefined);
    e.name = w.name;
  }
  if (w.stack) {
    try {
      e.stack = w.stack;
    } catch {
      // DOMException stacks are read-only in some engines
    }
  }
  return e;
}

/** Worker side: exposes every method of `api` (own and inherited) through `endpoint`. */
export function serve(api: object, endpoint: Endpoint): void {
  const names = new Set<string>();
  for (let o: object | null = api; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor' && typeof (api as Record<string, unknown>)[k] === 'function') names.add(k);
  }
  const wrapped: Record<string, (...args: unknown[]) => Promise<Envelope<unknown>>> = {};
  for (const name of names) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        const value = await ((api as Record<string, (...a: unknown[]) => unknown>)[name]!)(...args);
        return { ok: true, value };
      } catch (e) {
        return { ok: false, error: serializeError(e) };
      }
    };
  }
  Comlink.expose(wrapped, endpoint);
}

/** Marks a function argument so it is called back across the worker boundary. */
export function callback<F extends (...args: never[]) => unknown>(fn: F): F {
  return Comlink.proxy(fn);
}

export interface WorkerLifecycle {
  /** Registers the listener the transport calls once when the worker is gone. */
  onCrash(listener: (error: BitNetError) => void): void;
}

export interface RpcClient<Api> {
  call<K extends keyof Api & string>(method: K, ...args: Api[K] extends (...a: infer A) => unknown ? A : never): Promise<Api[K] extends (...a: never[]) => infer R ? Awaited<R> : never>;
  /** The crash error once the worker is gone, else null. */
  readonly crashed: BitNetError | null;
  /** Drops the comlink proxy (the worker itself is terminated by its owner). */
  release(): void;
}

export function connect<Api>(endpoint: Endpoint, lifecycle: WorkerLifecycle): RpcClient<Api> {
  const remote = Comlink.wrap<Record<string, (...args: unknown[]) => Promise<Envelope<unknown>>>>(endpoint);
  let crashed: BitNetError | null = null;
  const pending = new Set<(e: BitNetError) => void>();
  lifecycle.onCrash((e) => {
    if (crashed) return;
    crashed = e;
    for (const reject of pending) reject(e);
    pending.clear();
  });
  const client = {
    get crashed() {
      return crashed;
    },
    async call(method: string, ...args: unknown[]): Promise<unknown> {
      if (crashed) throw crashed;
      const env = await new Promise<Envelope<unknown>>((resolve, reject) => {
        pending.add(reject);
        (remote[method] as (...a: unknown[]) => Promise<Envelope<unknown>>)(...args).then(
          (v) => {
            pending.delete(reject);
            resolve(v);
          },
          (e: unknown) => {
            pending.delete(reject);
            // A failure of the transport itself (e.g. an argument that cannot be cloned).
            reject(e instanceof Error && e.name === 'DataCloneError' ? new BitNetError('BAD_INPUT', `cannot send ${method} arguments to the worker: ${e.message}`, { cause: e }) : e);
          },
        );
      });
      if (env.ok) return env.value;
      throw deserializeError(env.error);
    },
    release(): void {
      (remote as unknown as { [Comlink.releaseProxy](): void })[Comlink.releaseProxy]();
    },
  };
  return client as unknown as RpcClient<Api>;
}
