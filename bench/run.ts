/**
 * `npm run bench [-- options]`: runs the sub-benchmarks, each in its own Node process (a crash, a
 * hang or a missing script is reported, never fatal), writes one combined JSON to
 * bench/results/bench-<timestamp>.json and prints a summary. Not part of `npm test` / CI.
 *
 * Sub-benchmarks (names for --only / --skip):
 *   wasm-node     bench/wasm-bench.ts            our wasm backend in Node, bandwidth ceiling
 *   wasm-browser  bench/browser/browser-bench.ts our wasm backend in headless Chromium vs wllama 3.8.1
 *   webgpu        bench/webgpu-bench.ts          WebGPU backend in Node (Dawn; SwiftShader without a GPU)
 *   batch         bench/batch-bench.ts           concurrency (if present)
 *   result-cache  bench/result-cache-bench.ts    result-cache lookup (if present)
 *
 * Options:
 *   --only a,b  --skip a,b      choose sub-benchmarks (default: all)
 *   --models kjv,2b4t           wasm models (2b4t = synthetic 2B-4T shapes, generated once into bench/.cache/)
 *   --threads 1,2               wasm thread counts (default 1 and all cores)
 *   --prompt 128  --decode 32  --repeat 1
 *   --variants default,q8       wasm-node output-matrix variants
 *   --no-wllama                 browser benchmark without wllama
 *   --wllama-timeout-min 10     limit per wllama run (it is recorded as timed out, the rest goes on)
 *   --webgpu-model default      model of the WebGPU benchmark
 *   --quick                     smoke sizes: --models kjv --decode 8, 256 MiB bandwidth probe, small batch /
 *                               result-cache runs
 *   --timeout-min 30            per sub-benchmark limit
 *   --out bench/results
 * Expected duration of the full default run on an idle 2-core machine: about 15 minutes (README).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BrowserBenchReport, formatBrowserTable } from './browser/browser-bench.js';
import { REPO } from './models.js';
import type { WasmBenchReport } from './wasm-bench.js';

interface SubBench {
  readonly name: string;
  readonly script: string;
  /** Its arguments; each sub-benchmark also receives `--out <dir>` (a temporary one) and writes its JSON there. */
  args(v: Values): string[];
}

type Values = ReturnType<typeof parse>['values'];

