import { getNodeGPU } from '/work/main/src/backends/webgpu/dawn-node.js';
import { createKernelSet } from '/work/main/src/backends/webgpu/pipelines.js';
const gpu = (await getNodeGPU())!;
for (const k of ['prep','gemv','gemm','rope_kv','attention','embed','logits','sample'] as const) {
  const a = (await gpu.requestAdapter())!; const d = await a.requestDevice();
  const t0 = performance.now(); await createKernelSet(d, {dp4a: true, kvF16: false}, undefined, [k]); console.log(k, (performance.now()-t0).toFixed(0)); d.destroy();
}
