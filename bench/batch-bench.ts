/**
 * Continuous-batching benchmark: aggregate decode tokens/s of the scheduler with N concurrent
 * greedy requests (N = 1, 4, 8, 16 by default) on the wasm backend, and on WebGPU when an adapter
 * exists (in Node through Dawn; a software adapter such as SwiftShader is labelled `software`).
 *
 *   node --import tsx bench/batch-bench.ts [options]
 *     --models default,wide      'default' = the embedded 3.5M-param model (per-step overhead
 *                                dominates); 'wide' = a synthetic fixture with 2B-4T layer widths
 *                                (2560 / 6912, 20/5 heads) but few layers (bandwidth/compute-bound
 *                                regime); or a GGUF path
 *     --backends wasm,webgpu     (webgpu is skipped with a note when no adapter exists; 'wasm-nolut'
 *                                = wasm without the table-lookup GEMM, to see what it contributes)
 *     --concurrency 1,4,8,16  --prompt 16  --decode 32  --repeats 3
 *     --threads auto|N           wasm kernel threads (default auto = every core)
 *     --wide-layers 4  --wide-vocab 8192  (a small vocabulary keeps the logits a minor share, as the
 *                                30 layers of the real 2B-4T do for its 128k vocabulary)
 *     --out bench/results        result file batch-<timestamp>.json (also printed to stdout)
 *
 * Method per (backend, model, N): one Scheduler with maxBatch = N gets N requests in the same
 * tick (distinct prompts of the same length, no stop tokens, maxTokens = decode + 1), so they
 * prefill in one step and then decode in lockstep. Decode window = from the step that produced
 * every first token to the last finish; aggregate decode tok/s = N · decode / window. Each
 * configuration runs `repeats` times after one warm-up; medians are reported, with the ratio of
 * every N to N = 1 (target on wasm: >= 4 at N = 8). The forward-pass share of a decode step
 * (median forward ms vs median step ms) separates kernel time from per-step overhead.
 * A software WebGPU adapter (SwiftShader: seconds per step) runs the default model only, with
 * at most 8 decode steps and one repeat; it measures the software path, not a GPU.
 * Human-readable progress goes to stderr; the JSON result to stdout and the file.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, ForwardItem, ForwardOptions } from '../src/backends/backend.js';
import { WasmBackend } from '../src/backends/wasm/index.js';
import { resolveThreads } from '../src/backends/wasm/factory.js';
import { loadModel } from '../src/model/load-model.js';
import { writeFixtureFile } from '../src/model/fixtures.js';
import type { ModelWeights } from '../src/model/tensor.js';
import { Sampler } from '../src/runtime/sampler.js';
import { Scheduler, type RequestResult, type RequestSink } from '../src/runtime/scheduler.js';

export interface BatchBenchOptions {
  models: string[]; backends: string[]; concurrency: number[]; prompt: number; decode: number; repeats: number;
  threads: number | 'auto'; wideLayers: number; wideVocab: number; out: string;
}
type Options = BatchBenchOptions;

export const BATCH_BENCH_DEFAULTS: Readonly<BatchBenchOptions> = {
  models: ['default', 'wide'], backends: ['wasm', 'webgpu'], concurrency: [1, 4, 8, 16], prompt: 16, decode: 32, repeats: 3,
  threads: 'auto', wideLayers: 4, wideVocab: 8192, out: fileURLToPath(new URL('./results/', import.meta.url)),
};

/** A software WebGPU adapter runs only the default model, with at most this many decode steps, once. */
const SOFTWARE_DECODE = 8;

function parseArgs(argv: string[]): Options {
  const o: Options = { ...BATCH_BENCH_DEFAULTS };
  const ints = (v: string): number[] => v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`expected positive integers, got ${v}`);
    return n;
  });
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${k}: missing value`);
    switch (k) {
      case '--models': o.models = v.split(','); break;
      case '--backends': o.backends = v.split(','); break;
      case '--concurrency': o.concurrency = ints(v); break;
      case '--prompt': o.prompt = ints(v)[0]!; break;
      case '--decode': o.decode = ints(v)[0]!; break;
      case '--repeats': o.repeats = ints(v)[0]!; break;
      case '--threads': o.threads = v === 'auto' ? 'auto' : ints(v)[0]!; break;
      case '--wide-layers': o.wideLayers = ints(v)[0]!; break;
      case '--wide-vocab': o.wideVocab = ints(v)[0]!; break;
      case '--out': o.out = v; break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return o;
}

const log = (line: string): void => void process.stderr.write(line + '\n');
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The synthetic wide model: 2B-4T layer shapes, `layers` layers, written once to the OS temp dir. */
async function wideFixture(layers: number, vocab: number): Promise<string> {
  const path = join(os.tmpdir(), `bitnet-batch-wide-${layers}l-${vocab}v.gguf`);
  if (!existsSync(path)) {
    const t = performance.now();
    await writeFixtureFile({ seed: 7, nLayer: layers, nEmbd: 2560, nHead: 20, nHeadKv: 5, nFf: 6912, vocab, contextLength: 512, nMerges: 64 }, path);
    log(`wrote ${path} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  return path;
}

