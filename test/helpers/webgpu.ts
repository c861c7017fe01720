/**
 * WebGPU for tests in Node: Dawn (npm `webgpu`) on Vulkan with Chromium's SwiftShader ICD.
 * VK_ICD_FILENAMES is set (when unset) before `webgpu` is imported (getNodeGPU does it).
 * When no adapter can be had, `webgpuEnv()` says why, and `describeWebGPU` registers a test that
 * FAILS with "no WebGPU adapter: …" instead of skipping silently.
 */
import { describe, expect, it, vi } from 'vitest';
import { getNodeGPU, nodeGPUError } from '../../src/backends/webgpu/dawn-node.js';
import { BufferUsage, MapMode } from '../../src/backends/webgpu/gpu-constants.js';

process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';

export type WebGPUEnv = { ok: true; gpu: GPU; adapter: GPUAdapter } | { ok: false; reason: string };

let envP: Promise<WebGPUEnv> | null = null;

export const WEBGPU_TEST_TIMEOUT_MS = 600_000;

export function webgpuEnv(): Promise<WebGPUEnv> {
  envP ??= (async (): Promise<WebGPUEnv> => {
    const gpu = await getNodeGPU();
    if (!gpu) return { ok: false, reason: nodeGPUError() || 'no GPU object' };
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: `requestAdapter() returned null (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? ''})` };
    return { ok: true, gpu, adapter };
  })();
  return envP;
}

/** describe() whose body gets the environment; without an adapter it registers one failing test. */
export function describeWebGPU(name: string, env: WebGPUEnv, body: (env: Extract<WebGPUEnv, { ok: true }>) => void): void {
  // SwiftShader compiles and runs slowly, and far slower on a loaded machine: generous limits.
  vi.setConfig({ testTimeout: WEBGPU_TEST_TIMEOUT_MS, hookTimeout: WEBGPU_TEST_TIMEOUT_MS });
  describe(name, () => {
    if (!env.ok) {
      it('needs a WebGPU adapter', () => {
        throw new Error(`no WebGPU adapter: ${env.reason}`);
      });
      return;
    }
    body(env);
  });
}

/** A new device from a fresh adapter (an adapter serves one device), with the listed features it has. */
export async function testDevice(gpu: GPU, features: GPUFeatureName[] = []): Promise<GPUDevice> {
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter: requestAdapter() returned null');
  const want = features.filter((f) => adapter.features.has(f));
  return adapter.requestDevice({ requiredFeatures: want });
}

export function uploadBuffer(device: GPUDevice, data: ArrayBufferView, usage: number = BufferUsage.STORAGE): GPUBuffer {
  const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  const b = device.createBuffer({ size, usage: usage | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
  const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
  padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  device.queue.writeBuffer(b, 0, padded);
  return b;
}

export function emptyBuffer(device: GPUDevice, bytes: number, usage: number = BufferUsage.STORAGE): GPUBuffer {
  return device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: usage | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
}

export async function readBuffer(device: GPUDevice, src: GPUBuffer, bytes = src.size): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(MapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

export function dispatch(device: GPUDevice, pipeline: GPUComputePipeline, group: GPUBindGroup, x: number, y = 1, z = 1): void {
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(x, y, z);
  pass.end();
  device.queue.submit([enc.finish()]);
}

/** |got − want| ≤ 1e-4 · (1 + max|want|) element-wise (the whole-model logits tolerance). */
export function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  let mx = 0;
  for (const v of want) mx = Math.max(mx, Math.abs(v));
  const tol = 1e-4 * (1 + mx);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= worst)) { worst = d; at = i; }
  }
  expect(worst, `${what}: worst |diff| at ${at}: got ${got[at]} want ${want[at]}`).toBeLessThanOrEqual(tol);
}

