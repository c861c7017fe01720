/**
 * Events the engine reports while it loads and runs: load progress (a typed union by phase) and
 * warnings (problems that did not stop the engine, each naming its fix).
 */
import type { BackendName } from '../backends/backend.js';

/**
 * Load progress. `loaded`/`total` are bytes for `download` (bytes present, including those already
 * cached) and `verify` (bytes hashed); for `repack` / `upload` they are the model's tensor bytes scaled
 * by the backend's reported fraction; `ready` is the end (fraction 1). `fraction` is in [0, 1].
 */
export type LoadProgress =
  | { readonly phase: 'download'; readonly loaded: number; readonly total: number; readonly fraction: number; readonly cached: number }
  | { readonly phase: 'verify'; readonly loaded: number; readonly total: number; readonly fraction: number }
  | {
      readonly phase: 'repack' | 'upload';
      readonly loaded: number;
      readonly total: number;
      readonly fraction: number;
      /** The backend doing the work; null while the GGUF tensors are decoded, before a backend is chosen. */
      readonly backend: BackendName | null;
      /** True when the backend's repacked layout came from the IndexedDB cache (repacking was skipped). */
      readonly skipped?: boolean;
    }
  | { readonly phase: 'ready'; readonly loaded: number; readonly total: number; readonly fraction: 1; readonly backend: BackendName };

export type LoadPhase = LoadProgress['phase'];

export type EngineWarningCode =
  /** Storage full: the model runs from memory and is (partly) not cached. */
  | 'QUOTA_EXCEEDED'
  /** IndexedDB failed for another reason: the model runs from memory. */
  | 'STORAGE'
  /** wasm threads are off because the page is not cross-origin isolated. */
  | 'THREADS_DISABLED'
  /** A backend failed to initialise and the next one was used. */
  | 'BACKEND_FAILED'
  /** The GPU device was lost; the engine moved to another backend. */
  | 'DEVICE_LOST'
  /** Storage full: answers are not added to the result cache (requests still succeed). */
  | 'RESULT_CACHE_QUOTA'
  /** The result cache's IndexedDB failed (or is missing): lookups miss / results stay in memory. */
  | 'RESULT_CACHE_STORAGE'
  /** The result cache's embedder failed: semantic lookups are skipped (exact ones still work). */
  | 'RESULT_CACHE_EMBEDDER';

export interface EngineWarning {
  readonly code: EngineWarningCode;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}
