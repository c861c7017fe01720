/**
 * Where the package's own files are (worker bundle, wasm kernels, default model) when running from
 * the script-tag (IIFE) build, which has no `import.meta.url`.
 *
 * The IIFE and worker bundles are built with every `import.meta.url` replaced by
 * `bitnetModuleUrl("dist/<path of the module>.js")` (see vite.config.ts), i.e. the URL the module
 * would have in the npm layout under the package root. The root is taken from the script tag
 * (`<root>/dist/browser/bitnet.js`, read via `document.currentScript` while the script runs) or
 * handed to the worker by the main thread (`setAssetBase`). So `new URL('../../../wasm/build/x.wasm',
 * import.meta.url)` keeps meaning `<root>/wasm/build/x.wasm` in every build.
 */

const KEY = '__BITNET_PACKAGE_ROOT__';
type G = Record<string, unknown> & { document?: { currentScript?: { src?: string } | null; baseURI?: string }; location?: { href?: string } };

/** Sets the package root URL (a directory URL; a trailing slash is added). */
export function setAssetBase(url: string): void {
  (globalThis as G)[KEY] = url.endsWith('/') ? url : url + '/';
}

/** The package root set so far, or null. */
export function assetBase(): string | null {
  const v = (globalThis as G)[KEY];
  return typeof v === 'string' ? v : null;
}

/**
 * Captures the package root from the running `<script src=".../dist/browser/bitnet.js">`.
 * Must be called while the script's top level runs (currentScript is null afterwards).
 */
export function captureScriptBase(): string | null {
  const g = globalThis as G;
  const src = g.document?.currentScript?.src;
  if (typeof src === 'string' && src.length > 0 && assetBase() === null) setAssetBase(new URL('../../', src).href);
  return assetBase();
}

/** `import.meta.url` replacement in bundles: the URL of `dist/<relPath>` under the package root. */
export function bitnetModuleUrl(relPath: string): string {
  let root = assetBase() ?? captureScriptBase();
  if (root === null) {
    // A worker started from `<root>/dist/browser/bitnet.worker.js`, before init() set the base.
    try {
      root = new URL('../../', (globalThis as G).location?.href ?? '').href;
    } catch {
      return relPath;
    }
  }
  return new URL(relPath, root).href;
}
