/**
 * Browser bundles for a plain `<script>` tag (the ESM build with .d.ts comes from tsc):
 *
 *   vite build --mode main    → dist/browser/bitnet.js         IIFE, defines the global `BitNet` (any mode but worker)
 *   vite build --mode worker  → dist/browser/bitnet.worker.js  classic-worker IIFE of the engine core
 *
 * Both bundles keep the npm package layout as their frame of reference: every `import.meta.url` in
 * src/ is replaced by `bitnetModuleUrl("dist/<module>.js")`, the URL that module has in the ESM build
 * under the package root, and the root is found from the script's own URL (document.currentScript:
 * `<root>/dist/browser/bitnet.js`) or handed to the worker at init. So the worker, the wasm kernels
 * (`<root>/wasm/build/*.wasm`) and the default model (`<root>/models/*.gguf`) resolve relative to the
 * script wherever the package is served from (a CDN such as jsDelivr/unpkg, or a copy of the package).
 */
import { relative, resolve, sep } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const root = import.meta.dirname;
const src = resolve(root, 'src');
const assets = resolve(src, 'worker/assets.ts');

/** Rewrites `import.meta.url` in our sources to the module's npm-layout URL under the package root. */
function packageRelativeImportMeta(): Plugin {
  return {
    name: 'bitnet-package-relative-import-meta',
    enforce: 'pre',
    // Only the script-tag bundles need it; a dev server serves real ES modules with real import.meta.url.
    apply: 'build',
    transform(code, id) {
      const file = id.split('?')[0]!;
      if (!file.startsWith(src + sep) || !/\.[cm]?ts$/.test(file) || !code.includes('import.meta.url')) return null;
      const rel = 'dist/' + relative(src, file).split(sep).join('/').replace(/\.[cm]?ts$/, '.js');
      const replaced = code.replaceAll('import.meta.url', `__bitnetModuleUrl(${JSON.stringify(rel)})`);
      const helper = file === assets ? 'const __bitnetModuleUrl = (p: string): string => bitnetModuleUrl(p);\n' : `import { bitnetModuleUrl as __bitnetModuleUrl } from ${JSON.stringify(assets)};\n`;
      return { code: helper + replaced, map: null };
    },
  };
}

export default defineConfig(({ mode, command }) => {
  // A dev server (e.g. for a demo page) serves the ES modules as they are: none of the bundle settings apply.
  if (command === 'serve') return {};
  // `--mode worker` builds the worker bundle; any other mode (main, production, ...) the main bundle.
  const worker = mode === 'worker';
  return {
    plugins: [packageRelativeImportMeta()],
    define: { __BITNET_BUNDLE__: JSON.stringify('iife') },
    publicDir: false,
    build: {
      outDir: 'dist/browser',
      emptyOutDir: false,
      target: 'es2022',
      sourcemap: true,
      minify: true,
      assetsInlineLimit: 0,
      lib: worker
        ? { entry: resolve(src, 'worker/engine-worker.ts'), formats: ['iife'], name: 'BitNetWorker', fileName: () => 'bitnet.worker.js' }
        : { entry: resolve(src, 'api/script-entry.ts'), formats: ['iife'], name: 'BitNet', fileName: () => 'bitnet.js' },
      rollupOptions: {
        // Node-only modules are imported dynamically behind runtime checks; never bundle them.
        // onnxruntime-web (optional peer of the ONNX embedder) is found at run time: a global `ort`
        // from its own script tag, or the caller passes the module (src/embed/ort-runtime.ts).
        external: [/^node:/, 'webgpu', 'onnxruntime-web'],
      },
    },
  };
});
