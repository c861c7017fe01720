/**
 * WGSL sources and their composition into modules. Sources come from shaders/*.wgsl: in Node they
 * are read from the package's shaders/ folder when it exists (so edits apply without a build
 * step), otherwise (bundlers, browsers) the inlined copy in shaders.generated.ts is used.
 *
 * Variants: the ternary matmuls get the packed-dot (`dot_dp4a`) or the plain (`dot_plain`) word dot
 * product; attention / KV kernels get f32 (`kv_f32`) or native f16 (`kv_f16`, needs 'shader-f16')
 * KV-cache element accessors. Snippets come first so their `requires` / `enable` directives lead.
 */
import { SHADERS } from './shaders.generated.js';

export type ShaderSources = Readonly<Record<string, string>>;

export type KernelName = 'prep' | 'gemv' | 'gemm' | 'rope_kv' | 'attention' | 'embed' | 'logits' | 'sample';

export interface ShaderVariant {
  /** Use dot4I8Packed (language feature packed_4x8_integer_dot_product). */
  readonly dp4a: boolean;
  /** Store the KV cache as f16 (device feature shader-f16). */
  readonly kvF16: boolean;
}

const PARTS: Record<KernelName, (v: ShaderVariant) => string[]> = {
  prep: () => ['quant'],
  gemv: (v) => [v.dp4a ? 'dot_dp4a' : 'dot_plain', 'matmul_common', 'gemv'],
  gemm: (v) => [v.dp4a ? 'dot_dp4a' : 'dot_plain', 'matmul_common', 'gemm'],
  rope_kv: (v) => [v.kvF16 ? 'kv_f16' : 'kv_f32', 'rope_kv'],
  attention: (v) => [v.kvF16 ? 'kv_f16' : 'kv_f32', 'attention'],
  embed: () => ['float_rows', 'embed'],
  logits: () => ['float_rows', 'logits'],
  sample: () => ['sample'],
};

/** The WGSL text of one kernel module for a variant. */
export function composeShader(kernel: KernelName, variant: ShaderVariant, sources: ShaderSources = SHADERS): string {
  return PARTS[kernel](variant)
    .map((p) => {
      const s = sources[p];
      if (s === undefined) throw new Error(`missing shader source ${p}.wgsl`);
      return s;
    })
    .join('\n');
}

let diskSources: Promise<ShaderSources | null> | null = null;

/**
 * Node only: the .wgsl files of this package's shaders/ folder, or null when not in Node or the
 * folder is absent (then callers use the generated copy). Cached after the first call.
 */
export function loadShaderSourcesFromDisk(): Promise<ShaderSources | null> {
  diskSources ??= (async () => {
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (!proc?.versions?.node) return null;
    try {
      // Computed specifiers: bundlers of browser apps must neither resolve node: modules nor treat the
      // shaders/ folder as an asset (both only matter in Node).
      const spec = ['node:fs/promises', 'node:url', '../../../shaders/'] as const;
      const fs = (await import(/* @vite-ignore */ spec[0])) as typeof import('node:fs/promises');
      const url = (await import(/* @vite-ignore */ spec[1])) as typeof import('node:url');
      // src/backends/webgpu/ and dist/backends/webgpu/ are both three levels below the package root.
      const dir = url.fileURLToPath(new URL(spec[2], import.meta.url));
      const names = (await fs.readdir(dir)).filter((f) => f.endsWith('.wgsl'));
      if (names.length === 0) return null;
      const out: Record<string, string> = {};
      for (const f of names) out[f.slice(0, -5)] = await fs.readFile(dir + f, 'utf8');
      return out;
    } catch {
      return null;
    }
  })();
  return diskSources;
}

/** Disk sources in Node (when present), else the generated copy. */
export async function defaultShaderSources(): Promise<ShaderSources> {
  return (await loadShaderSourcesFromDisk()) ?? SHADERS;
}
