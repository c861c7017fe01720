/**
 * Entry point of the engine worker (Web Worker or Node worker_threads): creates an `EngineCore` and
 * serves it over comlink. Nothing else runs here; the main thread drives everything through rpc.ts.
 */
import { EngineCore } from './engine-core.js';
import { serve, type Endpoint } from './rpc.js';
import './backends.js';

async function main(): Promise<void> {
  const core = new EngineCore();
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof p?.versions?.node === 'string' && typeof (globalThis as { importScripts?: unknown }).importScripts === 'undefined') {
    const wtName = 'node:worker_threads';
    const { parentPort } = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
    if (!parentPort) throw new Error('engine-worker must run inside a worker thread');
    const adapterName = 'comlink/dist/esm/node-adapter.mjs';
    const nodeEndpoint = ((await import(/* @vite-ignore */ adapterName)) as { default: (p: unknown) => Endpoint }).default;
    serve(core, nodeEndpoint(parentPort));
  } else {
    serve(core, globalThis as unknown as Endpoint);
  }
}

void main();
