/**
 * Source of the kernel worker, as a string so it runs unchanged as a Node `worker_threads` eval
 * worker and as a browser Blob-URL Web Worker (no bundler or loader involved).
 *
 * Protocol (control block = Int32Array over a SharedArrayBuffer, see thread-pool.ts):
 *   init message {module, memory, control, index, stackTop, ops, spin} → instantiate the module
 *   over the shared memory, move __stack_pointer to this worker's own stack, post 'ready', then
 *   loop forever: wait until GEN changes (spin, then Atomics.wait), run ops[OP](ARG, index, NPARTS),
 *   decrement PENDING and notify when it reaches 0. OP < 0 ends the worker.
 */
export const CTRL = { GEN: 0, PENDING: 1, OP: 2, ARG: 3, NPARTS: 4, ERROR: 5 } as const;
export const CTRL_WORDS = 16;

export const WORKER_SOURCE = `
'use strict';
const nodeWorker = typeof process === 'object' && process !== null && !!(process.versions && process.versions.node) && typeof WorkerGlobalScope === 'undefined';
const port = nodeWorker ? require('node:worker_threads').parentPort : self;
function onMessage(fn) {
  if (nodeWorker) port.once('message', fn);
  else self.onmessage = (e) => { self.onmessage = null; fn(e.data); };
}
onMessage((msg) => {
  let ex;
  try {
    ex = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports;
    if (msg.stackTop >= 0) ex.stackRestore(msg.stackTop);
  } catch (e) {
    port.postMessage({ type: 'error', message: String(e && e.stack || e) });
    return;
  }
  const c = new Int32Array(msg.control);
  const fns = msg.ops.map((name) => ex[name]);
  const index = msg.index, spin = msg.spin;
  let seen = Atomics.load(c, ${CTRL.GEN});
  port.postMessage({ type: 'ready' });
  for (;;) {
    let g = Atomics.load(c, ${CTRL.GEN});
    for (let i = 0; g === seen && i < spin; i++) g = Atomics.load(c, ${CTRL.GEN});
    if (g === seen) {
      Atomics.wait(c, ${CTRL.GEN}, seen);
      continue;
    }
    seen = g;
    const op = Atomics.load(c, ${CTRL.OP});
    if (op < 0) break;
    try {
      fns[op](c[${CTRL.ARG}], index, c[${CTRL.NPARTS}]);
    } catch (e) {
      Atomics.store(c, ${CTRL.ERROR}, index + 1);
    }
    if (Atomics.sub(c, ${CTRL.PENDING}, 1) === 1) Atomics.notify(c, ${CTRL.PENDING});
  }
  if (nodeWorker) process.exit(0);
  else self.close();
});
`;
