/**
 * Backend registry: factories register under their name with a priority; `auto` picks the
 * highest-priority factory that reports itself available. The reference backend is always
 * registered (priority 0); wasm / webgpu modules call `registerBackendFactory` when loaded.
 */
import type { Backend, BackendFactory, BackendLoadOptions, BackendName } from './backend.js';
import type { ModelWeights } from '../model/tensor.js';
import { BitNetError } from '../errors.js';
import { createReferenceBackendFactory } from './reference/reference-backend.js';
import { createWebGPUBackendFactory } from './webgpu/factory.js';
import { createWasmBackendFactory } from './wasm/factory.js';

export type BackendChoice = BackendName | 'auto';

const BACKEND_NAMES: readonly BackendName[] = ['reference', 'wasm', 'webgpu'];
const factories = new Map<BackendName, BackendFactory>();
factories.set('reference', createReferenceBackendFactory());
// WebGPU (navigator.gpu, or Dawn in Node): a software adapter only when named explicitly.
factories.set('webgpu', createWebGPUBackendFactory());
factories.set('wasm', createWasmBackendFactory());

/** Registers (or replaces) the factory for `factory.name`. */
export function registerBackendFactory(factory: BackendFactory): void {
  factories.set(factory.name, factory);
}

/** Removes a registered factory (tests, hot reload). */
export function unregisterBackendFactory(name: BackendName): void {
  factories.delete(name);
}

/** Registered factories, highest priority first. */
export function listBackendFactories(): BackendFactory[] {
  return [...factories.values()].sort((a, b) => b.priority - a.priority);
}

/** @throws BitNetError BAD_OPTION for a name that is neither a backend nor 'auto'. */
export function parseBackendChoice(value: string): BackendChoice {
  if (value === 'auto' || (BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new BitNetError('BAD_OPTION', `backend: expected auto | ${BACKEND_NAMES.join(' | ')}, got ${value}`, { details: { option: 'backend' } });
}

/**
 * Resolves a choice to a usable factory.
 * @throws BitNetError BACKEND_UNAVAILABLE when the named backend is not registered or reports a
 *   reason it cannot run here (the reason is in the message), or when nothing is available for 'auto'.
 */
export async function selectBackendFactory(choice: BackendChoice = 'auto'): Promise<BackendFactory> {
  if (choice !== 'auto') {
    const f = factories.get(choice);
    if (!f) throw new BitNetError('BACKEND_UNAVAILABLE', `backend '${choice}' is not available in this build (not registered)`, { details: { backend: choice } });
    const why = await f.unavailableReason({ allowFallbackAdapter: true });
    if (why !== null) throw new BitNetError('BACKEND_UNAVAILABLE', `backend '${choice}' cannot run here: ${why}`, { details: { backend: choice, reason: why } });
    return f;
  }
  const reasons: string[] = [];
  for (const f of listBackendFactories()) {
    const why = await f.unavailableReason();
    if (why === null) return f;
    reasons.push(`${f.name}: ${why}`);
  }
  throw new BitNetError('BACKEND_UNAVAILABLE', `no backend can run here (${reasons.join('; ') || 'none registered'})`);
}

/** Selects a factory for `choice` and creates the backend. */
export async function createBackend(weights: ModelWeights, choice: BackendChoice = 'auto', options?: BackendLoadOptions): Promise<Backend> {
  const f = await selectBackendFactory(choice);
  return f.create(weights, options);
}
