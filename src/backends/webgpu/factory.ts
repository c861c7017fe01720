/**
 * Registry factory of the WebGPU backend.
 *
 * Availability: needs a GPU object (navigator.gpu, or Dawn in Node) and an adapter. A fallback
 * (software) adapter such as SwiftShader counts only when allowed — by the factory option
 * `allowFallbackAdapter`, or by the caller of `unavailableReason({ allowFallbackAdapter: true })`
 * (the registry does this for an explicitly named `webgpu`), which also allows it for the next
 * `create`. Priority: 20 (above wasm 10 and reference 0); 5 once the adapter is known to be a
 * fallback adapter.
 */
import type { BackendFactory, BackendLoadOptions } from '../backend.js';
import type { ModelWeights } from '../../model/tensor.js';
import { BitNetError } from '../../errors.js';
import { chooseAdapter } from './device.js';
import { WebGPUBackend, type WebGPULoadOptions } from './webgpu-backend.js';

export const WEBGPU_PRIORITY = 20;
export const WEBGPU_FALLBACK_PRIORITY = 5;

export interface WebGPUFactoryOptions extends Omit<WebGPULoadOptions, keyof BackendLoadOptions | 'gpu' | 'allowFallbackAdapter'> {
  readonly gpu?: GPU;
  readonly allowFallbackAdapter?: boolean;
}

export interface WebGPUBackendFactory extends BackendFactory {
  readonly name: 'webgpu';
  unavailableReason(request?: { allowFallbackAdapter?: boolean }): Promise<string | null>;
  create(weights: ModelWeights, options?: BackendLoadOptions & Partial<WebGPULoadOptions>): Promise<WebGPUBackend>;
}

export function createWebGPUBackendFactory(options: WebGPUFactoryOptions = {}): WebGPUBackendFactory {
  let fallbackSeen: boolean | null = null;
  let allowedByCaller = false;
  return {
    name: 'webgpu',
    get priority(): number {
      return fallbackSeen ? WEBGPU_FALLBACK_PRIORITY : WEBGPU_PRIORITY;
    },
    async unavailableReason(request?: { allowFallbackAdapter?: boolean }): Promise<string | null> {
      allowedByCaller = !!request?.allowFallbackAdapter;
      try {
        const c = await chooseAdapter({ ...(options.gpu ? { gpu: options.gpu } : {}), allowFallbackAdapter: true });
        fallbackSeen = c.fallback;
        if (c.fallback && !options.allowFallbackAdapter && !allowedByCaller) {
          return `only a fallback (software) WebGPU adapter is available (${c.label}); allowFallbackAdapter is off`;
        }
        return null;
      } catch (e) {
        return e instanceof BitNetError ? e.message : `WebGPU probe failed: ${e instanceof Error ? e.message : String(e)}`;
      }
    },
    async create(weights: ModelWeights, load: BackendLoadOptions & Partial<WebGPULoadOptions> = {}): Promise<WebGPUBackend> {
      const allow = load.allowFallbackAdapter ?? (options.allowFallbackAdapter || allowedByCaller);
      return WebGPUBackend.create(weights, { ...options, ...load, ...(options.gpu && !load.gpu ? { gpu: options.gpu } : {}), allowFallbackAdapter: allow });
    },
  };
}
