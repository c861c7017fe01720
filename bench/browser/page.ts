/**
 * The browser benchmark page (served by bench/browser/browser-bench.ts from 127.0.0.1 with
 * COOP/COEP). Exposes `window.bitnetBench` (BenchPageApi) for Playwright:
 *   - `bandwidth` / `ours` run in the module worker (worker.ts);
 *   - `oursGpu` runs our WebGPU backend in the worker; `gpuAdapter` reports the page's WebGPU adapter;
 *   - `wllama` runs wllama 3.8.1 (llama.cpp compiled to wasm) on the same page: the model is fetched
 *     as one Blob, loaded CPU-only (n_gpu_layers 0) unless `nGpuLayers` asks for WebGPU offload,
 *     with the requested thread count, then timed by
 *     llama.cpp itself (llama-server `timings`): a warm-up completion, then `repeat` completions of
 *     `decode` tokens after a prompt text of `prompt` tokens (greedy, ignore_eos, no prompt
 *     cache), keeping the fastest prefill and decode.
 */
import * as wllamaModule from '@wllama/wllama/esm/index.js';
import { adapterLabel, isFallbackAdapter } from '../../src/probe/webgpu-features.js';
import type { BenchPageApi, GpuAdapterReport, OursGpuResult, OursResult, WllamaFailure, WllamaRequest, WllamaResult, WorkerReply, WorkerRequest } from './protocol.js';
import type { BandwidthResult } from '../wasm-measure.js';

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
let nextId = 1;
worker.onmessage = (e: MessageEvent<WorkerReply>): void => {
  const p = pending.get(e.data.id);
  pending.delete(e.data.id);
  if (!p) return;
  if (e.data.ok) p.ok(e.data.value);
  else p.fail(new Error(e.data.error));
};
worker.onerror = (e): void => {
  for (const p of pending.values()) p.fail(new Error(`benchmark worker error: ${e.message}`));
  pending.clear();
};

function call<T>(r: Omit<WorkerRequest, 'id'>): Promise<T> {
  const id = nextId++;
  return new Promise<T>((ok, fail) => {
    pending.set(id, { ok: ok as (v: unknown) => void, fail });
    worker.postMessage({ ...r, id });
  });
}

interface Timings { prompt_n: number; prompt_ms: number; predicted_n: number; predicted_ms: number }
interface CompletionLike { timings?: Timings; usage?: { completion_tokens: number } }
/** wllama's own .d.ts files use extensionless imports that NodeNext cannot follow: typed here. */
const Wllama = (wllamaModule as unknown as { Wllama: new (paths: { default: string }, config: Record<string, unknown>) => Api }).Wllama;
type Api = {
  loadModel(blobs: Blob[], p: Record<string, unknown>): Promise<void>;
  createCompletion(p: Record<string, unknown>): Promise<CompletionLike>;
  getModelMetadata(): { hparams: { nVocab: number }; meta: Record<string, string> };
  isMultithread(): boolean;
  getNumThreads(): number;
  exit(): Promise<void>;
};

/** Greedy continuation (8 tokens) recorded from the warm-up, to compare with ours by hand. */
const SANITY_PROMPT = 'In the beginning God created';

