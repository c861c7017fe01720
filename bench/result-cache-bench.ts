/**
 * Result-cache lookup latency (`node --import tsx bench/result-cache-bench.ts [options]`, also
 * exported as `runResultCacheBench` for bench/run.ts).
 *
 * What is timed: `ResultCache.lookup(query, 'semantic')` = exact-key probe + vector-index search +
 * reading and checking the hit's record from the store. NOT timed: embedding the prompt (the query
 * vectors are computed beforehand, as an embedder would hand them over) and the key hashing of
 * `prepareQuery` (reported separately as `prepareMs`). The store is the in-memory one (Node has no
 * IndexedDB; in browsers add one IndexedDB read per hit). The index-only search time is reported too.
 *
 * Synthetic data: anisotropic vectors (a shared direction plus noise, like model embeddings). Query
 * mix: 1/3 exact repeats, 1/3 paraphrases (a stored vector plus noise, new text: exact miss then
 * semantic hit), 1/3 unrelated (full miss). Target: p99 <= 2 ms at 10k entries.
 *
 * Wall-clock times include any wait for a CPU (`loadAverage` is recorded: read them against it);
 * `lookupCpuMs` is process CPU time per lookup (process.cpuUsage, microsecond resolution), which
 * leaves out waiting but counts GC and helper threads, so its tail can exceed wall time.
 *
 * Options: --sizes 1000,10000  --dims 384,2560  --queries 300  --out bench/results  --no-write
 * (384 = a MiniLM-class sentence embedder; 2560 = engine.embed of BitNet b1.58 2B-4T.)
 * Writes bench/results/result-cache-<timestamp>.json and prints the JSON.
 */
import { arg, flag, listArg, numArg, writeBenchReport } from './cli.js';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ResultCache } from '../src/cache/result-cache.js';
import { prepareQuery, type ResultQuery } from '../src/cache/result-key.js';
import { memoryResultStore } from '../src/cache/result-store.js';
import { VectorIndex, xorshift32 as rng } from '../src/cache/vector-index.js';
import type { Embedder } from '../src/embed/embedder.js';

export interface ResultCacheBenchOptions {
  readonly sizes?: readonly number[];
  readonly dims?: readonly number[];
  readonly queries?: number;
  readonly outDir?: string;
  readonly noWrite?: boolean;
}

const TARGET_P99_MS = 2;
const PARAMS = { maxTokens: 64, temperature: 0, maxContext: 2048 } as const;

const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const summary = (xs: number[]) => ({ p50: pct(xs, 50), p99: pct(xs, 99), mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), n: xs.length });

async function measureSize(n: number, dims: number, queries: number) {
  const r = rng(n * 31 + dims);
  const common = Float32Array.from({ length: dims }, () => gauss(r));
  const vec = (): Float32Array => Float32Array.from({ length: dims }, (_, j) => 2 * common[j]! + gauss(r));
  // Never called: every query carries its vector.
  const embedder: Embedder = { id: 'bench', dimensions: dims, embed: async () => Promise.reject(new Error('not used')) };
  const cache = new ResultCache({ model: 'sha256:bench', store: memoryResultStore(), embedder, maxEntries: n, maxBytes: 2 ** 40, threshold: 0.9 });
  const stored: Array<{ q: ResultQuery; v: Float32Array }> = [];
  const answer = { pieces: [{ text: 'x'.repeat(200), tokenIds: Array.from({ length: 48 }, (_, i) => i) }], promptTokens: 12, finishReason: 'length' as const, seed: 1 };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const q = await prepareQuery('sha256:bench', { kind: 'prompt', prompt: `stored prompt number ${i}` }, PARAMS, 'bench');
    const v = vec();
    q.vector = v;
    await cache.save(q, answer);
    stored.push({ q, v });
  }
  const fillMs = performance.now() - t0;
  const kinds = { exact: [] as number[], paraphrase: [] as number[], miss: [] as number[] };
  const cpu: number[] = [];
  const prepare: number[] = [];
  const index: number[] = [];
  const probe = new VectorIndex(dims);
  for (const s of stored) probe.add(s.q.key, s.v);
  const served = { exact: 0, paraphrase: 0, miss: 0 };
  for (let i = 0; i < queries; i++) {
    const kind = (['exact', 'paraphrase', 'miss'] as const)[i % 3]!;
    const src = stored[Math.floor(r() * stored.length)]!;
    const tp = performance.now();
    const q = kind === 'exact' ? await prepareQuery('sha256:bench', src.q.input, PARAMS, 'bench') : await prepareQuery('sha256:bench', { kind: 'prompt', prompt: `query ${i} ${kind}` }, PARAMS, 'bench');
    prepare.push(performance.now() - tp);
    q.vector = kind === 'paraphrase' ? Float32Array.from(src.v, (x) => x + 0.3 * gauss(r)) : kind === 'miss' ? Float32Array.from({ length: dims }, () => gauss(r)) : src.v;
    const ti = performance.now();
    probe.search(q.vector);
    index.push(performance.now() - ti);
    const c0 = process.cpuUsage();
    const t = performance.now();
    const hit = await cache.lookup(q, 'semantic');
    kinds[kind].push(performance.now() - t);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    if ((kind === 'miss') === (hit === null)) served[kind]++;
  }
  const all = [...kinds.exact, ...kinds.paraphrase, ...kinds.miss];
  const lookup = summary(all);
  await cache.flush();
  return {
    entries: n,
    dims,
    approximateIndex: probe.approximate,
    fillMs,
    lookupMs: lookup,
    lookupCpuMs: summary(cpu),
    byKindMs: { exact: summary(kinds.exact), paraphrase: summary(kinds.paraphrase), miss: summary(kinds.miss) },
    expectedOutcomes: served,
    indexSearchMs: summary(index),
    prepareMs: summary(prepare),
    p99VersusTarget: lookup.p99 / TARGET_P99_MS,
    cpuP99VersusTarget: pct(cpu, 99) / TARGET_P99_MS,
  };
}

export async function runResultCacheBench(o: ResultCacheBenchOptions = {}) {
  const sizes = o.sizes ?? [1000, 10000];
  const dims = o.dims ?? [384, 2560];
  const queries = o.queries ?? 300;
  const results = [];
  for (const d of dims) for (const n of sizes) results.push(await measureSize(n, d, queries));
  const report = {
    bench: 'result-cache-lookup',
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadAverage: os.loadavg(),
    embeddingIncluded: false,
    timed: 'ResultCache.lookup (exact probe + vector index + record read/check), in-memory store',
    targetP99Ms: TARGET_P99_MS,
    results,
  };
  if (!o.noWrite) {
    writeBenchReport(o.outDir, 'result-cache', report, () => undefined);
  }
  return report;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = listArg('sizes')?.map(Number);
  const dims = listArg('dims')?.map(Number);
  const queries = numArg('queries');
  const outDir = arg('out');
  const report = await runResultCacheBench({
    ...(sizes ? { sizes } : {}),
    ...(dims ? { dims } : {}),
    ...(queries !== undefined ? { queries } : {}),
    ...(outDir ? { outDir } : {}),
    noWrite: flag('no-write'),
  });
  console.log(JSON.stringify(report, null, 2));
}
