import { afterEach, describe, expect, it, vi } from 'vitest';
import { probeCapabilities, COOP_COEP_FIX } from '../src/probe/index.js';
import { probeThreads, probeRuntime } from '../src/probe/environment.js';
import { probeWebGPU } from '../src/probe/gpu-adapter.js';
import { probeWasmInstructions } from '../src/probe/wasm-instructions.js';

function fakeGPU(opts: { fallback?: boolean; adapter?: 'none' | 'hang'; packed?: boolean } = {}): GPU {
  const adapter = {
    info: { vendor: 'acme', architecture: 'rdna9', device: 'x1', description: 'Acme X1', isFallbackAdapter: opts.fallback ?? false, subgroupMinSize: 32, subgroupMaxSize: 64 },
    features: new Set(['shader-f16', 'subgroups', 'timestamp-query']),
    limits: { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 30, maxComputeWorkgroupStorageSize: 32768 },
  };
  return {
    wgslLanguageFeatures: new Set(opts.packed === false ? [] : ['packed_4x8_integer_dot_product']),
    requestAdapter: () => (opts.adapter === 'hang' ? new Promise(() => undefined) : Promise.resolve(opts.adapter === 'none' ? null : adapter)),
  } as unknown as GPU;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('capability probe', () => {
  it('reports this Node process as a plain, cloneable object', async () => {
    const r = await probeCapabilities({ webgpu: false });
    expect(r.runtime.kind).toBe('node');
    expect(r.runtime.nodeVersion).toBe(process.versions.node);
    expect(r.wasm).toMatchObject({ available: true, simd: true, threads: true });
    expect(typeof r.wasm.relaxedSimd).toBe('boolean');
    expect(r.threads).toMatchObject({ crossOriginIsolated: null, sharedArrayBuffer: true, usable: true, reason: null });
    expect(r.memory.totalBytes).toBeGreaterThan(0);
    expect(r.memory.jsHeapLimitBytes).toBeGreaterThan(0);
    expect(r.cores.logical).toBeGreaterThanOrEqual(1);
    expect(r.webgpu).toEqual({ available: false, reason: 'not probed (webgpu: false)', adapter: null });
    expect(structuredClone(r)).toEqual(r);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  it('describes a WebGPU adapter: features, limits, fallback flag, packed dot product', async () => {
    const r = await probeCapabilities({ gpu: fakeGPU({ fallback: true }) });
    expect(r.webgpu.available).toBe(true);
    expect(r.webgpu.adapter).toMatchObject({
      vendor: 'acme', isFallbackAdapter: true, shaderF16: true, subgroups: true, timestampQuery: true, packedDot: true, subgroupMinSize: 32, subgroupMaxSize: 64,
    });
    expect(r.webgpu.adapter!.features).toEqual(['shader-f16', 'subgroups', 'timestamp-query']);
    expect(r.webgpu.adapter!.limits.maxBufferSize).toBe(2 ** 31);
    const plain = await probeWebGPU({ gpu: fakeGPU({ packed: false }) });
    expect(plain.adapter).toMatchObject({ isFallbackAdapter: false, packedDot: false });
  });

  it('explains a missing adapter, a hanging driver and an absent API', async () => {
    expect(await probeWebGPU({ gpu: fakeGPU({ adapter: 'none' }) })).toMatchObject({ available: false, reason: expect.stringMatching(/returned null/) });
    expect(await probeWebGPU({ gpu: fakeGPU({ adapter: 'hang' }), timeoutMs: 20 })).toMatchObject({ available: false, reason: expect.stringMatching(/did not answer/) });
    expect(await probeWebGPU({ gpu: null })).toMatchObject({ available: false, adapter: null });
  });

  it('threads are off in a page without cross-origin isolation, and the reason names COOP/COEP', () => {
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    vi.stubGlobal('crossOriginIsolated', false);
    const rt = probeRuntime();
    expect(rt.kind).toBe('browser');
    const t = probeThreads(rt);
    expect(t).toMatchObject({ crossOriginIsolated: false, usable: false });
    expect(t.reason).toContain('Cross-Origin-Opener-Policy: same-origin');
    expect(t.reason).toContain('Cross-Origin-Embedder-Policy: require-corp');
    expect(t.reason).toContain(COOP_COEP_FIX);
    vi.stubGlobal('crossOriginIsolated', true);
    expect(probeThreads(probeRuntime())).toMatchObject({ crossOriginIsolated: true, usable: true });
  });

  it('reads navigator.deviceMemory and hardwareConcurrency in browsers', async () => {
    vi.stubGlobal('navigator', { deviceMemory: 8, hardwareConcurrency: 12, userAgent: 'TestBrowser/1' });
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    vi.stubGlobal('process', undefined);
    const r = await probeCapabilities({ webgpu: false });
    expect(r.runtime).toMatchObject({ kind: 'browser', userAgent: 'TestBrowser/1' });
    expect(r.memory.deviceMemoryGiB).toBe(8);
    expect(r.memory.totalBytes).toBe(8 * 2 ** 30);
    expect(r.cores.logical).toBe(12);
  });

  it('wasm instruction checks reject what this engine cannot compile', () => {
    const validate = WebAssembly.validate;
    vi.spyOn(WebAssembly, 'validate').mockImplementation(() => false);
    expect(probeWasmInstructions()).toEqual({ available: true, simd: false, relaxedSimd: false, threads: false });
    WebAssembly.validate = validate;
    vi.restoreAllMocks();
  });
});
