/**
 * Vite config of the demo (`npx vite --config demo/vite.config.ts`, or `npm start` which builds it).
 * The library is used from source through the `bitnet-web` alias, like an app would import the
 * package. Dev and preview servers send COOP/COEP so wasm threads work; a page URL with `coi=0`
 * is served without them (threads off), for testing the single-threaded path.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { isolationHeaders } from './server/headers.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

function crossOriginIsolation(): Plugin {
  const use = (server: { middlewares: { use: (fn: (req: { url?: string }, res: { setHeader(k: string, v: string): void }, next: () => void) => void) => void } }): void => {
    server.middlewares.use((req, res, next) => {
      for (const [k, v] of Object.entries(isolationHeaders(req.url ?? '/'))) res.setHeader(k, v);
      next();
    });
  };
  return { name: 'bitnet-demo-coop-coep', configureServer: use, configurePreviewServer: use };
}

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  plugins: [crossOriginIsolation()],
  resolve: {
    alias: [
      { find: /^bitnet-web\/react$/, replacement: `${repo}src/react/index.ts` },
      { find: /^bitnet-web$/, replacement: `${repo}src/index.ts` },
    ],
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', port: 5173, fs: { allow: [repo] } },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { outDir: `${root}dist`, emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 2048 },
});