/** Times every forward pass of the wrapped backend (ms, and whether it was a pure decode step). */
class TimedBackend implements Backend {
  readonly steps: { ms: number; decode: boolean; items: number }[] = [];
  constructor(readonly inner: Backend) {}
  get name() { return this.inner.name; }
  get description() { return this.inner.description; }
  get config() { return this.inner.config; }
  createSequence() { return this.inner.createSequence(); }
  sequenceLength(s: number) { return this.inner.sequenceLength(s); }
  truncateSequence(s: number, n: number) { this.inner.truncateSequence(s, n); }
  freeSequence(s: number) { this.inner.freeSequence(s); }
  async forward(items: readonly ForwardItem[], o?: ForwardOptions) {
    const t = performance.now();
    const r = await this.inner.forward(items, o);
    this.steps.push({ ms: performance.now() - t, decode: items.every((it) => it.tokens.length === 1), items: items.length });
    return r;
  }
  async dispose() { await this.inner.dispose(); }
}

/** Records when a request's first token and its end arrive; never applies backpressure. */
class TimingSink implements RequestSink {
  first = 0;
  readonly backlog = 0;
  readonly done: Promise<RequestResult>;
  private settle!: { ok: (r: RequestResult) => void; fail: (e: unknown) => void };
  end = 0;
  constructor() {
    this.done = new Promise((ok, fail) => (this.settle = { ok, fail }));
  }
  push(_text: string, ids: readonly number[]): void {
    if (this.first === 0 && ids.length > 0) this.first = performance.now();
  }
  finish(r: RequestResult): void {
    this.end = performance.now();
    this.settle.ok(r);
  }
  fail(e: unknown): void {
    this.settle.fail(e);
  }
}

interface Measurement { aggregateTokPerS: number; windowMs: number; stepMs: number; forwardMs: number; tokens: number }

/** One run: `n` concurrent requests through a fresh scheduler with maxBatch = n. */
async function measure(backend: Backend, n: number, promptLen: number, decode: number, salt: number): Promise<Measurement> {
  const timed = new TimedBackend(backend);
  const s = new Scheduler(timed, { maxBatch: n, maxBuffered: decode + 8, prefillChunk: promptLen });
  const vocab = backend.config.vocabSize;
  const sinks = Array.from({ length: n }, () => new TimingSink());
  sinks.forEach((sink, i) => {
    const prompt = Array.from({ length: promptLen }, (_, k) => (17 + (salt * 31 + i) * 131 + k * 37) % Math.max(1, vocab - 8));
    s.submit({
      prompt, maxTokens: decode + 1, sampler: new Sampler({ temperature: 0 }), stopIds: new Set(), stop: [],
      decoder: { push: () => '', flush: () => '' }, sink,
    });
  });
  const results = await Promise.all(sinks.map((k) => k.done));
  const start = Math.max(...sinks.map((k) => k.first));
  const end = Math.max(...sinks.map((k) => k.end));
  const tokens = results.reduce((a, r) => a + r.generatedTokens - 1, 0);
  const decodeSteps = timed.steps.filter((st) => st.decode);
  const windowMs = end - start;
  return {
    aggregateTokPerS: windowMs > 0 ? (tokens * 1000) / windowMs : 0,
    windowMs,
    stepMs: decodeSteps.length > 0 ? windowMs / decodeSteps.length : 0,
    forwardMs: median(decodeSteps.map((st) => st.ms)),
    tokens,
  };
}

interface BackendSetup { backend: Backend; label: string; software: boolean | null }

