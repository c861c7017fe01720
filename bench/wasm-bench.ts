/**
 * Benchmark of the wasm SIMD backend in Node (`node --import tsx bench/wasm-bench.ts [options]`,
 * also exported as `runWasmBench` for bench/run.ts):
 *   - decode tok/s (one token per forward after the prompt) and prefill tok/s (128-token prompt),
 *     single- and multi-threaded, on the default model and on a synthetic model with the exact
 *     microsoft/bitnet-b1.58-2B-4T shapes (generated once to /tmp with the fixture generator);
 *   - the memory-bandwidth ceiling measured in the same run by a streaming-read wasm kernel over
 *     1 GiB, with the same thread count;
 *   - decode expressed as bytes streamed per token × tok/s, as a % of that ceiling.
 * Options: --models kjv,2b4t  --threads 1,4  --prompt 128  --decode 24  --variants default,q8
 *          --out bench/results  --synthetic /tmp/bitnet-2b4t-synthetic.gguf
 * Writes bench/results/wasm-<timestamp>.json and prints a summary table.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { RJOB_BYTES } from '../src/backends/wasm/abi.js';
import { WasmBackend, type WasmBackendOptions } from '../src/backends/wasm/wasm-backend.js';
import { WasmRuntime } from '../src/backends/wasm/wasm-runtime.js';
import { padCols } from '../src/backends/wasm/weights.js';
import { writeFixtureFile } from '../src/model/fixtures.js';
import { ByteBuilder } from '../src/model/gguf-encode.js';
import { loadModel } from '../src/model/load-model.js';
import type { ModelWeights } from '../src/model/tensor.js';

export interface WasmBenchOptions {
  readonly models?: readonly string[];
  readonly threads?: readonly number[];
  readonly promptTokens?: number;
  readonly decodeTokens?: number;
  readonly variants?: readonly string[];
  readonly outDir?: string;
  readonly syntheticPath?: string;
  readonly log?: (line: string) => void;
}

const VARIANTS: Record<string, WasmBackendOptions> = {
  default: {},
  q8: { outputQ8: true, logitsInt8: true },
};

export interface BandwidthResult {
  readonly threads: number;
  readonly bytes: number;
  readonly gbPerS: number;
}

export interface RunResult {
  readonly model: string;
  readonly variant: string;
  readonly threads: number;
  readonly description: string;
  readonly loadMs: number;
  readonly prefillTokens: number;
  readonly prefillTokPerS: number;
  readonly decodeTokens: number;
  readonly decodeTokPerS: number;
  readonly decodeMsMedian: number;
  /** Process CPU ms per decode token (all threads); for 1 thread a load-independent speed estimate. */
  readonly decodeCpuMsPerToken: number;
  readonly prefillCpuMsPerToken: number;
  readonly bytesPerToken: number;
  readonly decodeGbPerS: number;
  readonly pctOfBandwidth: number;
}

/**
 * ByteBuilder (src/model/gguf-encode.ts) evaluates `this.view` before `this.room(n)` flushes to a
 * new chunk, so a number written across a 1 MiB chunk boundary lands in the previous chunk's first
 * bytes — GGUF headers over 1 MiB (the 2B-4T tokenizer) come out corrupt. Until that is fixed
 * there, the bench patches the primitive writers to take the offset first (idempotent).
 */
function patchByteBuilder(): void {
  type BB = { room(n: number): number; view: DataView; cur: Uint8Array };
  const P = ByteBuilder.prototype as unknown as Record<string, unknown>;
  const set = (name: string, size: number, f: (v: DataView, o: number, x: never) => void): void => {
    P[name] = function (this: BB, x: never) {
      const o = this.room(size);
      f(this.view, o, x);
    };
  };
  set('u8', 1, (v, o, x) => v.setUint8(o, x));
  set('i8', 1, (v, o, x) => v.setInt8(o, x));
  set('u16', 2, (v, o, x) => v.setUint16(o, x, true));
  set('i16', 2, (v, o, x) => v.setInt16(o, x, true));
  set('u32', 4, (v, o, x) => v.setUint32(o, x, true));
  set('i32', 4, (v, o, x) => v.setInt32(o, x, true));
  set('f32', 4, (v, o, x) => v.setFloat32(o, x, true));
  set('f64', 8, (v, o, x) => v.setFloat64(o, x, true));
  set('u64', 8, (v, o, x) => v.setBigUint64(o, BigInt(x), true));
  set('i64', 8, (v, o, x) => v.setBigInt64(o, BigInt(x), true));
}

