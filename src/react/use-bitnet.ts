/**
 * `useBitNet(options)`: a BitNet engine bound to a component's lifetime.
 *
 * - Creates the engine on mount (and again when a load-relevant option changes: model, backend,
 *   cache, worker, maxContext, ...; callbacks may change freely) and disposes it on unmount.
 * - React strict mode runs effects twice (mount → cleanup → mount): disposal is deferred by one
 *   macrotask and cancelled when the same options mount again, so the model loads once.
 * - `generate` / `chat` may be called before the engine is ready (they wait for it); their work
 *   starts when iterated / awaited. `abort()` cancels every request started through this hook, and so
 *   does unmounting. State: `status`, `progress`, `backend`, `selection`, `error`.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BackendName } from '../backends/backend.js';
import { createEngine, type Engine, type EngineMetrics } from '../api/engine.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, ChatCompletionStream } from '../api/chat.js';
import type { LoadProgress } from '../api/events.js';
import type { GenerationEvent } from '../api/generation.js';
import type { EngineOptions, GenerateOptions } from '../api/options.js';
import { abortError, isAbortError } from '../errors.js';
import type { BackendSelection } from '../worker/select-backend.js';

export type BitNetStatus = 'idle' | 'loading' | 'ready' | 'generating' | 'error';

export interface UseBitNetOptions extends EngineOptions {
  /** false: do not load (status 'idle'); default true. */
  readonly enabled?: boolean;
}

/** A request stream from the hook: iterate it to run it; `abort()` cancels it. */
export interface HookStream<T> extends AsyncIterable<T> {
  abort(reason?: unknown): void;
}

export interface UseBitNetResult {
  readonly status: BitNetStatus;
  readonly progress: LoadProgress | null;
  readonly backend: BackendName | null;
  readonly selection: BackendSelection | null;
  /** The load error, or the last request error (aborts excluded). */
  readonly error: Error | null;
  /** The engine once ready (null before). */
  readonly engine: Engine | null;
  generate(prompt: string | readonly number[], options?: GenerateOptions): HookStream<GenerationEvent>;
  chat(params: ChatCompletionCreateParams & { stream: true }): Promise<ChatCompletionStream>;
  chat(params: ChatCompletionCreateParams & { stream?: false | null }): Promise<ChatCompletion>;
  /** Cancels every request started through this hook. */
  abort(): void;
  /** Engine metrics, or null while no engine is ready. */
  metrics(): Promise<EngineMetrics | null>;
}

interface Holder {
  readonly key: string;
  readonly engine: Promise<Engine>;
  ready: Engine | null;
  disposeTimer: ReturnType<typeof setTimeout> | null;
  disposed: boolean;
}

