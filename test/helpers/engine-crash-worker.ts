/**
 * Engine worker for crash tests: a normal EngineCore, except that a request whose prompt is
 * "__crash__" makes the worker throw an uncaught error shortly after it started.
 */
import { parentPort } from 'node:worker_threads';
import { EngineCore } from '../../src/worker/engine-core.js';
import type { CoreGenerateRequest, CoreStarted } from '../../src/worker/protocol.js';
import { serve, type Endpoint } from '../../src/worker/rpc.js';

class CrashingCore extends EngineCore {
  override async start(r: CoreGenerateRequest): Promise<CoreStarted> {
    if (r.prompt === '__crash__') {
      setTimeout(() => {
        throw new Error('simulated worker crash');
      }, 30);
    }
    return super.start(r);
  }
}

const adapter = 'comlink/dist/esm/node-adapter.mjs';
const nodeEndpoint = ((await import(adapter)) as { default: (p: unknown) => Endpoint }).default;
serve(new CrashingCore(), nodeEndpoint(parentPort));