async function wllama(r: WllamaRequest): Promise<WllamaResult | WllamaFailure> {
  const log: string[] = [];
  const keep = (level: string) => (...a: unknown[]): void => {
    log.push(`${level} ${a.map(String).join(' ')}`);
    if (log.length > 80) log.shift();
  };
  // Device / offload lines are kept whole (they are the evidence of whether WebGPU was used).
  const deviceLog: string[] = [];
  const loadLog: string[] = [];
  const DEVICE_RE = /webgpu|wgpu|gpu|offload|device|backend|buffer size|jspi/i;
  const keepDev = (level: string) => (...a: unknown[]): void => {
    const line = a.map(String).join(' ');
    if (DEVICE_RE.test(line) && deviceLog.length < 200) deviceLog.push(`${level} ${line}`);
    if (loadLog.length < 200) loadLog.push(`${level} ${line}`);
    keep(level)(...a);
  };
  const logger = { debug: keepDev('debug'), log: keepDev('log'), warn: keepDev('warn'), error: keepDev('error') };
  const nGpuLayers = r.nGpuLayers ?? 0;
  let w: Api | null = null;
  try {
    const t0 = performance.now();
    const res = await fetch(r.url);
    if (!res.ok) throw new Error(`fetching ${r.url}: HTTP ${res.status}`);
    const blob = await res.blob();
    w = new Wllama({ default: r.wasmUrl }, { logger });
    await w.loadModel([blob], { n_threads: r.threads, n_ctx: r.prompt + r.decode + 64, n_batch: 512, n_ubatch: 512, n_gpu_layers: nGpuLayers, n_parallel: 1, ...(nGpuLayers > 0 ? { log_level: 1 } : {}) });
    const loadMs = performance.now() - t0;
    const md = w.getModelMetadata();
    const complete = (prompt: string, n: number): Promise<CompletionLike> =>
      w!.createCompletion({ prompt, max_tokens: n, n_predict: n, temperature: 0, ignore_eos: true, cache_prompt: false, stream: false });
    // Warm-up, also a sanity check of the weights: greedy continuation of a fixed text.
    const warm = (await complete(SANITY_PROMPT, 8)) as CompletionLike & { choices?: Array<{ text?: string }> };
    const sanityText = warm.choices?.[0]?.text ?? null;
    let pre = 0, dec = 0, decMs = 0, preN = 0, decN = 0, reported = 0;
    for (let i = 0; i < r.repeat; i++) {
      const out = await complete(r.promptText, r.decode);
      const t = out.timings;
      if (!t) throw new Error('wllama returned no timings');
      if (t.predicted_n < r.decode) throw new Error(`wllama generated ${t.predicted_n} of ${r.decode} tokens (ignore_eos not honoured?)`);
      const p = t.prompt_n / (t.prompt_ms / 1000);
      // llama-server counts the first generated token (sampled from the prompt pass's logits) in
      // predicted_n but its clock covers only the predicted_n − 1 single-token forwards after the
      // prompt (plus sampling): forwards per second is (predicted_n − 1) / predicted_ms, the same
      // quantity as our decode figure. llama.cpp's own predicted_per_second is kept as `reported`.
      const d = (t.predicted_n - 1) / (t.predicted_ms / 1000);
      if (p > pre) { pre = p; preN = t.prompt_n; }
      if (d > dec) { dec = d; decN = t.predicted_n - 1; decMs = t.predicted_ms / (t.predicted_n - 1); reported = t.predicted_n / (t.predicted_ms / 1000); }
    }
    const version = (Wllama as unknown as { getLibllamaVersion?: () => string }).getLibllamaVersion?.() ?? null;
    return {
      threads: r.threads, multithread: w.isMultithread(), nThreads: w.getNumThreads(), loadMs,
      prefillTokens: preN, prefillTokPerS: pre, decodeTokens: decN, decodeTokPerS: dec, decodeMsPerToken: decMs, reportedDecodeTokPerS: reported,
      libllamaVersion: version, meta: md.meta, sanityPrompt: SANITY_PROMPT, sanityText, nGpuLayers, deviceLog, loadLog,
    };
  } catch (e) {
    return { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), log: [...deviceLog.map((l) => `[device] ${l}`), ...log] };
  } finally {
    await w?.exit().catch(() => undefined);
  }
}

function hasJspi(): boolean {
  return typeof (WebAssembly as unknown as { Suspending?: unknown }).Suspending === 'function';
}

function hasMemory64(): boolean {
  // (module (memory i64 1))
  return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 5, 3, 1, 4, 1]));
}

async function gpuAdapter(): Promise<GpuAdapterReport> {
  const none = { vendor: null, architecture: null, device: null, description: null, isFallbackAdapter: null, software: false, label: null, features: [] };
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, ...none, error: 'navigator.gpu is missing' };
  try {
    const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) return { available: false, ...none, error: 'requestAdapter returned null' };
    const i = a.info;
    const fallback = isFallbackAdapter(a);
    const software = fallback || /swiftshader|llvmpipe|warp|software/i.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`);
    return {
      available: true, vendor: i.vendor || null, architecture: i.architecture || null, device: i.device || null, description: i.description || null,
      isFallbackAdapter: fallback, software, label: adapterLabel(a), features: [...a.features].map(String).sort(), error: null,
    };
  } catch (e) {
    return { available: false, ...none, error: e instanceof Error ? e.message : String(e) };
  }
}

const api: BenchPageApi = {
  info: () => ({ crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent, jspi: hasJspi(), memory64: hasMemory64() }),
  bandwidth: (r) => call<BandwidthResult>({ kind: 'bandwidth', ...r }),
  ours: (r) => call<OursResult>({ kind: 'ours', ...r }),
  oursGpu: (r) => call<OursGpuResult>({ kind: 'oursGpu', ...r }),
  gpuAdapter,
  wllama,
};
(globalThis as unknown as { bitnetBench: BenchPageApi }).bitnetBench = api;
document.body.dataset.ready = '1';