function parse() {
  return parseArgs({
    options: {
      only: { type: 'string' }, skip: { type: 'string' }, models: { type: 'string' }, threads: { type: 'string' },
      prompt: { type: 'string' }, decode: { type: 'string' }, repeat: { type: 'string' }, variants: { type: 'string' },
      'no-wllama': { type: 'boolean', default: false }, 'wllama-timeout-min': { type: 'string' }, 'webgpu-model': { type: 'string' }, quick: { type: 'boolean', default: false },
      'timeout-min': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
}

const pass = (v: Values, keys: ReadonlyArray<keyof Values>): string[] =>
  keys.flatMap((k) => (typeof v[k] === 'string' ? [`--${String(k)}`, v[k] as string] : []));

const SUBS: readonly SubBench[] = [
  { name: 'wasm-node', script: 'bench/wasm-bench.ts', args: (v) => pass(v, ['models', 'threads', 'prompt', 'decode', 'repeat', 'variants']) },
  {
    name: 'wasm-browser', script: 'bench/browser/browser-bench.ts',
    args: (v) => [...pass(v, ['models', 'threads', 'prompt', 'decode', 'repeat', 'wllama-timeout-min']), ...(v['no-wllama'] ? ['--no-wllama'] : []), ...(v.quick ? ['--bandwidth-mib', '256'] : [])],
  },
  { name: 'webgpu', script: 'bench/webgpu-bench.ts', args: (v) => ['--model', v['webgpu-model'] ?? 'default', ...(v.quick ? ['--decode', '8'] : [])] },
  { name: 'batch', script: 'bench/batch-bench.ts', args: (v) => (v.quick ? ['--models', 'default', '--concurrency', '1,4', '--decode', '8', '--repeats', '1'] : []) },
  { name: 'result-cache', script: 'bench/result-cache-bench.ts', args: (v) => (v.quick ? ['--sizes', '1000', '--queries', '100'] : []) },
];

interface SubResult {
  readonly name: string;
  readonly status: 'ok' | 'failed' | 'missing' | 'skipped' | 'timeout';
  readonly command: string | null;
  readonly exitCode: number | null;
  readonly seconds: number;
  readonly reports: unknown[];
  readonly outputTail: string;
}

function runSub(s: SubBench, v: Values, timeoutMs: number): Promise<SubResult> {
  const script = join(REPO, s.script);
  if (!existsSync(script)) return Promise.resolve({ name: s.name, status: 'missing', command: null, exitCode: null, seconds: 0, reports: [], outputTail: `${s.script} does not exist` });
  const tmp = mkdtempSync(join(os.tmpdir(), `bitnet-bench-${s.name}-`));
  const args = ['--import', 'tsx', s.script, ...s.args(v), '--out', tmp];
  const command = `node ${args.join(' ')}`;
  const started = Date.now();
  process.stdout.write(`\n=== ${s.name}: ${command}\n`);
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (b: Buffer): void => {
      process.stdout.write(b);
      tail = (tail + b.toString()).slice(-6000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (code: number | null, err?: Error): void => {
      clearTimeout(timer);
      const files = readdirSync(tmp).filter((f) => f.endsWith('.json')).sort().map((f) => join(tmp, f));
      const reports: unknown[] = [];
      for (const f of files) {
        try {
          reports.push(JSON.parse(readFileSync(f, 'utf8')));
        } catch {
          reports.push({ unreadable: f });
        }
      }
      rmSync(tmp, { recursive: true, force: true });
      const status = timedOut ? 'timeout' : code === 0 && !err ? 'ok' : 'failed';
      done({
        name: s.name, status, command, exitCode: code, seconds: (Date.now() - started) / 1000,
        reports, outputTail: err ? `${tail}\n${err.message}` : tail,
      });
    };
    child.on('error', (e) => finish(null, e));
    child.on('exit', (code) => finish(code));
  });
}

const f = (x: number | undefined | null, d = 1): string => (x === undefined || x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));

function summary(r: SubResult): string[] {
  const out = [`## ${r.name}: ${r.status}${r.exitCode !== null && r.status !== 'ok' ? ` (exit ${r.exitCode})` : ''}, ${r.seconds.toFixed(0)} s`];
  if (r.status === 'missing') return [...out, `  ${r.outputTail}`];
  if (r.status !== 'ok') out.push('  ' + r.outputTail.trim().split('\n').slice(-6).join('\n  '));
  for (const rep of r.reports as Array<Record<string, unknown>>) {
    if (rep.kind === 'wasm-bench') {
      const w = rep as unknown as WasmBenchReport;
      out.push(`  bandwidth: ${w.bandwidth.map((b) => `${b.threads}T ${f(b.gbPerS, 2)} GB/s`).join(', ')}`);
      out.push('  | model | variant | threads | prefill tok/s | decode tok/s (median step) | MB/token | % of bandwidth |', '  |---|---|---:|---:|---:|---:|---:|');
      for (const x of w.runs) out.push(`  | ${x.model} | ${x.variant} | ${x.threads} | ${f(x.prefillTokPerS)} | ${f(x.decodeTokPerS, 2)} (${f(1000 / x.decodeMsMedian, 2)}) | ${f(x.bytesPerToken / 1e6)} | ${f(x.pctOfBandwidth, 0)}% |`);
    } else if (rep.kind === 'wasm-browser-bench') {
      const b = rep as unknown as BrowserBenchReport;
      out.push(`  ${b.browser}; bandwidth: ${b.bandwidth.map((x) => `${x.threads}T ${f(x.gbPerS, 2)} GB/s`).join(', ')}`);
      out.push(...formatBrowserTable(b.table).map((l) => '  ' + l));
    } else if (rep.bench === 'webgpu') {
      const g = rep as { backend?: string; prefill?: { tokPerS: number }; decode?: { tokPerS: number }; decodeGpuSampling?: { tokPerS: number } };
      out.push(`  ${g.backend ?? ''}: prefill ${f(g.prefill?.tokPerS)} tok/s, decode ${f(g.decode?.tokPerS, 2)} tok/s, decode with GPU sampling ${f(g.decodeGpuSampling?.tokPerS, 2)} tok/s`);
    } else {
      out.push(`  report: ${JSON.stringify(rep).slice(0, 300)}`);
    }
  }
  if (r.status === 'ok' && r.reports.length === 0) out.push('  (no JSON report found) ' + r.outputTail.trim().split('\n').slice(-6).join('\n  '));
  return out;
}

async function main(): Promise<void> {
  const { values: v0 } = parse();
  if (v0.help) {
    const src = readFileSync(new URL(import.meta.url), 'utf8');
    process.stdout.write((src.split('*/')[0] ?? '').replace(/^\/\*\*?|^ \* ?/gm, '') + '\n');
    return;
  }
  const v: Values = v0.quick ? { ...v0, models: v0.models ?? 'kjv', decode: v0.decode ?? '8' } : v0;
  const names = new Set(SUBS.map((s) => s.name));
  const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  for (const n of [...list(v.only), ...list(v.skip)]) if (!names.has(n)) throw new Error(`unknown sub-benchmark "${n}" (known: ${[...names].join(', ')})`);
  const only = list(v.only), skip = new Set(list(v.skip));
  const chosen = SUBS.filter((s) => (only.length === 0 || only.includes(s.name)) && !skip.has(s.name));
  const resultsDir = v.out ?? join(REPO, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const timeoutMs = Number(v['timeout-min'] ?? 30) * 60_000;
  const t0 = Date.now();
  const load = os.loadavg();
  const results: SubResult[] = [];
  for (const s of SUBS) {
    if (!chosen.includes(s)) {
      results.push({ name: s.name, status: 'skipped', command: null, exitCode: null, seconds: 0, reports: [], outputTail: '' });
      continue;
    }
    results.push(await runSub(s, v, timeoutMs));
  }
  const report = {
    kind: 'bench', date: new Date().toISOString(), argv: process.argv.slice(2), node: process.version,
    host: { cpu: os.cpus()[0]?.model ?? null, cores: os.availableParallelism(), memoryGiB: os.totalmem() / 2 ** 30, loadAverageStart: load, loadAverageEnd: os.loadavg() },
    seconds: (Date.now() - t0) / 1000, results,
  };
  const file = join(resultsDir, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\n# bench summary (${(report.seconds / 60).toFixed(1)} min, load average ${load.map((x) => x.toFixed(1)).join(' ')} → ${report.host.loadAverageEnd.map((x) => x.toFixed(1)).join(' ')})\n`);
  for (const r of results) if (r.status !== 'skipped') process.stdout.write(summary(r).join('\n') + '\n');
  process.stdout.write(`skipped: ${results.filter((r) => r.status === 'skipped').map((r) => r.name).join(', ') || 'none'}\nwrote ${file}\n`);
  if (results.some((r) => r.status === 'failed' || r.status === 'timeout')) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(`bench/run.ts: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