async function createBackend(kind: string, model: string, weights: ModelWeights, o: Options, maxContext: number): Promise<BackendSetup | { skipped: string }> {
  const maxSeq = Math.max(...o.concurrency);
  if (kind === 'wasm' || kind === 'wasm-nolut') {
    const threads = await resolveThreads(o.threads);
    const b = await WasmBackend.create(weights, { threads, maxContext, lutGemm: kind === 'wasm' });
    return { backend: b, label: b.description, software: null };
  }
  if (kind === 'webgpu') {
    const { chooseAdapter } = await import('../src/backends/webgpu/device.js');
    const { WebGPUBackend } = await import('../src/backends/webgpu/webgpu-backend.js');
    let choice;
    try {
      choice = await chooseAdapter({ allowFallbackAdapter: true });
    } catch (e) {
      return { skipped: `no WebGPU adapter: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (choice.fallback && model !== 'default') return { skipped: `software WebGPU adapter (${choice.label}): only the default model is run (minutes per step)` };
    const b = await WebGPUBackend.create(weights, { gpu: choice.gpu, allowFallbackAdapter: true, maxSequences: maxSeq, maxContext });
    const tag = choice.fallback ? 'software adapter (CPU), not a GPU: ' : 'hardware adapter: ';
    return { backend: b, label: tag + b.description, software: choice.fallback };
  }
  return { skipped: `unknown backend ${kind}` };
}

export async function runBatchBench(options: Partial<BatchBenchOptions> = {}): Promise<Record<string, unknown>> {
  const o: Options = { ...BATCH_BENCH_DEFAULTS, ...options };
  const t0 = performance.now();
  const runs: Record<string, unknown>[] = [];
  const skipped: { backend: string; model: string; reason: string }[] = [];
  for (const name of o.models) {
    const path = name === 'wide' ? await wideFixture(o.wideLayers, o.wideVocab) : name;
    const m = await loadModel(path, { onWarning: () => undefined });
    await m.file.close();
    const c = m.config;
    const maxContext = Math.min(c.contextLength, o.prompt + o.decode + 8);
    const modelInfo = { name: name === 'wide' ? `wide-synthetic-${o.wideLayers}l` : c.name, nLayer: c.nLayer, nEmbd: c.nEmbd, nFf: c.nFf, vocab: c.vocabSize };
    for (const kind of o.backends) {
      const setup = await createBackend(kind, name, m.weights, o, maxContext);
      if ('skipped' in setup) {
        log(`${kind} / ${modelInfo.name}: skipped (${setup.skipped})`);
        skipped.push({ backend: kind, model: modelInfo.name, reason: setup.skipped });
        continue;
      }
      const decode = setup.software ? Math.min(o.decode, SOFTWARE_DECODE) : o.decode;
      const repeats = setup.software ? 1 : o.repeats;
      log(`${kind} / ${modelInfo.name} (${c.nLayer} layers, d=${c.nEmbd}, ff=${c.nFf}, vocab=${c.vocabSize}): ${setup.label}`);
      try {
        await measure(setup.backend, 1, o.prompt, Math.min(4, decode), 999); // warm-up
        const levels: Record<string, unknown>[] = [];
        let base = 0;
        for (const n of o.concurrency) {
          const reps: Measurement[] = [];
          for (let r = 0; r < repeats; r++) reps.push(await measure(setup.backend, n, o.prompt, decode, r * 100 + n));
          const agg = median(reps.map((x) => x.aggregateTokPerS));
          if (n === 1) base = agg;
          const step = median(reps.map((x) => x.stepMs));
          const fwd = median(reps.map((x) => x.forwardMs));
          levels.push({
            concurrency: n, aggregateTokPerS: agg, perRequestTokPerS: agg / n, vsOne: base > 0 ? agg / base : null,
            stepMsMedian: step, forwardMsMedian: fwd, overheadMsPerStep: step - fwd, runs: reps.map((x) => x.aggregateTokPerS),
          });
          log(`  N=${String(n).padStart(2)}: ${agg.toFixed(1).padStart(8)} tok/s aggregate (${(agg / n).toFixed(1)}/request), step ${step.toFixed(2)} ms = forward ${fwd.toFixed(2)} + other ${(step - fwd).toFixed(2)}${base > 0 ? `, ×${(agg / base).toFixed(2)} vs N=1` : ''}`);
        }
        const at8 = levels.find((l) => l.concurrency === 8)?.vsOne as number | null | undefined;
        runs.push({ backend: kind, description: setup.label, software: setup.software, model: modelInfo, decode, repeats, levels, ratio8to1: at8 ?? null, target8to1: kind === 'wasm' ? 4 : null });
      } finally {
        await setup.backend.dispose();
      }
    }
  }
  const result = {
    bench: 'batch',
    date: new Date().toISOString(),
    host: { platform: process.platform, arch: process.arch, node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, loadavg: os.loadavg() },
    options: { ...o, out: undefined },
    method: 'N concurrent greedy requests, same-tick submit, maxBatch = N; aggregate = N·decode tokens / (last finish − last first token); medians over repeats',
    runs,
    skipped,
    totalMs: performance.now() - t0,
  };
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, `batch-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  log(`wrote ${file}`);
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runBatchBench(parseArgs(process.argv.slice(2)))
    .then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'))
    .catch((e: unknown) => {
      log(`batch-bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      process.exitCode = 1;
    });
}
