/**
 * WebGPU in Node through Dawn (npm package `webgpu`, optional). On Linux it prefers Vulkan with the
 * SwiftShader ICD shipped with Chromium when VK_ICD_FILENAMES is unset and that ICD exists, and
 * preloads Chromium's Vulkan loader when the system has none (Dawn dlopens `libvulkan.so.1` by
 * soname, which then resolves to the already loaded copy).
 */

const CHROMIUM_DIR = '/usr/lib/chromium';

let cached: Promise<GPU | null> | null = null;
let lastError = '';

/** Why the last getNodeGPU() returned null ('' when it did not). */
export function nodeGPUError(): string {
  return lastError;
}

/** A GPU object for Node, or null (not Node, package missing, no backend). Cached. */
export function getNodeGPU(): Promise<GPU | null> {
  cached ??= (async () => {
    const proc = (globalThis as { process?: NodeJS.Process }).process;
    if (!proc?.versions?.node) {
      lastError = 'not running in Node';
      return null;
    }
    // A computed specifier keeps bundlers of browser apps from resolving (and warning about) node:fs.
    const fsName = 'node:fs';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
    if (proc.platform === 'linux') {
      const icd = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
      if (!proc.env.VK_ICD_FILENAMES && fs.existsSync(icd)) proc.env.VK_ICD_FILENAMES = icd;
      const systemLoader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'].some((p) => fs.existsSync(p));
      const bundled = `${CHROMIUM_DIR}/libvulkan.so.1`;
      if (!systemLoader && fs.existsSync(bundled)) {
        // RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE: stays loaded although it is not a Node addon.
        try {
          proc.dlopen({ exports: {} } as NodeJS.Module, bundled, 0x2 | 0x100 | 0x1000);
        } catch {
          /* "did not self-register" is expected; the library stays resident */
        }
      }
    }
    try {
      const spec = 'webgpu';
      const mod = (await import(/* @vite-ignore */ spec)) as { create: (flags: string[]) => GPU };
      return mod.create(proc.platform === 'linux' ? ['backend=vulkan'] : []);
    } catch (e) {
      lastError = `npm package 'webgpu' (Dawn) is not usable: ${e instanceof Error ? e.message : String(e)}`;
      return null;
    }
  })();
  return cached;
}

/** navigator.gpu in browsers / workers, else Dawn in Node, else null. */
export async function defaultGPU(): Promise<GPU | null> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  return getNodeGPU();
}
