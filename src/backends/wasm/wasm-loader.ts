/**
 * Locates, fetches and compiles the kernel modules. Node reads `wasm/build/<file>` next to the
 * package with fs; browsers fetch it relative to this module's URL (bundlers rewrite the
 * `new URL(..., import.meta.url)` form). `wasmPath` (a directory URL or filesystem path) overrides
 * both. Compiled modules are cached per location, so several backends compile once.
 */
import { BitNetError } from '../../errors.js';

export type WasmVariant = 'single' | 'threads';

export const WASM_FILES: Record<WasmVariant, string> = {
  single: 'bitnet-simd.wasm',
  threads: 'bitnet-simd-mt.wasm',
};

const cache = new Map<string, Promise<WebAssembly.Module>>();

export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
}

/** URL or filesystem path of a variant's .wasm file. */
export function wasmLocation(variant: WasmVariant, wasmPath?: string | URL): string {
  const file = WASM_FILES[variant];
  if (wasmPath === undefined) {
    const v = variant === 'single'
      ? new URL('../../../wasm/build/bitnet-simd.wasm', import.meta.url)
      : new URL('../../../wasm/build/bitnet-simd-mt.wasm', import.meta.url);
    return v.href;
  }
  const base = String(wasmPath);
  if (/^[a-z][a-z0-9+.-]*:/i.test(base) && !/^[a-z]:[\\/]/i.test(base)) return new URL(file, base.endsWith('/') ? base : base + '/').href;
  return base.replace(/[\\/]+$/, '') + '/' + file;
}

async function readBytes(location: string): Promise<Uint8Array> {
  if (isNode() && (location.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:/i.test(location) || /^[a-z]:[\\/]/i.test(location))) {
    // Module names in variables keep browser bundlers from trying to resolve Node built-ins.
    const fsName = 'node:fs/promises';
    const urlName = 'node:url';
    const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs/promises');
    const { fileURLToPath } = (await import(/* @vite-ignore */ urlName)) as typeof import('node:url');
    const path = location.startsWith('file:') ? fileURLToPath(location) : location;
    try {
      return new Uint8Array(await fs.readFile(path));
    } catch (e) {
      throw new BitNetError('BACKEND_UNAVAILABLE', `wasm kernels not found at ${path} (run npm run build:wasm)`, { cause: e });
    }
  }
  let res: Response;
  try {
    res = await fetch(location);
  } catch (e) {
    throw new BitNetError('NETWORK', `could not fetch wasm kernels from ${location}`, { cause: e });
  }
  if (!res.ok) throw new BitNetError('HTTP_STATUS', `fetching ${location}: HTTP ${res.status}`, { details: { status: res.status } });
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Compiled kernel module for a variant (cached).
 * @throws BitNetError BACKEND_UNAVAILABLE / NETWORK / HTTP_STATUS when the file cannot be read,
 *   BACKEND_FAILED when it does not compile.
 */
export function loadWasmModule(variant: WasmVariant, wasmPath?: string | URL): Promise<WebAssembly.Module> {
  const loc = wasmLocation(variant, wasmPath);
  let p = cache.get(loc);
  if (!p) {
    p = (async () => {
      const bytes = await readBytes(loc);
      try {
        return await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
      } catch (e) {
        throw new BitNetError('BACKEND_FAILED', `wasm kernels at ${loc} failed to compile: ${String(e)}`, { cause: e });
      }
    })();
    p.catch(() => cache.delete(loc));
    cache.set(loc, p);
  }
  return p;
}