/** Writes the synthetic model with the exact 2B-4T shapes (I2_S projections, F16 tied embedding, LLaMA-3 vocabulary). */
export async function writeSynthetic2b4t(path: string): Promise<number> {
  patchByteBuilder();
  return writeFixtureFile({ shape: '2b4t', ternaryType: 'I2_S', embeddingType: 'F16', seed: 1 }, path);
}

/** Bytes a decode step streams: every ternary matrix, the output matrix, one embedding row, the KV prefix. */
function bytesPerToken(w: ModelWeights, q8Output: boolean, kvPositions: number): number {
  let n = 0;
  for (const l of w.layers) for (const m of [l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]) n += m.rows * (padCols(m.cols) / 4);
  const o = w.output;
  const elt = q8Output || o.storage === 'q8_0' ? 1 + 4 / 32 : o.storage === 'f32' ? 4 : 2;
  n += o.rows * o.cols * elt;
  n += w.config.nEmbd * 2;
  n += 2 * w.config.nLayer * kvPositions * w.config.nHeadKv * w.config.headDim * 4;
  return n;
}

/** Streaming-read bandwidth of `threads` threads over `bytes` (best of 5 passes). */
export async function measureBandwidth(threads: number, bytes = 1 << 30): Promise<BandwidthResult> {
  const rt = await WasmRuntime.create({ threads, minParallelWork: 0 });
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
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      rt.run('bn_stream_read', job);
      best = Math.min(best, performance.now() - t0);
    }
    return { threads, bytes, gbPerS: bytes / (best / 1000) / 1e9 };
  } finally {
    await rt.close();
  }
}

async function benchOne(model: string, w: ModelWeights, variant: string, threads: number, prompt: number, decode: number, bw: number): Promise<RunResult> {
  const o = VARIANTS[variant]!;
  const t0 = performance.now();
  const b = await WasmBackend.create(w, { ...o, threads, maxContext: Math.min(w.config.contextLength, prompt + decode + 64) });
  const loadMs = performance.now() - t0;
  try {
    const V = w.config.vocabSize;
    const tok = (i: number): number => (i * 7919 + 13) % V;
    // Warm-up: lets V8 tier every kernel up to optimized code before timing.
    const warm = b.createSequence();
    await b.forward([{ seq: warm, tokens: Array.from({ length: 16 }, (_, i) => tok(i)) }]);
    for (let i = 0; i < 4; i++) await b.forward([{ seq: warm, tokens: [tok(100 + i)] }]);
    b.freeSequence(warm);
    const s = b.createSequence();
    const cpu = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
    const p0 = performance.now();
    const pc = process.cpuUsage();
    await b.forward([{ seq: s, tokens: Array.from({ length: prompt }, (_, i) => tok(i + 1)) }]);
    const prefillMs = performance.now() - p0;
    const prefillCpu = cpu(process.cpuUsage(pc));
    const times: number[] = [];
    const dc = process.cpuUsage();
    for (let i = 0; i < decode; i++) {
      const d0 = performance.now();
      await b.forward([{ seq: s, tokens: [tok(1000 + i)] }]);
      times.push(performance.now() - d0);
    }
    const decodeCpu = cpu(process.cpuUsage(dc));
    const sorted = [...times].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const mean = times.reduce((x, y) => x + y, 0) / times.length;
    const bpt = bytesPerToken(w, variant === 'q8', prompt + decode / 2);
    const gbs = bpt / (median / 1000) / 1e9;
    return {
      model, variant, threads, description: b.description, loadMs,
      prefillTokens: prompt, prefillTokPerS: prompt / (prefillMs / 1000),
      decodeTokens: decode, decodeTokPerS: 1000 / mean, decodeMsMedian: median,
      decodeCpuMsPerToken: decodeCpu / decode, prefillCpuMsPerToken: prefillCpu / prompt,
      bytesPerToken: bpt, decodeGbPerS: gbs, pctOfBandwidth: (100 * gbs) / bw,
    };
  } finally {
    await b.dispose();
  }
}

