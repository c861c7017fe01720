/**
 * Bundles the browser benchmark page (index.html → page.ts → worker.ts, plus wllama's ES module)
 * with Vite into bench/.cache/browser-dist/ (gitignored). The repository's vite.config.ts is not
 * used (it builds the library's script-tag bundles); this is a plain app build whose module worker
 * is emitted as an ES module.
 */
import { join } from 'node:path';
import { CACHE_DIR, REPO } from '../models.js';

export const BROWSER_DIST = join(CACHE_DIR, 'browser-dist');

export async function buildBenchPage(outDir = BROWSER_DIST): Promise<string> {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root: join(REPO, 'bench/browser'),
    base: '/',
    logLevel: 'error',
    publicDir: false,
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      sourcemap: false,
      assetsInlineLimit: 0,
      reportCompressedSize: false,
      rollupOptions: { external: [/^node:/, 'webgpu'] },
    },
    worker: { format: 'es' },
  });
  return outDir;
}
