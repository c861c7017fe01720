/**
 * Starts the engine worker and reports its death.
 *
 * - Browsers: a module worker from `engine-worker.js` next to this module (bundlers recognise the
 *   `new Worker(new URL(...), { type: 'module' })` form), or, in the script-tag build, the classic
 *   worker bundle `dist/browser/bitnet.worker.js` under the package root. A worker script on another
 *   origin (a CDN) is started through a same-origin blob that `importScripts` it.
 * - Node: a `worker_threads` Worker on the same file; when running from TypeScript sources (tests,
 *   tsx) the worker gets `--import tsx`.
 *
 * Death = an uncaught error in the worker, a message that cannot be deserialised, or (Node) an exit
 * that `terminate()` did not cause. It is reported once, as `WORKER_CRASHED`.
 */
import { BitNetError } from '../errors.js';
import type { Endpoint, WorkerLifecycle } from './rpc.js';
import { assetBase } from './assets.js';

export interface SpawnedWorker extends WorkerLifecycle {
  readonly endpoint: Endpoint;
  terminate(): Promise<void>;
}

export interface SpawnOptions {
  /** Worker script URL (browser) or file URL / path (Node) instead of the default. */
  readonly url?: string | URL;
}

declare const __BITNET_BUNDLE__: string | undefined;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

function crashError(what: string, cause?: unknown): BitNetError {
  return new BitNetError('WORKER_CRASHED', `the engine worker crashed: ${what}; create a new engine to continue`, cause !== undefined ? { cause } : undefined);
}

/** One-shot crash notification shared by both environments. */
function crashSignal(): { fire(e: BitNetError): void; onCrash(l: (e: BitNetError) => void): void } {
  let error: BitNetError | null = null;
  const listeners: ((e: BitNetError) => void)[] = [];
  return {
    fire(e) {
      if (error) return;
      error = e;
      for (const l of listeners.splice(0)) l(e);
    },
    onCrash(l) {
      if (error) l(error);
      else listeners.push(l);
    },
  };
}

async function spawnNode(o: SpawnOptions): Promise<SpawnedWorker> {
  const wtName = 'node:worker_threads';
  const { Worker } = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
  const adapterName = 'comlink/dist/esm/node-adapter.mjs';
  const nodeEndpoint = ((await import(/* @vite-ignore */ adapterName)) as { default: (w: unknown) => Endpoint }).default;
  const fromTs = import.meta.url.endsWith('.ts');
  const given = o.url;
  const target =
    given === undefined ? new URL(fromTs ? './engine-worker.ts' : './engine-worker.js', import.meta.url)
    : given instanceof URL ? given
    : /^[a-z][a-z0-9+.-]*:/i.test(given) && !/^[a-z]:[\\/]/i.test(given) ? new URL(given)
    : null;
  let worker: import('node:worker_threads').Worker;
  if (target && target.pathname.endsWith('.ts')) {
    // Running from TypeScript sources (tests, tsx): register tsx inside the worker, then load the entry.
    const api = await tsxApiUrl();
    worker = new Worker(`import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target.href)}); });`, { eval: true });
  } else {
    worker = new Worker(target ?? String(given));
  }
  const crash = crashSignal();
  let terminating = false;
  worker.on('error', (e: Error) => crash.fire(crashError(e.message, e)));
  worker.on('messageerror', (e: Error) => crash.fire(crashError(`a message could not be read (${e.message})`, e)));
  worker.on('exit', (code: number) => {
    if (!terminating) crash.fire(crashError(`it exited with code ${code}`));
  });
  return {
    endpoint: nodeEndpoint(worker),
    onCrash: crash.onCrash,
    async terminate() {
      terminating = true;
      crash.fire(crashError('it was terminated'));
      await worker.terminate();
    },
  };
}

/** file: URL of tsx's ESM register API (dev / test only). */
async function tsxApiUrl(): Promise<string> {
  const mod = 'node:module';
  const url = 'node:url';
  const path = 'node:path';
  const { createRequire } = (await import(/* @vite-ignore */ mod)) as typeof import('node:module');
  const { pathToFileURL } = (await import(/* @vite-ignore */ url)) as typeof import('node:url');
  const { dirname, join } = (await import(/* @vite-ignore */ path)) as typeof import('node:path');
  const req = createRequire(import.meta.url);
  return pathToFileURL(join(dirname(req.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
}

function browserWorker(o: SpawnOptions): Worker {
  if (o.url !== undefined) {
    return startMaybeCrossOrigin(String(o.url), typeof __BITNET_BUNDLE__ !== 'undefined' ? 'classic' : 'module');
  }
  if (typeof __BITNET_BUNDLE__ !== 'undefined') {
    const root = assetBase();
    if (!root) throw new BitNetError('WORKER_CRASHED', 'cannot locate bitnet.worker.js: the script URL is unknown; pass workerUrl');
    return startMaybeCrossOrigin(new URL('dist/browser/bitnet.worker.js', root).href, 'classic');
  }
  return new Worker(new URL('./engine-worker.js', import.meta.url), { type: 'module', name: 'bitnet-engine' });
}

function startMaybeCrossOrigin(url: string, type: WorkerType): Worker {
  const here = (globalThis as { location?: { origin?: string; href?: string } }).location;
  const abs = new URL(url, here?.href);
  if (!here?.origin || abs.origin === here.origin) return new Worker(abs.href, { type, name: 'bitnet-engine' });
  // Workers must be same-origin; a blob worker may load a cross-origin script (CORS permitting).
  const src = type === 'module' ? `import ${JSON.stringify(abs.href)};` : `importScripts(${JSON.stringify(abs.href)});`;
  const blobUrl = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
  return new Worker(blobUrl, { type, name: 'bitnet-engine' });
}

function spawnBrowser(o: SpawnOptions): SpawnedWorker {
  if (typeof Worker === 'undefined') throw new BitNetError('BAD_OPTION', 'worker: this environment has no Web Workers; pass worker: false', { details: { option: 'worker' } });
  const worker = browserWorker(o);
  const crash = crashSignal();
  worker.addEventListener('error', (ev: ErrorEvent) => {
    ev.preventDefault?.();
    crash.fire(crashError(ev.message || 'the worker script failed to load or threw', ev.error));
    worker.terminate();
  });
  worker.addEventListener('messageerror', () => crash.fire(crashError('a message could not be deserialised')));
  return {
    endpoint: worker as unknown as Endpoint,
    onCrash: crash.onCrash,
    async terminate() {
      crash.fire(crashError('it was terminated'));
      worker.terminate();
    },
  };
}

export async function spawnEngineWorker(o: SpawnOptions = {}): Promise<SpawnedWorker> {
  return isNode() ? spawnNode(o) : spawnBrowser(o);
}
