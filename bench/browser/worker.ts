/**
 * Module worker of the browser benchmark: runs our wasm backend (and the bandwidth probe) the way
 * the SDK's engine worker does, with the measurement code shared with the Node benchmark
 * (bench/wasm-measure.ts). The model is fetched and parsed once per request, then benchmarked at
 * each requested thread count (a fresh backend each, disposed before the next).
 */
import { WasmBackend } from '../../src/backends/wasm/wasm-backend.js';
import { WebGPUBackend } from '../../src/backends/webgpu/webgpu-backend.js';
import { openModelFile } from '../../src/model/load-model.js';
import { loadModelWeights } from '../../src/model/load-weights.js';
import type { ModelWeights } from '../../src/model/tensor.js';
import { bytesPerToken, measureBandwidth, measureBest } from '../wasm-measure.js';
import type { OursGpuRequest, OursGpuResult, OursRequest, OursResult, OursThreadResult, WorkerReply, WorkerRequest } from './protocol.js';

/** Fetches and parses the model at `url` (relative to the worker), closing the file. */
async function fetchWeights(url: string): Promise<{ weights: ModelWeights; fetchAndParseMs: number }> {
  const t0 = performance.now();
  const file = await openModelFile(new URL(url, self.location.href).href);
  try {
    const weights = await loadModelWeights(file);
    return { weights, fetchAndParseMs: performance.now() - t0 };
  } finally {
    await file.close();
  }
}

async function ours(r: OursRequest): Promise<OursResult> {
  const { weights, fetchAndParseMs } = await fetchWeights(r.url);
  const c = weights.config;
  const prompt = Math.min(r.prompt, c.contextLength - r.decode - 32);
  const runs: OursThreadResult[] = [];
  for (const threads of r.threads) {
    const t1 = performance.now();
    const b = await WasmBackend.create(weights, { threads, wasmPath: r.wasmPath, maxContext: Math.min(c.contextLength, prompt + r.decode + 64) });
    const createMs = performance.now() - t1;
    try {
      runs.push({ threads, description: b.description, createMs, ...await measureBest(b, { prompt, decode: r.decode }, r.repeat) });
    } finally {
      await b.dispose();
    }
  }
  return {
    fetchAndParseMs,
    model: { name: c.name, nLayer: c.nLayer, nEmbd: c.nEmbd, vocab: c.vocabSize, outputStorage: weights.output.storage },
    bytesPerToken: bytesPerToken(weights, false, prompt + r.decode / 2),
    runs,
  };
}

/**
 * Our WebGPU backend on the worker's navigator.gpu (a fallback adapter is accepted, and reported as
 * such by the page). measureBackend only uses the Backend interface (createSequence / forward /
 * freeSequence / config), which WebGPUBackend implements like WasmBackend.
 */
async function oursGpu(r: OursGpuRequest): Promise<OursGpuResult> {
  const { weights, fetchAndParseMs } = await fetchWeights(r.url);
  const c = weights.config;
  const prompt = Math.min(r.prompt, c.contextLength - r.decode - 32);
  const t1 = performance.now();
  const b = await WebGPUBackend.create(weights, { allowFallbackAdapter: true, maxSequences: 2, maxContext: Math.min(c.contextLength, prompt + r.decode + 64) });
  const createMs = performance.now() - t1;
  try {
    const s = await measureBest(b, { prompt, decode: r.decode }, r.repeat);
    return { description: b.description, fetchAndParseMs, createMs, bytesPerToken: bytesPerToken(weights, false, prompt + r.decode / 2), ...s };
  } finally {
    await b.dispose();
  }
}

self.onmessage = async (e: MessageEvent<WorkerRequest>): Promise<void> => {
  const r = e.data;
  let reply: WorkerReply;
  try {
    const value = r.kind === 'bandwidth'
      ? await measureBandwidth(r.threads, r.bytes, r.passes, new URL('/wasm/build/', self.location.href).href)
      : r.kind === 'oursGpu' ? await oursGpu(r) : await ours(r);
    reply = { id: r.id, ok: true, value };
  } catch (err) {
    reply = { id: r.id, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
  (self as unknown as Worker).postMessage(reply);
};
