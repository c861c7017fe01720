/**
 * Registers the compute backends this build ships with the registry (the reference backend registers
 * itself): WebGPU (priority 20) and wasm SIMD (priority 10). A factory already registered under the
 * same name (by the application or a test) is left in place. Imported by the engine's entry points,
 * so `auto` selection sees every backend.
 */
import { listBackendFactories, registerBackendFactory } from '../backends/registry.js';
import { createWasmBackendFactory } from '../backends/wasm/factory.js';
import { createWebGPUBackendFactory } from '../backends/webgpu/factory.js';

const present = new Set(listBackendFactories().map((f) => f.name));
if (!present.has('wasm')) registerBackendFactory(createWasmBackendFactory());
if (!present.has('webgpu')) registerBackendFactory(createWebGPUBackendFactory());
