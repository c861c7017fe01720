/**
 * Backend selection with a full account of every candidate.
 *
 * `auto` tries registered factories by priority (WebGPU, wasm, reference), with one rule on top: a
 * software WebGPU adapter (`isFallbackAdapter`, e.g. SwiftShader) is tried after wasm unless
 * `allowFallbackAdapter` is set. A factory that reports itself unavailable is `skipped` with its
 * reason; one whose `create` throws is `failed` with the error kept, and the next one is tried. A
 * named backend is the only candidate (no silent fallback): if it cannot run, selection throws.
 */
import type { Backend, BackendFactory, BackendLoadOptions, BackendName } from '../backends/backend.js';
import type { BackendChoice } from '../backends/registry.js';
import { BitNetError, isAbortError } from '../errors.js';
import type { ModelWeights } from '../model/tensor.js';
import type { CapabilityReport } from '../probe/index.js';
import { serializeError, type WireError } from './rpc.js';

export type CandidateStatus = 'chosen' | 'skipped' | 'failed' | 'untried';

export interface CandidateReport {
  readonly name: BackendName;
  readonly priority: number;
  readonly status: CandidateStatus;
  /** Why it was skipped / failed / not tried (null for the chosen one). */
  readonly reason: string | null;
  /** The initialisation error of a failed candidate. */
  readonly error: WireError | null;
}

export interface BackendHandoff {
  readonly from: BackendName;
  readonly to: BackendName;
  readonly reason: string;
  /** ms since epoch. */
  readonly at: number;
}

export interface BackendSelection {
  readonly requested: BackendChoice;
  readonly chosen: BackendName;
  /** The chosen backend's description (adapter, threads, ...). */
  readonly description: string;
  /** Every registered backend, in the order considered. */
  readonly candidates: readonly CandidateReport[];
  /** Backend changes after start-up (GPU device loss). */
  readonly handoffs: readonly BackendHandoff[];
}

