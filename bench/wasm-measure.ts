/**
 * The measurements of the wasm benchmark, shared by Node (bench/wasm-bench.ts) and headless
 * Chromium (bench/browser/worker.ts), so both report exactly the same quantities:
 *   - `measureBandwidth`: streaming-read bandwidth of the wasm kernels (bn_stream_read over a
 *     buffer in wasm memory, every thread reading its own slice; best of `passes`);
 *   - `measureBackend`: prefill tok/s (one forward over a `prompt`-token prompt) and decode tok/s
 *     (single-token forwards after it, logits returned to JS), after a warm-up;
 *   - `bytesPerToken`: the bytes one decode step must stream (every ternary matrix as packed,
 *     the output matrix, one embedding row, the KV prefix), for decode as a % of the ceiling.
 * No Node built-ins here (this module is bundled for the browser).
 */
import { RJOB_BYTES } from '../src/backends/wasm/abi.js';
import type { Backend } from '../src/backends/backend.js';
import { WasmRuntime } from '../src/backends/wasm/wasm-runtime.js';
import { padCols } from '../src/backends/wasm/weights.js';
import type { ModelConfig, ModelWeights } from '../src/model/tensor.js';

export interface BandwidthResult {
  readonly threads: number;
  readonly bytes: number;
  readonly gbPerS: number;
}

export interface SpeedResult {
  readonly prefillTokens: number;
  readonly prefillMs: number;
  readonly prefillTokPerS: number;
  readonly decodeTokens: number;
  /** 1000 / mean ms per single-token forward. */
  readonly decodeTokPerS: number;
  readonly decodeMsMedian: number;
  /** Optional CPU time (all threads) per token, where the platform reports it (Node). */
  readonly decodeCpuMsPerToken?: number;
  readonly prefillCpuMsPerToken?: number;
}

/** Token id `i` of the benchmark's prompts (spread over the vocabulary, deterministic). */
export function benchToken(i: number, vocab: number): number {
  return (i * 7919 + 13) % vocab;
}

/** Streaming-read bandwidth of `threads` threads over `bytes` (best of `passes`). */
export async function measureBandwidth(threads: number, bytes = 1 << 30, passes = 5, wasmPath?: string): Promise<BandwidthResult> {
  const rt = await WasmRuntime.create({ threads, minParallelWork: 0, ...(wasmPath ? { wasmPath } : {}) });
  try {
    const a = rt.arena;
    const buf = a.alloc(bytes, 64);
    a.v.u8.fill(1, buf, buf + bytes); // touch every page
    const res = a.alloc(4 * threads), job = a.alloc(RJOB_BYTES);
    const v = a.v.u32;
    v[job >>> 2] = buf;
    v[(job >>> 2) + 1] = bytes;
    v[(job >>> 2) + 2] = res;
    rt.run('bn_stream_read', job);
    let best = Infinity;
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      rt.run('bn_stream_read', job);
      best = Math.min(best, performance.now() - t0);
    }
    return { threads, bytes, gbPerS: bytes / (best / 1000) / 1e9 };
  } finally {
    await rt.close();
  }
}

/** Bytes a decode step streams at KV length `kvPositions` (f32 KV cache). */
export function bytesPerToken(w: ModelWeights, q8Output: boolean, kvPositions: number): number {
  let n = 0;
  for (const l of w.layers) for (const m of [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]) n += m.rows * (padCols(m.cols) / 4);
  const o = w.output;
  const elt = q8Output || o.storage === 'q8_0' ? 1 + 4 / 32 : o.storage === 'f32' ? 4 : 2;
  n += o.rows * o.cols * elt;
  n += w.config.nEmbd * 2;
  n += kvBytes(w.config, kvPositions);
  return n;
}

function kvBytes(c: ModelConfig, positions: number): number {
  return 2 * c.nLayer * positions * c.nHeadKv * c.headDim * 4;
}

export interface MeasureOptions {
  readonly prompt: number;
  readonly decode: number;
  /** Process CPU ms so far (Node's process.cpuUsage), when available. */
  readonly cpuMs?: () => number;
}

/**
 * Prefill and decode speed of a created backend. Warm-up (a 16-token forward and 4 decode steps on a
 * scratch sequence) first, so every kernel is compiled / tiered up before timing.
 */
export async function measureBackend(b: Backend, o: MeasureOptions): Promise<SpeedResult> {
  const V = b.config.vocabSize;
  const warm = b.createSequence();
  await b.forward([{ seq: warm, tokens: Array.from({ length: 16 }, (_, i) => benchToken(i, V)) }]);
  for (let i = 0; i < 4; i++) await b.forward([{ seq: warm, tokens: [benchToken(100 + i, V)] }]);
  b.freeSequence(warm);
  const s = b.createSequence();
  const cpu = o.cpuMs;
  const c0 = cpu?.();
  const p0 = performance.now();
  await b.forward([{ seq: s, tokens: Array.from({ length: o.prompt }, (_, i) => benchToken(i + 1, V)) }]);
  const prefillMs = performance.now() - p0;
  const c1 = cpu?.();
  const times: number[] = [];
  for (let i = 0; i < o.decode; i++) {
    const d0 = performance.now();
    await b.forward([{ seq: s, tokens: [benchToken(1000 + i, V)] }]);
    times.push(performance.now() - d0);
  }
  const c2 = cpu?.();
  b.freeSequence(s);
  const sorted = [...times].sort((x, y) => x - y);
  const mean = times.reduce((x, y) => x + y, 0) / Math.max(1, times.length);
  return {
    prefillTokens: o.prompt, prefillMs, prefillTokPerS: o.prompt / (prefillMs / 1000),
    decodeTokens: o.decode, decodeTokPerS: 1000 / mean, decodeMsMedian: sorted[Math.floor(sorted.length / 2)] ?? 0,
    ...(c0 !== undefined && c1 !== undefined && c2 !== undefined
      ? { prefillCpuMsPerToken: (c1 - c0) / o.prompt, decodeCpuMsPerToken: (c2 - c1) / Math.max(1, o.decode) }
      : {}),
  };
}

/**
 * Best of `repeat` (at least 1) measureBackend runs: the decode figures of the fastest decode, the
 * prefill figures of the fastest prefill.
 */
export async function measureBest(b: Backend, o: MeasureOptions, repeat: number): Promise<SpeedResult> {
  let best = await measureBackend(b, o);
  for (let i = 1; i < repeat; i++) {
    const s = await measureBackend(b, o);
    const d = s.decodeTokPerS > best.decodeTokPerS ? s : best;
    const p = s.prefillTokPerS > best.prefillTokPerS ? s : best;
    best = { ...d, prefillMs: p.prefillMs, prefillTokPerS: p.prefillTokPerS };
  }
  return best;
}

/** Decode GB/s (bytes per token / median step) and its % of a bandwidth ceiling. */
export function bandwidthShare(bpt: number, medianMs: number, ceilingGbPerS: number): { decodeGbPerS: number; pctOfBandwidth: number } {
  const g = bpt / (medianMs / 1000) / 1e9;
  return { decodeGbPerS: g, pctOfBandwidth: (100 * g) / ceilingGbPerS };
}