const ids = new WeakMap<object, number>();
let nextId = 1;
function identity(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

/** A key that changes exactly when an option that requires reloading changes. */
export function optionsKey(o: UseBitNetOptions): string {
  const m = o.model;
  const model = m === undefined ? 'default' : typeof m === 'string' ? `s:${m}` : m instanceof URL ? `s:${m.href}` : `o:${identity(m as object)}`;
  return JSON.stringify([
    o.enabled ?? true, model, o.backend ?? 'auto', o.cache ?? null, o.worker ?? null, o.workerUrl ? String(o.workerUrl) : null,
    o.maxContext ?? null, o.maxBatch ?? null, o.allowFallbackAdapter ?? null, o.signal ? identity(o.signal) : null,
  ]);
}

function disposeHolder(h: Holder): void {
  if (h.disposed) return;
  h.disposed = true;
  h.engine.then((e) => e.dispose(), () => undefined).catch(() => undefined);
}

function link(outer: AbortSignal | undefined, inner: AbortController): void {
  if (!outer) return;
  if (outer.aborted) inner.abort(outer.reason);
  else outer.addEventListener('abort', () => inner.abort(outer.reason), { once: true });
}

export function useBitNet(options: UseBitNetOptions = {}): UseBitNetResult {
  const [status, setStatus] = useState<BitNetStatus>(options.enabled === false ? 'idle' : 'loading');
  const [progress, setProgress] = useState<LoadProgress | null>(null);
  const [engine, setEngine] = useState<Engine | null>(null);
  const [backend, setBackend] = useState<BackendName | null>(null);
  const [selection, setSelection] = useState<BackendSelection | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const latest = useRef(options);
  latest.current = options;
  const holder = useRef<Holder | null>(null);
  const inflight = useRef(new Set<AbortController>());
  const key = optionsKey(options);

  /** Copies the engine's backend / selection into state (they change after a GPU device loss). */
  const sync = useCallback((h: Holder | null) => {
    if (!h?.ready || holder.current !== h) return;
    setBackend(h.ready.backend);
    setSelection(h.ready.selection);
  }, []);

  useEffect(() => {
    const o = latest.current;
    let h = holder.current;
    if (h && h.key === key && h.disposeTimer !== null && !h.disposed) {
      // Strict-mode re-mount with the same options: keep the engine that is already loading.
      clearTimeout(h.disposeTimer);
      h.disposeTimer = null;
    } else {
      if (h) disposeHolder(h);
      h = null;
      holder.current = null;
      setEngine(null);
      setBackend(null);
      setSelection(null);
      setProgress(null);
      setError(null);
      if (o.enabled === false) {
        setStatus('idle');
      } else {
        setStatus('loading');
        const { enabled: _enabled, ...engineOptions } = o;
        const created: Holder = {
          key,
          ready: null,
          disposeTimer: null,
          disposed: false,
          engine: createEngine({
            ...engineOptions,
            onProgress: (p) => {
              if (holder.current === created) setProgress(p);
              latest.current.onProgress?.(p);
            },
            onWarning: (w) => {
              if (latest.current.onWarning) latest.current.onWarning(w);
              else console.warn(`bitnet-web: ${w.message}`);
              sync(created);
            },
          }),
        };
        created.engine.catch(() => undefined);
        h = created;
        holder.current = created;
        created.engine.then(
          (e) => {
            created.ready = e;
            if (holder.current !== created) return;
            setEngine(e);
            sync(created);
            setStatus(inflight.current.size > 0 ? 'generating' : 'ready');
          },
          (err: unknown) => {
            if (holder.current !== created) return;
            setError(err instanceof Error ? err : new Error(String(err)));
            setStatus('error');
          },
        );
      }
    }
    const mine = h;
    return () => {
      if (!mine) return;
      mine.disposeTimer = setTimeout(() => {
        mine.disposeTimer = null;
        for (const c of inflight.current) c.abort(abortError('the component unmounted'));
        disposeHolder(mine);
        if (holder.current === mine) holder.current = null;
      }, 0);
    };
    // `key` captures every load-relevant option; callbacks are read through `latest`.
  }, [key, sync]);

  const ready = useCallback(async (): Promise<Engine> => {
    const h = holder.current;
    if (!h) throw abortError(latest.current.enabled === false ? 'useBitNet is disabled (enabled: false)' : 'the engine was disposed');
    return h.engine;
  }, []);

  /** Starts tracking a request: status 'generating' while any runs; abort() and unmount cancel it. */
  const begin = useCallback((controller: AbortController): { end(err?: unknown): void; readonly ended: boolean } => {
    inflight.current.add(controller);
    setStatus((s) => (s === 'ready' ? 'generating' : s));
    let ended = false;
    return {
      get ended() {
        return ended;
      },
      end(err?: unknown) {
        if (ended) return;
        ended = true;
        inflight.current.delete(controller);
        if (inflight.current.size === 0) setStatus((s) => (s === 'generating' ? 'ready' : s));
        if (err !== undefined && !isAbortError(err)) setError(err instanceof Error ? err : new Error(String(err)));
        sync(holder.current);
      },
    };
  }, [sync]);

  /** A stream that runs (and is tracked) while it is iterated. */
  const trackedStream = useCallback(<T>(outer: AbortSignal | undefined, open: (signal: AbortSignal, e: Engine) => AsyncIterable<T> | Promise<AsyncIterable<T>>): HookStream<T> => {
    const controller = new AbortController();
    link(outer, controller);
    return {
      abort: (reason?: unknown) => controller.abort(reason),
      async *[Symbol.asyncIterator]() {
        const t = begin(controller);
        try {
          if (controller.signal.aborted) throw abortError(controller.signal.reason);
          const e = await ready();
          for await (const x of await open(controller.signal, e)) yield x;
          t.end();
        } catch (err) {
          t.end(err);
          throw err;
        } finally {
          // An early `break` ends the iteration without an error: cancel what is left.
          if (!t.ended) {
            controller.abort();
            t.end();
          }
        }
      },
    };
  }, [begin, ready]);

  const generate = useCallback(
    (prompt: string | readonly number[], opts: GenerateOptions = {}): HookStream<GenerationEvent> =>
      trackedStream(opts.signal, (signal, e) => e.generate(prompt, { ...opts, signal })),
    [trackedStream],
  );

  const chat = useCallback(
    ((params: ChatCompletionCreateParams): Promise<ChatCompletion | ChatCompletionStream> => {
      if (params.stream === true) {
        return Promise.resolve(trackedStream<ChatCompletionChunk>(params.signal, (signal, e) => e.chat.completions.create({ ...params, stream: true, signal })));
      }
      const controller = new AbortController();
      link(params.signal, controller);
      const t = begin(controller);
      return ready()
        .then((e) => e.chat.completions.create({ ...params, stream: false, signal: controller.signal }))
        .then(
          (r) => {
            t.end();
            return r;
          },
          (err: unknown) => {
            t.end(err);
            throw err;
          },
        );
    }) as UseBitNetResult['chat'],
    [begin, ready, trackedStream],
  );

  const abort = useCallback(() => {
    for (const c of inflight.current) c.abort(abortError('aborted by useBitNet().abort()'));
  }, []);

  const metrics = useCallback(async (): Promise<EngineMetrics | null> => {
    const e = holder.current?.ready;
    return e && !e.disposed ? e.metrics() : null;
  }, []);

  return { status, progress, backend, selection, error, engine, generate, chat, abort, metrics };
}
