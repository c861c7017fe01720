import { makeFixture } from '/work/main/src/model/fixtures.js';
import { loadModel } from '/work/main/src/model/load-model.js';
import { WebGPUBackend } from '/work/main/src/backends/webgpu/webgpu-backend.js';
const m = await loadModel(await makeFixture({ embeddingType: 'F16', nEmbd: 64, nFf: 128, nHead: 4, nHeadKv: 2, vocab: 1500, nMerges: 8, nLayer: 1, contextLength: 64 }), { onWarning: () => undefined });
const gb = await WebGPUBackend.create(m.weights, { allowFallbackAdapter: true, maxSequences: 4, maxBatch: 8 });
const s = gb.createSequence();
let t0 = performance.now(); await gb.forward([{ seq: s, tokens: [1,2,3] }]); console.log('fwd', performance.now() - t0);
t0 = performance.now(); await gb.forward([{ seq: s, tokens: [1] }]); console.log('fwd1', performance.now() - t0);
t0 = performance.now(); await gb.sampleNext([{ seq: s, tokens: [1] }], { temperature: 0 }); console.log('greedy first (compile)', performance.now() - t0);
for (const o of [{ temperature: 0 }, { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 }, { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 }]) {
  t0 = performance.now(); await gb.sampleNext([{ seq: s, tokens: [1] }], o); console.log(JSON.stringify(o), performance.now() - t0);
}
await gb.dispose();
