/**
 * Small pure helpers describing a WebGPU implementation: adapter info, features, limits, whether it
 * is a fallback (software) adapter and whether WGSL has the packed 4×8-bit integer dot product.
 * Nothing here requests a device.
 */

export const PACKED_DOT_FEATURE = 'packed_4x8_integer_dot_product';

export interface WebGPUAdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  readonly isFallbackAdapter: boolean;
  readonly features: string[];
  readonly limits: Record<string, number>;
  readonly packedDot: boolean;
  readonly shaderF16: boolean;
  readonly subgroups: boolean;
  readonly timestampQuery: boolean;
  readonly subgroupMinSize?: number;
  readonly subgroupMaxSize?: number;
}

/** Whether WGSL supports dot4I8Packed & co. (`navigator.gpu.wgslLanguageFeatures`). */
export function hasPackedDot(gpu: Pick<GPU, 'wgslLanguageFeatures'> | null | undefined): boolean {
  return !!gpu?.wgslLanguageFeatures?.has(PACKED_DOT_FEATURE);
}

/** adapter.info.isFallbackAdapter (current spec) or the older adapter.isFallbackAdapter. */
export function isFallbackAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined;
  const legacy = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return !!(info?.isFallbackAdapter ?? legacy ?? false);
}

/** Every numeric limit as a plain object (GPUSupportedLimits has getters on its prototype). */
export function limitsToObject(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k in limits) {
    const v = (limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** One-line human description of an adapter ("vendor architecture (description)"). */
export function adapterLabel(adapter: GPUAdapter): string {
  const i = adapter.info;
  const parts = [i?.vendor, i?.architecture, i?.device].filter((s) => !!s);
  const desc = i?.description ? ` (${i.description})` : '';
  return (parts.join(' ') || 'unknown adapter') + desc + (isFallbackAdapter(adapter) ? ' [fallback]' : '');
}

export function describeAdapter(adapter: GPUAdapter, gpu?: Pick<GPU, 'wgslLanguageFeatures'> | null): WebGPUAdapterReport {
  const i = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const features = [...adapter.features].map(String).sort();
  return {
    vendor: i?.vendor ?? '',
    architecture: i?.architecture ?? '',
    device: i?.device ?? '',
    description: i?.description ?? '',
    isFallbackAdapter: isFallbackAdapter(adapter),
    features,
    limits: limitsToObject(adapter.limits),
    packedDot: hasPackedDot(gpu),
    shaderF16: features.includes('shader-f16'),
    subgroups: features.includes('subgroups'),
    timestampQuery: features.includes('timestamp-query'),
    ...(typeof i?.subgroupMinSize === 'number' ? { subgroupMinSize: i.subgroupMinSize } : {}),
    ...(typeof i?.subgroupMaxSize === 'number' ? { subgroupMaxSize: i.subgroupMaxSize } : {}),
  };
}
