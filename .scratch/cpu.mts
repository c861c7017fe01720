import { loadModel } from '/work/main/src/model/load-model.js';
import { WebGPUBackend } from '/work/main/src/backends/webgpu/webgpu-backend.js';
const m = await loadModel('default', { onWarning: () => undefined });
for (const g of [Number(process.argv[2] ?? 8)]) {
  let t0 = performance.now();
  const gb = await WebGPUBackend.create(m.weights, { allowFallbackAdapter: true, maxSequences: 1, maxContext: 64, gemvMaxTokens: g });
  console.log(gb.description, 'create', (performance.now() - t0).toFixed(0));
  const s = gb.createSequence();
  await gb.forward([{ seq: s, tokens: [1, 2] }]);
  t0 = performance.now(); await gb.forward([{ seq: s, tokens: Array.from({ length: 16 }, (_, i) => i + 5) }]); console.log('gemvMax', g, 'prefill16', (performance.now() - t0).toFixed(0));
  for (let i = 0; i < 3; i++) { t0 = performance.now(); await gb.forward([{ seq: s, tokens: [7] }]); console.log('decode', (performance.now() - t0).toFixed(0)); }
  const p = await gb.profileStep({ seq: s, timestamps: false });
  console.log(Object.entries(p.byKernel).map(([k, v]) => `${k}:${v.ms.toFixed(0)}`).join(' '));
  await gb.dispose();
}
