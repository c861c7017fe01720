import { getNodeGPU } from '/work/main/src/backends/webgpu/dawn-node.js';
import { createKernelSet, bindGroup } from '/work/main/src/backends/webgpu/pipelines.js';
import { composeShader, defaultShaderSources } from '/work/main/src/backends/webgpu/shader-source.js';
import { matParams, stepParams } from '/work/main/src/backends/webgpu/params.js';
const gpu = (await getNodeGPU())!;
const d = await (await gpu.requestAdapter())!.requestDevice();
const ks = await createKernelSet(d, { dp4a: true, kvF16: false }, undefined, ['gemv']);
const src = await defaultShaderSources();
const mod = d.createShaderModule({ code: composeShader('gemv', { dp4a: true, kvF16: false }, src) });
const rows = 768, k16 = 16;
const mk = (n: number, u = 0x80 | 0x8) => d.createBuffer({ size: n, usage: u });
const w = mk(rows * k16 * 4), sc = mk(16), aq = mk(k16 * 16), as = mk(k16 * 4), asc = mk(16), y = mk(rows * 4), acc = mk(16);
const mp = mk(48, 0x40 | 0x8); d.queue.writeBuffer(mp, 0, matParams({ rows, cols: 256, k16, bpr: 1, wordsPerBlock: k16, scaleRowStride: 0 }, { actStride: k16, rowOffset: 0, rowsTotal: rows, residual: false, outScale: 1 }));
const sp = mk(16, 0x40 | 0x8); d.queue.writeBuffer(sp, 0, stepParams(1, 0));
const g = bindGroup(ks, 'gemv', [mp, w, sc, aq, as, asc, y, acc, sp]);
for (const lanes of [32, 8, 1]) {
  const p = await d.createComputePipelineAsync({ layout: d.createPipelineLayout({ bindGroupLayouts: [ks.layouts.gemv] }), compute: { module: mod, entryPoint: 'main', constants: { LANES: lanes } } });
  for (let rep = 0; rep < 2; rep++) {
    const t0 = performance.now();
    const e = d.createCommandEncoder(); const pass = e.beginComputePass(); pass.setPipeline(p); pass.setBindGroup(0, g);
    for (let i = 0; i < 10; i++) pass.dispatchWorkgroups(Math.ceil(rows / (256 / lanes)), 1);
    pass.end(); d.queue.submit([e.finish()]); await d.queue.onSubmittedWorkDone();
    console.log('lanes', lanes, ((performance.now() - t0) / 10).toFixed(1), 'ms per GEMV');
  }
}
d.destroy();
