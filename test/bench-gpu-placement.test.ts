/**
 * The `--wllama-gpu` benchmark decides from llama.cpp's log whether wllama really offloaded to
 * WebGPU (bench/browser/gpu-bench.ts `wllamaPlacement`); a CPU run must never be reported as WebGPU.
 */
import { describe, expect, it } from 'vitest';
import { wllamaPlacement } from '../bench/browser/gpu-bench.js';

describe('wllamaPlacement', () => {
  it('reports a CPU-only load (what wllama 3.8.1 does on SwiftShader) as not offloaded', () => {
    const p = wllamaPlacement([
      'debug load_tensors: layer   0 assigned to device CPU, is_swa = 0',
      'debug load_tensors: layer   1 assigned to device CPU, is_swa = 0',
      'debug load_tensors:          CPU model buffer size =     3.00 MiB',
    ]);
    expect(p).toEqual({ layerDevices: ['CPU'], weightBuffers: ['CPU'], offloaded: false });
  });

  it('reports layers or weights on a WebGPU device as offloaded', () => {
    const p = wllamaPlacement([
      'debug load_tensors: layer   0 assigned to device WebGPU, is_swa = 0',
      'debug load_tensors:       WebGPU model buffer size =    30.00 MiB',
      'debug load_tensors:   CPU_Mapped model buffer size =     3.00 MiB',
    ]);
    expect(p.offloaded).toBe(true);
    expect(p.layerDevices).toEqual(['WebGPU']);
    expect(p.weightBuffers).toEqual(['WebGPU', 'CPU_Mapped']);
  });

  it('is not offloaded when the log says nothing', () => {
    expect(wllamaPlacement(['info llama_context: n_ctx = 128'])).toEqual({ layerDevices: [], weightBuffers: [], offloaded: false });
  });
});
