/** WebGPU backend: public entry points. */
export { WebGPUBackend, type WebGPULoadOptions, type DeviceLostListener } from './webgpu-backend.js';
export { createWebGPUBackendFactory, WEBGPU_PRIORITY, WEBGPU_FALLBACK_PRIORITY, type WebGPUFactoryOptions, type WebGPUBackendFactory } from './factory.js';
export type { StepProfile, KernelTiming } from './profiler.js';
export { getNodeGPU, defaultGPU } from './dawn-node.js';
