/**
 * The committed wasm/build/*.wasm must match the committed C: build.sh records a SHA-256 of
 * wasm/*.h, wasm/*.c and build.sh next to the binaries; a stale binary fails here with the fix.
 * Also checks the binaries' interface: only `env.memory` is imported (no emscripten JS glue),
 * the threaded build imports a shared memory, and every kernel the TypeScript side calls is exported.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadWasmModule } from '../src/backends/wasm/wasm-loader.js';

const dir = fileURLToPath(new URL('../wasm/', import.meta.url));

describe('wasm build artifacts', () => {
  it('are built from the current sources (else run `npm run build:wasm`)', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.h') || f.endsWith('.c')).sort();
    const h = createHash('sha256');
    for (const f of [...files, 'build.sh']) h.update(readFileSync(dir + f));
    expect(readFileSync(dir + 'build/sources.sha256', 'utf8').trim(), 'wasm/build is stale: run npm run build:wasm').toBe(h.digest('hex'));
  });

  it('import only env.memory and export every kernel', async () => {
    const kernels = ['bn_heap_base', 'bn_ternary', 'bn_lut_build', 'bn_ternary_lut', 'bn_block_sums', 'bn_quantize', 'bn_quantize_q8', 'bn_rmsnorm', 'bn_add', 'bn_glu', 'bn_embed',
      'bn_rope_table', 'bn_rope', 'bn_kv_store', 'bn_attention', 'bn_logits', 'bn_to_q8', 'bn_q8_0_unpack', 'bn_stream_read', 'bn_stack_probe', 'stackRestore', '_initialize'];
    for (const variant of ['single', 'threads'] as const) {
      const m = await loadWasmModule(variant);
      expect(WebAssembly.Module.imports(m)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
      const names = WebAssembly.Module.exports(m).map((e) => e.name);
      for (const k of kernels) expect(names, `${variant} exports ${k}`).toContain(k);
    }
    // Only the threaded build accepts a shared memory.
    const shared = new WebAssembly.Memory({ initial: 256, maximum: 512, shared: true });
    await expect(WebAssembly.instantiate(await loadWasmModule('threads'), { env: { memory: shared } })).resolves.toBeDefined();
    await expect(WebAssembly.instantiate(await loadWasmModule('single'), { env: { memory: shared } })).rejects.toThrow();
  });
});
