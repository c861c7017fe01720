/**
 * Owns the demo's one engine: loads it with the chosen model / backend, forwards load progress and
 * warnings, and replaces it when the user switches model or backend (the old one is disposed
 * first). Panels subscribe to `state` changes; nothing here touches the DOM.
 */
import { createEngine, type BackendChoice, type Engine, type EngineWarning, type LoadProgress } from 'bitnet-web';

export type HostStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface HostState {
  readonly status: HostStatus;
  readonly engine: Engine | null;
  readonly progress: LoadProgress | null;
  /** Bytes / s of the current download phase (null when unknown). */
  readonly downloadRate: number | null;
  readonly warnings: readonly EngineWarning[];
  readonly error: Error | null;
  readonly request: LoadRequest | null;
  readonly loadMs: number | null;
  /** Bytes this load took from the network (download progress minus what was already cached); null when unknown. */
  readonly networkBytes: number | null;
}

export interface LoadRequest {
  /** null = the embedded default model; a URL; or a local file. */
  readonly model: string | File | null;
  readonly backend: BackendChoice;
  readonly cache: boolean;
  readonly chunkSize: number | null;
  readonly retries: number | null;
}

type Listener = (s: HostState) => void;

export class EngineHost {
  private s: HostState = { status: 'idle', engine: null, progress: null, downloadRate: null, warnings: [], error: null, request: null, loadMs: null, networkBytes: null };
  private readonly listeners = new Set<Listener>();
  private loading: AbortController | null = null;
  private generation = 0;

  get state(): HostState {
    return this.s;
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    l(this.s);
    return () => this.listeners.delete(l);
  }

  private set(patch: Partial<HostState>): void {
    this.s = { ...this.s, ...patch };
    for (const l of this.listeners) l(this.s);
  }

  /** Disposes the current engine (if any) and loads a new one. Resolves when ready or failed. */
  async load(req: LoadRequest): Promise<void> {
    const gen = ++this.generation;
    this.loading?.abort(new Error('superseded by a new load'));
    const ctrl = new AbortController();
    this.loading = ctrl;
    const old = this.s.engine;
    this.set({ status: 'loading', engine: null, progress: null, downloadRate: null, warnings: [], error: null, request: req, loadMs: null, networkBytes: null });
    if (old) await old.dispose().catch(() => undefined);
    const t0 = performance.now();
    let rateStart: { t: number; bytes: number } | null = null;
    const warnings: EngineWarning[] = [];
    try {
      const cache = req.cache
        ? { ...(req.chunkSize !== null ? { chunkSize: req.chunkSize } : {}), ...(req.retries !== null ? { retries: req.retries } : {}) }
        : false;
      const engine = await createEngine({
        ...(req.model ? { model: req.model } : {}),
        backend: req.backend,
        cache,
        signal: ctrl.signal,
        onProgress: (p) => {
          if (gen !== this.generation) return;
          let rate = this.s.downloadRate;
          let networkBytes = this.s.networkBytes;
          if (p.phase === 'download') {
            networkBytes = Math.max(0, p.loaded - p.cached);
            const now = performance.now();
            if (!rateStart) rateStart = { t: now, bytes: p.loaded };
            const dt = (now - rateStart.t) / 1000;
            rate = dt > 0.2 ? (p.loaded - rateStart.bytes) / dt : null;
          }
          this.set({ progress: p, downloadRate: rate, networkBytes });
        },
        onWarning: (w) => {
          warnings.push(w);
          if (gen === this.generation) this.set({ warnings: [...warnings] });
        },
      });
      if (gen !== this.generation) {
        await engine.dispose();
        return;
      }
      this.set({ status: 'ready', engine, warnings: [...engine.warnings], loadMs: performance.now() - t0 });
    } catch (e) {
      if (gen !== this.generation) return;
      this.set({ status: 'error', engine: null, error: e instanceof Error ? e : new Error(String(e)) });
    } finally {
      if (this.loading === ctrl) this.loading = null;
    }
  }

  async unload(): Promise<void> {
    this.generation++;
    this.loading?.abort(new Error('unloaded'));
    const old = this.s.engine;
    this.set({ status: 'idle', engine: null, progress: null, error: null });
    if (old) await old.dispose().catch(() => undefined);
  }
}
