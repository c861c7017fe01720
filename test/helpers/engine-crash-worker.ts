/**
 * Engine worker for crash tests: a normal EngineCore, except that a request whose prompt is
 * "__crash__" makes the worker throw an uncaught error shortly after it started.
 */
import { parentPort } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
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

serve(new CrashingCore(), (nodeEndpoint as unknown as (p: unknown) => Endpoint)(parentPort));
