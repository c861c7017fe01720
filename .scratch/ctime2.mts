import { getNodeGPU } from '/work/main/src/backends/webgpu/dawn-node.js';
import { readFileSync } from 'node:fs';
const gpu = (await getNodeGPU())!;
const src = readFileSync('shaders/sample.wgsl','utf8');
const variants: Record<string,string> = {
  full: src,
  noSort: src.replace(/for \(var k = 2u; k <= CAP[\s\S]*?\n  \}\n  \/\/ 5\./, '// 5.'),
  noWalk: src.replace(/  if \(li == 0u\) \{\n    var s: f32 = 0.0;[\s\S]*?\n  let dec = /, '  let dec = '),
  noFallback: src.replace(/  \/\/ 6\. Fallback[\s\S]*$/, '}\n'),
};
for (const [name, code] of Object.entries(variants)) {
  const a = (await gpu.requestAdapter())!; const d = await a.requestDevice();
  const t0 = performance.now();
  const m = d.createShaderModule({code}); const info = await m.getCompilationInfo(); if (info.messages.length) console.log(info.messages.map(x=>x.message));
  await d.createComputePipelineAsync({layout:'auto', compute:{module:m, entryPoint:'main'}});
  console.log(name, (performance.now()-t0).toFixed(0)); d.destroy();
}
