/**
 * Vite config of the React example. In a real app `bitnet-web` comes from node_modules; here the
 * aliases point at this repository's sources. Built into examples/react/dist by `npm start`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { isolationHeaders } from '../../demo/server/headers.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  resolve: {
    alias: [
      { find: /^bitnet-web\/react$/, replacement: `${repo}src/react/index.ts` },
      { find: /^bitnet-web$/, replacement: `${repo}src/index.ts` },
    ],
  },
  oxc: { jsx: { runtime: 'automatic' } },
  plugins: [
    {
      name: 'coop-coep',
      configureServer(server) {
        server.middlewares.use((req, res, next) => {
          for (const [k, v] of Object.entries(isolationHeaders(req.url ?? '/'))) res.setHeader(k, v);
          next();
        });
      },
    },
  ],
  worker: { format: 'es' },
  server: { host: '127.0.0.1', fs: { allow: [repo] } },
  build: { outDir: `${root}dist`, emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 2048 },
});