export interface SelectOptions {
  readonly choice: BackendChoice;
  readonly factories: readonly BackendFactory[];
  readonly probe: CapabilityReport | null;
  readonly allowFallbackAdapter?: boolean;
  /** Backends never to use (e.g. the one whose device was lost). */
  readonly exclude?: ReadonlySet<BackendName>;
  readonly load?: BackendLoadOptions;
  /** Repack / upload progress of the candidate being created, named (replaces `load.onProgress`). */
  readonly onProgress?: (backend: BackendName, ...progress: Parameters<NonNullable<BackendLoadOptions['onProgress']>>) => void;
  /** Told about every candidate that failed to initialise (auto mode). */
  readonly onFailure?: (name: BackendName, error: unknown) => void;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The order `auto` tries factories in, with the fallback-adapter rule applied. */
export function candidateOrder(factories: readonly BackendFactory[], probe: CapabilityReport | null, allowFallbackAdapter = false): { order: BackendFactory[]; demoted: boolean } {
  const order = [...factories].sort((a, b) => b.priority - a.priority);
  const software = probe?.webgpu.adapter?.isFallbackAdapter === true;
  if (!software || allowFallbackAdapter) return { order, demoted: false };
  const gpu = order.findIndex((f) => f.name === 'webgpu');
  const wasm = order.findIndex((f) => f.name === 'wasm');
  if (gpu < 0 || wasm < 0 || gpu > wasm) return { order, demoted: false };
  const [f] = order.splice(gpu, 1);
  order.splice(order.findIndex((x) => x.name === 'wasm') + 1, 0, f!);
  return { order, demoted: true };
}

/**
 * Creates a backend for the model.
 * @throws BitNetError BACKEND_UNAVAILABLE (named backend unavailable, or nothing could run; details.selection
 *   has the per-candidate account), BACKEND_FAILED (a named backend failed to initialise; cause = its error),
 *   AbortError.
 */
export async function selectBackend(weights: ModelWeights, o: SelectOptions): Promise<{ backend: Backend; selection: BackendSelection }> {
  const { order, demoted } = candidateOrder(o.factories, o.probe, o.allowFallbackAdapter);
  const reports: CandidateReport[] = [];
  let chosen: { backend: Backend; name: BackendName } | null = null;
  let lastError: unknown = null;
  for (const f of order) {
    const base = { name: f.name, priority: f.priority };
    if (chosen) {
      reports.push({ ...base, status: 'untried', reason: `${chosen.name} was chosen first`, error: null });
      continue;
    }
    if (o.exclude?.has(f.name)) {
      reports.push({ ...base, status: 'skipped', reason: 'excluded (its device was lost earlier)', error: null });
      continue;
    }
    if (o.choice !== 'auto' && f.name !== o.choice) {
      reports.push({ ...base, status: 'skipped', reason: `backend '${o.choice}' was requested`, error: null });
      continue;
    }
    let why: string | null;
    try {
      // A factory may accept a request argument (WebGPU: whether a software adapter is acceptable):
      // yes when WebGPU was named, allowed explicitly, or reached after wasm in 'auto' (demoted order).
      const allowFallbackAdapter = o.choice === 'webgpu' || o.allowFallbackAdapter === true || (demoted && f.name === 'webgpu');
      why = await (f.unavailableReason as (request?: { allowFallbackAdapter?: boolean }) => Promise<string | null>).call(f, { allowFallbackAdapter });
    } catch (e) {
      why = `availability check failed: ${message(e)}`;
    }
    if (why !== null) {
      reports.push({ ...base, status: 'skipped', reason: why, error: null });
      continue;
    }
    try {
      const onProgress = o.onProgress;
      const load: BackendLoadOptions | undefined = onProgress ? { ...o.load, onProgress: (...p) => onProgress(f.name, ...p) } : o.load;
      const backend = await f.create(weights, load);
      chosen = { backend, name: f.name };
      const note = f.name === 'webgpu' && o.probe?.webgpu.adapter?.isFallbackAdapter ? 'software WebGPU adapter' : null;
      reports.push({ ...base, status: 'chosen', reason: note, error: null });
    } catch (e) {
      if (isAbortError(e)) throw e;
      lastError = e;
      reports.push({ ...base, status: 'failed', reason: `initialisation failed: ${message(e)}`, error: serializeError(e) });
      if (o.choice === 'auto') o.onFailure?.(f.name, e);
    }
  }
  if (demoted) {
    const i = reports.findIndex((r) => r.name === 'webgpu');
    const r = reports[i]!;
    if (r.status !== 'chosen') {
      reports[i] = { ...r, reason: `${r.reason ?? ''}${r.reason ? '; ' : ''}only a software (fallback) WebGPU adapter is available, which is slower than wasm; pass allowFallbackAdapter: true or backend: 'webgpu' to prefer it` };
    }
  }
  if (o.choice !== 'auto' && !order.some((f) => f.name === o.choice)) {
    throw new BitNetError('BACKEND_UNAVAILABLE', `backend '${o.choice}' is not available in this build (not registered)`, { details: { backend: o.choice, candidates: reports } });
  }
  if (!chosen) {
    const summary = reports.filter((r) => r.status !== 'untried').map((r) => `${r.name}: ${r.reason}`).join('; ');
    if (o.choice !== 'auto' && lastError !== null) {
      throw new BitNetError('BACKEND_FAILED', `backend '${o.choice}' failed to initialise: ${message(lastError)}`, { cause: lastError, details: { backend: o.choice, candidates: reports } });
    }
    throw new BitNetError('BACKEND_UNAVAILABLE', `no backend can run this model here (${summary || 'none registered'})`, { cause: lastError ?? undefined, details: { candidates: reports } });
  }
  return {
    backend: chosen.backend,
    selection: { requested: o.choice, chosen: chosen.name, description: chosen.backend.description, candidates: reports, handoffs: [] },
  };
}
