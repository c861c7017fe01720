/**
 * shaders.generated.ts (the bundler copy) is up to date with shaders/*.wgsl, and Node reads the same
 * set from disk. (Compilation of every kernel is covered by the matmul, model and sampling tests;
 * test/webgpu-model.test.ts builds one backend from the generated copy.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_FILE, renderShadersModule } from '../tools/gen-shaders.js';
import { SHADERS } from '../src/backends/webgpu/shaders.generated.js';
import { composeShader, loadShaderSourcesFromDisk } from '../src/backends/webgpu/shader-source.js';

describe('shaders.generated.ts', () => {
  it('matches shaders/*.wgsl (run `npm run gen:shaders` after editing a shader)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8') === renderShadersModule(), 'src/backends/webgpu/shaders.generated.ts is stale: run `npm run gen:shaders`').toBe(true);
  });

  it('Node loads the same sources from disk', async () => {
    const disk = await loadShaderSourcesFromDisk();
    expect(disk).not.toBeNull();
    expect(Object.keys(disk!).sort()).toEqual(Object.keys(SHADERS).sort());
  });

  it('variants put their directive first', () => {
    expect(composeShader('gemv', { dp4a: true, kvF16: false }).startsWith('requires packed_4x8_integer_dot_product;')).toBe(true);
    expect(composeShader('gemv', { dp4a: false, kvF16: false })).not.toContain('dot4I8Packed');
    expect(composeShader('attention', { dp4a: false, kvF16: true }).startsWith('enable f16;')).toBe(true);
    expect(composeShader('attention', { dp4a: false, kvF16: false })).not.toContain('enable f16');
  });
});