export async function runWasmBench(o: WasmBenchOptions = {}): Promise<{ file: string; report: unknown }> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const root = fileURLToPath(new URL('..', import.meta.url));
  const threads = o.threads ?? [1, Math.min(os.availableParallelism(), 16)];
  const prompt = o.promptTokens ?? 128;
  const decode = o.decodeTokens ?? 24;
  const synth = o.syntheticPath ?? '/tmp/bitnet-2b4t-synthetic.gguf';
  const models = o.models ?? ['kjv', '2b4t'];
  const variants = o.variants ?? ['default', 'q8'];
  const load = os.loadavg();
  log(`wasm bench: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load ${load.map((x) => x.toFixed(1)).join(' ')}, node ${process.version}`);
  const bandwidth: BandwidthResult[] = [];
  for (const t of [...new Set(threads)]) {
    const r = await measureBandwidth(t);
    bandwidth.push(r);
    log(`bandwidth ${t} thread(s): ${r.gbPerS.toFixed(2)} GB/s (streaming read of ${r.bytes >> 20} MiB)`);
  }
  const runs: RunResult[] = [];
  for (const name of models) {
    let path = name === 'kjv' ? root + 'models/bitnet-kjv.gguf' : name === '2b4t' ? synth : name;
    if (name === '2b4t' && !existsSync(path)) {
      log(`generating synthetic 2B-4T-shaped model (I2_S, F16 embedding) at ${path} ...`);
      await writeSynthetic2b4t(path);
    }
    if (!existsSync(path)) {
      log(`skip ${name}: ${path} not found`);
      continue;
    }
    const m = await loadModel(path);
    await m.file.close();
    for (const variant of variants) {
      for (const t of threads) {
        const bw = bandwidth.find((b) => b.threads === t)!.gbPerS;
        const r = await benchOne(name, m.weights, variant, t, Math.min(prompt, m.config.contextLength - decode - 32), decode, bw);
        runs.push(r);
        log(`${name.padEnd(5)} ${variant.padEnd(7)} ${String(t).padStart(2)}T  prefill ${r.prefillTokPerS.toFixed(1).padStart(7)} tok/s  decode ${r.decodeTokPerS.toFixed(2).padStart(7)} tok/s` +
          ` (median ${r.decodeMsMedian.toFixed(1)} ms, cpu ${r.decodeCpuMsPerToken.toFixed(1)} ms/token, ${(r.bytesPerToken / 1e6).toFixed(0)} MB/token = ${r.decodeGbPerS.toFixed(2)} GB/s, ${r.pctOfBandwidth.toFixed(0)}% of ${bw.toFixed(1)} GB/s)`);
      }
    }
  }
  const report = {
    kind: 'wasm-bench', date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? null, cores: os.availableParallelism(),
    loadAverageStart: load, loadAverageEnd: os.loadavg(), promptTokens: prompt, decodeTokens: decode, bandwidth, runs,
    notes: 'decode tok/s = 1000 / mean ms per single-token forward after the prompt; GB/s and % use the median step; bandwidth = best of 5 streaming-read passes over 1 GiB with the same thread count.',
  };
  const dir = o.outDir ?? root + 'bench/results';
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/wasm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${file}`);
  return { file, report };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const list = (s: string | undefined): string[] | undefined => s?.split(',').filter(Boolean);
  const o: WasmBenchOptions = {
    ...(arg('models') ? { models: list(arg('models'))! } : {}),
    ...(arg('threads') ? { threads: list(arg('threads'))!.map(Number) } : {}),
    ...(arg('prompt') ? { promptTokens: Number(arg('prompt')) } : {}),
    ...(arg('decode') ? { decodeTokens: Number(arg('decode')) } : {}),
    ...(arg('variants') ? { variants: list(arg('variants'))! } : {}),
    ...(arg('out') ? { outDir: arg('out')! } : {}),
    ...(arg('synthetic') ? { syntheticPath: arg('synthetic')! } : {}),
  };
  await runWasmBench(o);
}
