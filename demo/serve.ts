/**
 * `npm start`: builds the demo (and the library bundles it needs) and serves it on 127.0.0.1 with
 * COOP/COEP, printing the URL.
 *
 *   node --import tsx demo/serve.ts [--port 8080] [--host 127.0.0.1] [--no-build] [--force-build]
 *                                   [--no-coi] [--test-hooks] [--verbose]
 *
 * `--no-coi` serves without cross-origin isolation (any page can also ask for that with `?coi=0`);
 * `--test-hooks` enables the request log and fault injection used by the end-to-end tests;
 * `--verbose` shows the bundlers' warnings.
 * When the port is taken (and was not given explicitly) a free one is used instead.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, buildAll, hasScriptTagBundle } from './server/build.js';
import { startStaticServer, type Mount, type RunningServer } from './server/static-server.js';

const MOUNTS: readonly Mount[] = [
  { prefix: '/', dir: join(REPO, 'demo/dist') },
  { prefix: '/examples/script-tag/', dir: join(REPO, 'examples/script-tag') },
  { prefix: '/examples/react/', dir: join(REPO, 'examples/react/dist') },
  { prefix: '/dist/browser/', dir: join(REPO, 'dist/browser') },
  { prefix: '/models/', dir: join(REPO, 'models') },
  { prefix: '/wasm/build/', dir: join(REPO, 'wasm/build') },
];

async function listen(port: number, explicit: boolean, host: string, isolation: boolean, testHooks: boolean): Promise<RunningServer> {
  try {
    return await startStaticServer({ mounts: MOUNTS, host, port, isolation, testHooks });
  } catch (e) {
    if (!explicit && (e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.log(`port ${port} is in use; picking a free one`);
      return startStaticServer({ mounts: MOUNTS, host, port: 0, isolation, testHooks });
    }
    throw e;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'no-build': { type: 'boolean', default: false },
      'force-build': { type: 'boolean', default: false },
      'no-coi': { type: 'boolean', default: false },
      'test-hooks': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  const portArg = values.port ?? process.env.PORT;
  const port = portArg !== undefined ? Number(portArg) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected a port number, got ${portArg}`);
  if (!values['no-build']) await buildAll({ force: values['force-build'], verbose: values.verbose });
  const s = await listen(port, portArg !== undefined, values.host, !values['no-coi'], values['test-hooks']);
  const isolated = !values['no-coi'];
  console.log('');
  console.log(`bitnet-web demo: ${s.url}`);
  console.log(isolated ? `  (cross-origin isolated, wasm threads on; ${s.url}?coi=0 runs without isolation)` : '  (served WITHOUT cross-origin isolation: wasm threads off)');
  console.log(`  React example:      ${s.url}examples/react/`);
  console.log(`  script-tag example: ${s.url}examples/script-tag/${hasScriptTagBundle() ? '' : '  (unavailable: dist/browser/bitnet.js was not built)'}`);
  console.log('Press Ctrl+C to stop.');
  const stop = (): void => {
    void s.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`demo/serve.ts: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
