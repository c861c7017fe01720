/** Public surface of the wasm SIMD backend. */
export { WasmBackend, type WasmBackendOptions } from './wasm-backend.js';
export { createWasmBackendFactory, resolveThreads, hardwareThreads, WASM_PRIORITY, type WasmFactoryOptions } from './factory.js';
export { WasmRuntime, type WasmRuntimeOptions } from './wasm-runtime.js';
export { wasmLocation, loadWasmModule, type WasmVariant } from './wasm-loader.js';
export { supportsWasmSimd, supportsThreads } from '../../probe/wasm-features.js';
