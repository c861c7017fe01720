/** The generated shader module is up to date, and every kernel compiles in every variant the adapter supports. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { GENERATED_FILE, renderShadersModule } from '../tools/gen-shaders.js';
import { createKernelSet } from '../src/backends/webgpu/pipelines.js';
import { SHADERS } from '../src/backends/webgpu/shaders.generated.js';
import { loadShaderSourcesFromDisk } from '../src/backends/webgpu/shader-source.js';
import { describe } from 'vitest';
import { describeWebGPU, testDevice, webgpuEnv } from './helpers/webgpu.js';

describe('shaders.generated.ts', () => {
  it('matches shaders/*.wgsl (run `npm run gen:shaders` after editing a shader)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8') === renderShadersModule(), 'src/backends/webgpu/shaders.generated.ts is stale: run `npm run gen:shaders`').toBe(true);
  });

  it('Node loads the same sources from disk', async () => {
    const disk = await loadShaderSourcesFromDisk();
    expect(disk).not.toBeNull();
    expect(Object.keys(disk!).sort()).toEqual(Object.keys(SHADERS).sort());
  });
});

const env = await webgpuEnv();

describeWebGPU('WGSL kernels compile', env, ({ gpu }) => {
  it('plain + f32 KV variant (always available), from the generated sources', async () => {
    const device = await testDevice(gpu);
    try {
      const ks = await createKernelSet(device, { dp4a: false, kvF16: false }, SHADERS);
      expect(Object.keys(ks.pipelines).length).toBe(10);
    } finally {
      device.destroy();
    }
  });
});
