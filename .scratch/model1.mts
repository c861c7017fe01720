import { tinyModel } from '/work/main/test/helpers/tiny-model.js';
import { WebGPUBackend } from '/work/main/src/backends/webgpu/webgpu-backend.js';
import { ReferenceBackend } from '/work/main/src/backends/reference/reference-backend.js';
const tm = tinyModel({ nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 96, vocabSize: 50, nLayer: 2, contextLength: 64, outScales: true });
let t0 = performance.now();
const gb = await WebGPUBackend.create(tm.weights, { allowFallbackAdapter: true, maxSequences: 2 });
console.log('create', (performance.now() - t0).toFixed(0), gb.description);
const rb = new ReferenceBackend(tm.weights);
const toks = [3, 17, 5, 5, 22, 0, 9, 44];
const sg = gb.createSequence(), sr = rb.createSequence();
t0 = performance.now();
const [g] = await gb.forward([{ seq: sg, tokens: toks }], { output: 'all' });
console.log('forward', (performance.now() - t0).toFixed(0));
const [r] = await rb.forward([{ seq: sr, tokens: toks }], { output: 'all' });
let m = 0, mr = 0; for (let i = 0; i < r!.length; i++) { m = Math.max(m, Math.abs(g![i]! - r![i]!)); mr = Math.max(mr, Math.abs(r![i]!)); }
console.log('maxdiff', m, 'max', mr, g!.slice(0, 5), r!.slice(0, 5));
for (let s = 0; s < 4; s++) {
  const [gl] = await gb.forward([{ seq: sg, tokens: [s + 1] }]);
  const [rl] = await rb.forward([{ seq: sr, tokens: [s + 1] }]);
  let d = 0; for (let i = 0; i < rl!.length; i++) d = Math.max(d, Math.abs(gl![i]! - rl![i]!));
  console.log('decode', s, d);
}
await gb.dispose();
