import { loadModel } from '/work/main/src/model/load-model.js';
import { WebGPUBackend } from '/work/main/src/backends/webgpu/webgpu-backend.js';
const m = await loadModel('default', { onWarning: () => undefined });
let t0 = performance.now();
const gb = await WebGPUBackend.create(m.weights, { allowFallbackAdapter: true, maxSequences: 1, maxContext: 64, dotProduct: (process.argv[2] as 'plain') ?? 'auto' });
console.log('create', performance.now() - t0);
for (let r = 0; r < 2; r++) {
  const p = await gb.profileStep({ timestamps: false });
  console.log(p.wallMs.toFixed(0), p.kernels.slice(0, 16).map((k) => `${k.label}:${k.ms.toFixed(0)}`).join(' '));
}
await gb.dispose();
