/**
 * Adapter and device acquisition for the WebGPU backend: picks the adapter, decides the variant
 * (packed dot product, f16 KV cache, timestamps) and requests exactly the limits a plan needs.
 */
import { BitNetError } from '../../errors.js';
import { adapterLabel, hasPackedDot, isFallbackAdapter } from '../../probe/webgpu-features.js';
import { defaultGPU, nodeGPUError } from './dawn-node.js';

export interface AdapterChoice {
  readonly gpu: GPU;
  readonly adapter: GPUAdapter;
  readonly fallback: boolean;
  readonly label: string;
  /** min(maxStorageBufferBindingSize, maxBufferSize) of the adapter. */
  readonly bindingLimit: number;
}

/**
 * @throws BitNetError BACKEND_UNAVAILABLE: no WebGPU, no adapter, or only a fallback (software)
 *   adapter while `allowFallbackAdapter` is false — the message says which.
 */
export async function chooseAdapter(o: { gpu?: GPU | null; allowFallbackAdapter?: boolean }): Promise<AdapterChoice> {
  const gpu = o.gpu ?? (await defaultGPU());
  if (!gpu) throw new BitNetError('BACKEND_UNAVAILABLE', `WebGPU is not available: ${nodeGPUError() || 'navigator.gpu is missing'}`);
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    throw new BitNetError('BACKEND_UNAVAILABLE', `WebGPU requestAdapter failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (!adapter) throw new BitNetError('BACKEND_UNAVAILABLE', 'WebGPU is present but no GPU adapter is available (requestAdapter returned null)');
  const fallback = isFallbackAdapter(adapter);
  if (fallback && !o.allowFallbackAdapter) {
    throw new BitNetError('BACKEND_UNAVAILABLE', `only a fallback (software) WebGPU adapter is available (${adapterLabel(adapter)}); pass allowFallbackAdapter: true to use it`);
  }
  const l = adapter.limits;
  return { gpu, adapter, fallback, label: adapterLabel(adapter), bindingLimit: Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize) };
}

export interface DeviceWants {
  /** Bytes of the largest binding / buffer the plan uses. */
  readonly maxBinding: number;
  readonly kvF16: boolean;
  readonly timestamps: boolean;
}

export interface DeviceVariant {
  readonly dp4a: boolean;
  readonly kvF16: boolean;
  readonly timestamps: boolean;
}

/** Which optional capabilities the adapter offers (before requesting a device). */
export function adapterVariant(c: AdapterChoice, o: { dotProduct?: 'auto' | 'dp4a' | 'plain'; kvCache?: 'auto' | 'f16' | 'f32' }): DeviceVariant {
  const packed = hasPackedDot(c.gpu);
  if (o.dotProduct === 'dp4a' && !packed) throw new BitNetError('BACKEND_UNAVAILABLE', 'dotProduct: dp4a requested but WGSL packed_4x8_integer_dot_product is not supported here');
  const f16 = c.adapter.features.has('shader-f16');
  if (o.kvCache === 'f16' && !f16) throw new BitNetError('BACKEND_UNAVAILABLE', "kvCache: f16 requested but the adapter lacks 'shader-f16'");
  return {
    dp4a: o.dotProduct === 'plain' ? false : packed,
    kvF16: o.kvCache === 'f32' ? false : f16,
    timestamps: c.adapter.features.has('timestamp-query'),
  };
}

/** Requests the device with the features and limits the plan needs. */
export async function requestDevice(c: AdapterChoice, v: DeviceVariant, maxBinding: number): Promise<GPUDevice> {
  const l = c.adapter.limits;
  const requiredFeatures: GPUFeatureName[] = [];
  if (v.kvF16) requiredFeatures.push('shader-f16');
  if (v.timestamps) requiredFeatures.push('timestamp-query');
  const requiredLimits: Record<string, number> = {
    maxStorageBufferBindingSize: Math.min(l.maxStorageBufferBindingSize, Math.max(maxBinding, 134217728)),
    maxBufferSize: Math.min(l.maxBufferSize, Math.max(maxBinding, 268435456)),
  };
  try {
    return await c.adapter.requestDevice({ label: 'bitnet-web', requiredFeatures, requiredLimits });
  } catch (e) {
    throw new BitNetError('BACKEND_UNAVAILABLE', `WebGPU requestDevice failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
