/**
 * Messages between the benchmark page (page.ts, driven by Playwright) and its module worker
 * (worker.ts, which runs our wasm backend the way the SDK's engine worker does: off the page's
 * main thread, where Atomics.wait may block), and the result shapes the Node side records.
 */
import type { BandwidthResult, SpeedResult } from '../wasm-measure.js';

export interface BandwidthRequest {
  readonly kind: 'bandwidth';
  readonly threads: number;
  readonly bytes: number;
  readonly passes: number;
}

export interface OursRequest {
  readonly kind: 'ours';
  /** Model URL (same origin). */
  readonly url: string;
  readonly threads: readonly number[];
  readonly prompt: number;
  readonly decode: number;
  readonly repeat: number;
  /** wasm/build/ directory URL. */
  readonly wasmPath: string;
}

export interface OursThreadResult extends SpeedResult {
  readonly threads: number;
  readonly description: string;
  readonly createMs: number;
}

export interface OursResult {
  readonly fetchAndParseMs: number;
  readonly model: { readonly name: string; readonly nLayer: number; readonly nEmbd: number; readonly vocab: number; readonly outputStorage: string };
  readonly bytesPerToken: number;
  readonly runs: readonly OursThreadResult[];
}

/** Our WebGPU backend in the page's worker (the `--wllama-gpu` mode of browser-bench.ts). */
export interface OursGpuRequest {
  readonly kind: 'oursGpu';
  readonly url: string;
  readonly prompt: number;
  readonly decode: number;
  readonly repeat: number;
}

export interface OursGpuResult extends SpeedResult {
  readonly description: string;
  readonly fetchAndParseMs: number;
  readonly createMs: number;
  readonly bytesPerToken: number;
}

/** The page's WebGPU adapter (requestAdapter with high-performance preference, as both engines ask). */
export interface GpuAdapterReport {
  readonly available: boolean;
  readonly vendor: string | null;
  readonly architecture: string | null;
  readonly device: string | null;
  readonly description: string | null;
  readonly isFallbackAdapter: boolean | null;
  /** True for a fallback adapter or SwiftShader: the numbers then describe a CPU emulation. */
  readonly software: boolean;
  readonly label: string | null;
  /** Adapter features (shader-f16, subgroups, …), sorted. */
  readonly features: readonly string[];
  readonly error: string | null;
}

export interface WllamaRequest {
  readonly url: string;
  /** Prompt text (wllama takes strings only; see prompt-text.ts). */
  readonly promptText: string;
  readonly threads: number;
  readonly prompt: number;
  readonly decode: number;
  readonly repeat: number;
  /** URL of wllama.wasm. */
  readonly wasmUrl: string;
  /** Layers to offload to WebGPU (default 0: CPU only). */
  readonly nGpuLayers?: number;
}

/** llama.cpp's own timings (llama-server `timings`), best of `repeat`. */
export interface WllamaResult {
  readonly threads: number;
  /** What wllama reports it runs with (multi-thread build, thread count). */
  readonly multithread: boolean;
  readonly nThreads: number;
  readonly loadMs: number;
  /** Prompt tokens llama.cpp processed (prompt_n). */
  readonly prefillTokens: number;
  readonly prefillTokPerS: number;
  readonly decodeTokens: number;
  readonly decodeTokPerS: number;
  readonly decodeMsPerToken: number;
  /** llama.cpp's own predicted_per_second (predicted_n / predicted_ms, one forward fewer than tokens). */
  readonly reportedDecodeTokPerS: number;
  readonly libllamaVersion: string | null;
  /** The warm-up: greedy 8-token continuation of sanityPrompt (to check the weights by hand). */
  readonly sanityPrompt: string;
  readonly sanityText: string | null;
  readonly meta: Record<string, string>;
  /** n_gpu_layers asked for, and llama.cpp's log lines about devices / offload (the evidence of where it ran). */
  readonly nGpuLayers: number;
  readonly deviceLog: readonly string[];
  /** The first 200 log lines (llama.cpp at DEBUG level when nGpuLayers > 0). */
  readonly loadLog: readonly string[];
}

export interface WllamaFailure {
  readonly error: string;
  /** Last lines of llama.cpp's log (the evidence of why). */
  readonly log: readonly string[];
}

export type WorkerRequest = (BandwidthRequest | OursRequest | OursGpuRequest) & { readonly id: number };
export type WorkerReply = { readonly id: number; readonly ok: true; readonly value: BandwidthResult | OursResult | OursGpuResult } | { readonly id: number; readonly ok: false; readonly error: string };

/** What the page exposes on `window` for Playwright. */
export interface BenchPageApi {
  info(): { crossOriginIsolated: boolean; hardwareConcurrency: number; userAgent: string; jspi: boolean; memory64: boolean };
  bandwidth(r: Omit<BandwidthRequest, 'kind'>): Promise<BandwidthResult>;
  ours(r: Omit<OursRequest, 'kind'>): Promise<OursResult>;
  oursGpu(r: Omit<OursGpuRequest, 'kind'>): Promise<OursGpuResult>;
  gpuAdapter(): Promise<GpuAdapterReport>;
  wllama(r: WllamaRequest): Promise<WllamaResult | WllamaFailure>;
}
