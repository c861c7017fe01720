/**
 * Device loss, dispose, factory and probe helpers of the WebGPU backend:
 * - device.destroy() from outside → onDeviceLost fires once with BitNetError DEVICE_LOST, later calls
 *   throw DEVICE_LOST; an in-flight forward rejects with DEVICE_LOST;
 * - dispose() destroys our own device without reporting a loss; later calls throw DISPOSED;
 * - the factory refuses a fallback adapter unless allowed and lowers its priority for it;
 * - the probe helpers describe the adapter.
 */
import { expect, it } from 'vitest';
import { WebGPUBackend } from '../src/backends/webgpu/webgpu-backend.js';
import { createWebGPUBackendFactory, WEBGPU_FALLBACK_PRIORITY, WEBGPU_PRIORITY } from '../src/backends/webgpu/factory.js';
import { describeAdapter, hasPackedDot, isFallbackAdapter, limitsToObject } from '../src/probe/webgpu-features.js';
import { BitNetError, isBitNetError } from '../src/errors.js';
import { tinyModel } from './helpers/tiny-model.js';
import { describeWebGPU, webgpuEnv } from './helpers/webgpu.js';

const env = await webgpuEnv();
const tm = tinyModel({ nEmbd: 32, nHead: 2, nHeadKv: 1, nFf: 48, vocabSize: 20, nLayer: 1, contextLength: 16 });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isBitNetError(e) ? e.code : `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describeWebGPU('WebGPU device loss and lifecycle', env, ({ gpu, adapter }) => {
  it('external device.destroy() → onDeviceLost(DEVICE_LOST); calls then throw DEVICE_LOST', async () => {
    const b = await WebGPUBackend.create(tm.weights, { gpu, allowFallbackAdapter: true, maxSequences: 1 });
    const seen: BitNetError[] = [];
    b.onDeviceLost((e) => seen.push(e));
    const s = b.createSequence();
    await b.forward([{ seq: s, tokens: [1, 2] }]);
    const inflight = b.forward([{ seq: s, tokens: [3] }]);
    b.device.destroy();
    expect(await code(inflight)).toMatch(/DEVICE_LOST|resolved/);
    await b.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    expect(seen.length).toBe(1);
    expect(seen[0]).toBeInstanceOf(BitNetError);
    expect(seen[0]!.code).toBe('DEVICE_LOST');
    expect(await code(b.forward([{ seq: s, tokens: [4] }]))).toBe('DEVICE_LOST');
    expect(() => b.createSequence()).toThrow(/device lost/);
    await b.dispose();
    expect(seen.length).toBe(1);
  });

  it('dispose() is not a device loss; later calls throw DISPOSED', async () => {
    const b = await WebGPUBackend.create(tm.weights, { gpu, allowFallbackAdapter: true, maxSequences: 1, dotProduct: 'plain' });
    expect(b.description).toContain('plain');
    let fired = 0;
    b.onDeviceLost(() => fired++);
    const s = b.createSequence();
    const [l] = await b.forward([{ seq: s, tokens: [1] }]);
    expect(l!.length).toBe(20);
    await b.dispose();
    const info = await b.device.lost;
    expect(info.reason).toBe('destroyed');
    await new Promise((r) => setTimeout(r, 10));
    expect(fired).toBe(0);
    expect(await code(b.forward([{ seq: s, tokens: [1] }]))).toBe('DISPOSED');
    await b.dispose(); // idempotent
  });

  it('factory: fallback adapters only when allowed; priority drops for them', async () => {
    const f = createWebGPUBackendFactory({ gpu });
    expect(f.priority).toBe(WEBGPU_PRIORITY);
    const fallback = isFallbackAdapter(adapter);
    const why = await f.unavailableReason();
    if (fallback) {
      expect(why).toMatch(/fallback/);
      expect(f.priority).toBe(WEBGPU_FALLBACK_PRIORITY);
      expect(await f.unavailableReason({ allowFallbackAdapter: true })).toBeNull();
      expect(await createWebGPUBackendFactory({ gpu, allowFallbackAdapter: true }).unavailableReason()).toBeNull();
    } else {
      expect(why).toBeNull();
    }
    try {
      await WebGPUBackend.create(tm.weights, { gpu, allowFallbackAdapter: false });
      expect(fallback).toBe(false);
    } catch (e) {
      expect(isBitNetError(e, 'BACKEND_UNAVAILABLE') && fallback, String(e)).toBe(true);
    }
    expect(await createWebGPUBackendFactory({ gpu: { requestAdapter: async () => null, wgslLanguageFeatures: new Set() } as unknown as GPU }).unavailableReason()).toMatch(/no GPU adapter/);
  });

  it('probe helpers describe the adapter', () => {
    const r = describeAdapter(adapter, gpu);
    expect(r.isFallbackAdapter).toBe(isFallbackAdapter(adapter));
    expect(r.packedDot).toBe(hasPackedDot(gpu));
    expect(r.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(limitsToObject(adapter.limits).maxComputeInvocationsPerWorkgroup).toBeGreaterThanOrEqual(256);
    expect(r.features).toEqual([...adapter.features].map(String).sort());
    expect(typeof r.description).toBe('string');
  });
});
