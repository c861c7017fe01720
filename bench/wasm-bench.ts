/**
 * Benchmark of the wasm SIMD backend in Node (`node --import tsx bench/wasm-bench.ts [options]`,
 * also exported as `runWasmBench` for bench/run.ts):
 *   - decode tok/s (one token per forward after the prompt) and prefill tok/s (128-token prompt),
 *     single- and multi-threaded, on the default model and on a synthetic model with the exact
 *     microsoft/bitnet-b1.58-2B-4T shapes (generated once into bench/.cache/, see bench/models.ts);
 *   - the memory-bandwidth ceiling measured in the same run by a streaming-read wasm kernel over
 *     1 GiB, with the same thread count;
 *   - decode expressed as bytes streamed per token × tok/s, as a % of that ceiling.
 * The measurements themselves are in bench/wasm-measure.ts (shared with the browser benchmark).
 * Options: --models kjv,2b4t  --threads 1,2  --prompt 128  --decode 32  --repeat 1  --variants default,q8
 *          --out bench/results  --synthetic bench/.cache/bitnet-2b4t-synthetic.gguf  --no-write
 * Writes bench/results/wasm-<timestamp>.json and prints a summary table.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { WasmBackend, type WasmBackendOptions } from '../src/backends/wasm/wasm-backend.js';
import { loadModel } from '../src/model/load-model.js';
import type { ModelWeights } from '../src/model/tensor.js';
import { arg, flag, listArg, numArg, writeBenchReport } from './cli.js';
import { benchModelPath, DEFAULT_SYNTHETIC } from './models.js';
import { type BandwidthResult, bandwidthShare, bytesPerToken, measureBandwidth, measureBest, type SpeedResult } from './wasm-measure.js';

export { measureBandwidth, type BandwidthResult } from './wasm-measure.js';
export { writeSynthetic2b4t } from './models.js';

export interface WasmBenchOptions {
  readonly models?: readonly string[];
  readonly threads?: readonly number[];
  readonly promptTokens?: number;
  readonly decodeTokens?: number;
  /** Measurements per configuration; the fastest is kept (default 1). */
  readonly repeat?: number;
  readonly variants?: readonly string[];
  readonly outDir?: string;
  /** Write no JSON file (bench/run.ts writes one combined file). */
  readonly noWrite?: boolean;
  readonly syntheticPath?: string;
  readonly log?: (line: string) => void;
}

const VARIANTS: Record<string, WasmBackendOptions> = {
  default: {},
  q8: { outputQ8: true, logitsInt8: true },
};

export interface RunResult extends SpeedResult {
  readonly model: string;
  readonly variant: string;
  readonly threads: number;
  readonly description: string;
  readonly loadMs: number;
  readonly bytesPerToken: number;
  readonly decodeGbPerS: number;
  readonly pctOfBandwidth: number;
}

export interface WasmBenchReport {
  readonly kind: 'wasm-bench';
  readonly date: string;
  readonly node: string;
  readonly cpu: string | null;
  readonly cores: number;
  readonly loadAverageStart: number[];
  readonly loadAverageEnd: number[];
  readonly promptTokens: number;
  readonly decodeTokens: number;
  readonly repeat: number;
  readonly bandwidth: BandwidthResult[];
  readonly runs: RunResult[];
  readonly notes: string;
}

const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

async function benchOne(model: string, w: ModelWeights, variant: string, threads: number, prompt: number, decode: number, repeat: number, bw: number): Promise<RunResult> {
  const o = VARIANTS[variant];
  if (!o) throw new Error(`unknown variant ${variant} (known: ${Object.keys(VARIANTS).join(', ')})`);
  const t0 = performance.now();
  const b = await WasmBackend.create(w, { ...o, threads, maxContext: Math.min(w.config.contextLength, prompt + decode + 64) });
  const loadMs = performance.now() - t0;
  try {
    const best = await measureBest(b, { prompt, decode, cpuMs }, repeat);
    const bpt = bytesPerToken(w, variant === 'q8', prompt + decode / 2);
    return { model, variant, threads, description: b.description, loadMs, ...best, bytesPerToken: bpt, ...bandwidthShare(bpt, best.decodeMsMedian, bw) };
  } finally {
    await b.dispose();
  }
}

export async function runWasmBench(o: WasmBenchOptions = {}): Promise<{ file: string | null; report: WasmBenchReport }> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const threads = o.threads ?? [1, Math.min(os.availableParallelism(), 16)];
  const prompt = o.promptTokens ?? 128;
  const decode = o.decodeTokens ?? 32;
  const repeat = Math.max(1, o.repeat ?? 1);
  const models = o.models ?? ['kjv', '2b4t'];
  const variants = o.variants ?? ['default', 'q8'];
  const load = os.loadavg();
  log(`wasm bench (node): ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load ${load.map((x) => x.toFixed(1)).join(' ')}, node ${process.version}`);
  const bandwidth: BandwidthResult[] = [];
  for (const t of [...new Set(threads)]) {
    const r = await measureBandwidth(t);
    bandwidth.push(r);
    log(`bandwidth ${t} thread(s): ${r.gbPerS.toFixed(2)} GB/s (streaming read of ${r.bytes >> 20} MiB)`);
  }
  const runs: RunResult[] = [];
  for (const name of models) {
    const path = await benchModelPath(name, o.syntheticPath ?? DEFAULT_SYNTHETIC, log);
    if (!path) {
      log(`skip ${name}: file not found`);
      continue;
    }
    const m = await loadModel(path);
    await m.file.close();
    for (const variant of variants) {
      for (const t of threads) {
        const bw = bandwidth.find((b) => b.threads === t)!.gbPerS;
        const r = await benchOne(name, m.weights, variant, t, Math.min(prompt, m.config.contextLength - decode - 32), decode, repeat, bw);
        runs.push(r);
        log(`${name.padEnd(5)} ${variant.padEnd(7)} ${String(t).padStart(2)}T  prefill ${r.prefillTokPerS.toFixed(1).padStart(7)} tok/s  decode ${r.decodeTokPerS.toFixed(2).padStart(7)} tok/s` +
          ` (median ${r.decodeMsMedian.toFixed(1)} ms, cpu ${r.decodeCpuMsPerToken?.toFixed(1) ?? '?'} ms/token, ${(r.bytesPerToken / 1e6).toFixed(0)} MB/token = ${r.decodeGbPerS.toFixed(2)} GB/s, ${r.pctOfBandwidth.toFixed(0)}% of ${bw.toFixed(1)} GB/s)`);
      }
    }
  }
  const report: WasmBenchReport = {
    kind: 'wasm-bench', date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model ?? null, cores: os.availableParallelism(),
    loadAverageStart: load, loadAverageEnd: os.loadavg(), promptTokens: prompt, decodeTokens: decode, repeat, bandwidth, runs,
    notes: 'decode tok/s = 1000 / mean ms per single-token forward after the prompt; GB/s and % use the median step; bandwidth = best of 5 streaming-read passes over 1 GiB with the same thread count; with repeat > 1 the fastest measurement is kept.',
  };
  if (o.noWrite) return { file: null, report };
  return { file: writeBenchReport(o.outDir, 'wasm', report, log), report };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runWasmBench({
    models: listArg('models'), threads: listArg('threads')?.map(Number), promptTokens: numArg('prompt'), decodeTokens: numArg('decode'),
    repeat: numArg('repeat'), variants: listArg('variants'), outDir: arg('out'), syntheticPath: arg('synthetic'),
    noWrite: flag('no-write'),
  });
}
