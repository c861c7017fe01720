/**
 * Compute pipelines of the WebGPU backend, built once per device. Every kernel has an explicit bind
 * group layout (group 0) so bind groups can be created at load time and reused for every step;
 * GEMV and GEMM share one layout, so a matrix's bind group serves both.
 */
import { BitNetError } from '../../errors.js';
import { ShaderStage } from './gpu-constants.js';
import { composeShader, defaultShaderSources, type KernelName, type ShaderSources, type ShaderVariant } from './shader-source.js';

/** u = uniform, r = read-only storage, s = read-write storage. */
type BindingKind = 'u' | 'r' | 's';

export const KERNEL_BINDINGS: Record<KernelName, readonly BindingKind[]> = {
  prep: ['u', 'r', 'r', 'r', 's', 's', 's', 's'],
  gemv: ['u', 'r', 'r', 'r', 'r', 'r', 's', 's', 'u'],
  gemm: ['u', 'r', 'r', 'r', 'r', 'r', 's', 's', 'u'],
  rope_kv: ['u', 's', 'r', 'r', 'r', 's', 's', 'r'],
  attention: ['u', 'r', 'r', 'r', 'r', 's'],
  embed: ['u', 'r', 'r', 's'],
  logits: ['u', 'r', 'r', 'r', 's', 'u'],
  sample: ['u', 's', 'r', 'r', 's'],
};

export type PipelineKey = KernelName | 'gemvAcc' | 'gemmAcc';

export interface KernelSet {
  readonly device: GPUDevice;
  readonly variant: ShaderVariant;
  /** Lanes per row of the GEMV and logits kernels (32 on GPUs; 1 on CPU adapters). */
  readonly lanes: number;
  readonly layouts: Record<KernelName, GPUBindGroupLayout>;
  readonly pipelines: Record<PipelineKey, GPUComputePipeline>;
}

function layoutFor(device: GPUDevice, kernel: KernelName): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label: `bitnet.${kernel}`,
    entries: KERNEL_BINDINGS[kernel].map((k, binding) => ({
      binding,
      visibility: ShaderStage.COMPUTE,
      buffer: { type: k === 'u' ? 'uniform' : k === 'r' ? 'read-only-storage' : 'storage' },
    })),
  });
}

async function compile(device: GPUDevice, kernel: KernelName, code: string): Promise<GPUShaderModule> {
  const module = device.createShaderModule({ label: `bitnet.${kernel}`, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length > 0) {
    const text = errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
    throw new BitNetError('BACKEND_FAILED', `WGSL compilation of ${kernel} failed:\n${text}`, { details: { kernel } });
  }
  return module;
}

/**
 * Compiles every kernel (or those in `only`) for `variant`; with `accVariants` also the ACC_MODE
 * GEMV / GEMM pipelines that output raw integer accumulators (tests). `lanes`: lanes per row of
 * GEMV and logits (32 for GPUs; 1 for CPU adapters such as SwiftShader, where reduction barriers
 * dominate — measured 40× faster there); `prepThreads`: threads per token of the prep kernel
 * (256 on GPUs, 1 on CPU adapters).
 * @throws BitNetError BACKEND_FAILED with the compiler messages when a shader does not compile or a
 *   pipeline cannot be created.
 */
export async function createKernelSet(
  device: GPUDevice,
  variant: ShaderVariant,
  sources?: ShaderSources,
  only?: readonly KernelName[],
  accVariants = false,
  lanes = 32,
  prepThreads = 256,
): Promise<KernelSet> {
  if (![1, 2, 4, 8, 16, 32, 64, 128, 256].includes(lanes)) throw new Error(`lanes must be a power of two ≤ 256, got ${lanes}`);
  const kernels = only ? [...only] : (Object.keys(KERNEL_BINDINGS) as KernelName[]);
  const layouts = {} as Record<KernelName, GPUBindGroupLayout>;
  for (const k of kernels) layouts[k] = layoutFor(device, k);
  const src = sources ?? (await defaultShaderSources());
  const modules = {} as Record<KernelName, GPUShaderModule>;
  await Promise.all(kernels.map(async (k) => (modules[k] = await compile(device, k, composeShader(k, variant, src)))));
  const make = async (key: PipelineKey, kernel: KernelName, constants?: Record<string, number>): Promise<GPUComputePipeline> => {
    try {
      return await device.createComputePipelineAsync({
        label: `bitnet.${key}`,
        layout: device.createPipelineLayout({ bindGroupLayouts: [layouts[kernel]] }),
        compute: { module: modules[kernel], entryPoint: 'main', ...(constants ? { constants } : {}) },
      });
    } catch (e) {
      throw new BitNetError('BACKEND_FAILED', `pipeline ${key}: ${e instanceof Error ? e.message : String(e)}`, { cause: e, details: { kernel: key } });
    }
  };
  const pipelines = {} as Record<PipelineKey, GPUComputePipeline>;
  await Promise.all([
    ...kernels.map(async (k) => (pipelines[k] = await make(k, k, k === 'gemv' || k === 'logits' ? { LANES: lanes } : k === 'prep' ? { WG: prepThreads } : undefined))),
    ...(accVariants && kernels.includes('gemv') ? [make('gemvAcc', 'gemv', { ACC_MODE: 1, LANES: lanes }).then((p) => (pipelines.gemvAcc = p))] : []),
    ...(accVariants && kernels.includes('gemm') ? [make('gemmAcc', 'gemm', { ACC_MODE: 1 }).then((p) => (pipelines.gemmAcc = p))] : []),
  ]);
  return { device, variant, lanes, layouts, pipelines };
}

/** Bind group for `kernel` from buffers (or buffer ranges) in binding order. */
export function bindGroup(ks: KernelSet, kernel: KernelName, resources: ReadonlyArray<GPUBuffer | GPUBufferBinding>, label?: string): GPUBindGroup {
  const n = KERNEL_BINDINGS[kernel].length;
  if (resources.length !== n) throw new Error(`bindGroup(${kernel}): expected ${n} resources, got ${resources.length}`);
  return ks.device.createBindGroup({
    label: label ?? `bitnet.${kernel}`,
    layout: ks.layouts[kernel],
    entries: resources.map((r, binding) => ({ binding, resource: 'buffer' in r ? r : { buffer: r } })),
  });
}
