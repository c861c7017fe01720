/**
 * Browser benchmark of the wasm backend against wllama 3.8.1, in Debian's headless Chromium
 * (`/usr/bin/chromium` through playwright-core, with the flags of playwright.config.ts's no-WebGPU
 * project, so wllama cannot offload to a GPU either), in the same run:
 *   - the page (bench/browser/, bundled by build.ts) is served from 127.0.0.1 with COOP/COEP, so
 *     `crossOriginIsolated` is true and both engines can use wasm threads;
 *   - per thread count: the streaming-read bandwidth ceiling of our kernels in the page's worker;
 *   - per model: our backend (prefill of a `prompt`-token prompt, single-token decode) at every
 *     thread count, then wllama on the same weights as a TQ2_0 GGUF (bench/browser/wllama-model.ts)
 *     at the same thread counts, and our ratio to it.
 * `node --import tsx bench/browser/browser-bench.ts [--models kjv,2b4t] [--threads 1,2] [--prompt 128]
 *   [--decode 32] [--repeat 1] [--no-wllama] [--wllama-timeout-min 10] [--bandwidth-mib 1024] [--out DIR]
 *   [--no-write]`, or `runBrowserBench` from bench/run.ts.
 * `--wllama-gpu` runs the WebGPU comparison instead (gpu-bench.ts: our WebGPU backend vs wllama's
 *   WebGPU path on a Q4_0 copy, n_gpu_layers = all, Chromium with WebGPU flags; default model kjv):
 *   `node --import tsx bench/browser/browser-bench.ts --wllama-gpu [--models kjv,2b4t] [--prompt 128]
 *   [--decode 32] [--repeat 1] [--threads 16] [--wllama-timeout-min 10] [--out DIR] [--no-write]`.
 */
import os from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openModelFile } from '../../src/model/load-model.js';
import { arg, flag, listArg, numArg, writeBenchReport } from '../cli.js';
import { DEFAULT_SYNTHETIC } from '../models.js';
import { type BandwidthResult, bandwidthShare } from '../wasm-measure.js';
import { runGpuBench } from './gpu-bench.js';
import { type BenchWindow, prepareBenchModels, runWllama, startBenchBrowser } from './harness.js';
import type { BenchPageApi, OursResult, WllamaFailure, WllamaResult } from './protocol.js';
import type { PromptText } from './prompt-text.js';
import type { TwinSummary } from './wllama-model.js';

export interface BrowserBenchOptions {
  readonly models?: readonly string[];
  readonly threads?: readonly number[];
  readonly promptTokens?: number;
  readonly decodeTokens?: number;
  readonly repeat?: number;
  /** Run wllama too (default true). */
  readonly wllama?: boolean;
  /** Limit per wllama run (load + warm-up + measurements), in minutes (default 10). */
  readonly wllamaTimeoutMin?: number;
  readonly bandwidthBytes?: number;
  readonly syntheticPath?: string;
  readonly outDir?: string;
  readonly noWrite?: boolean;
  readonly log?: (line: string) => void;
}

export interface BrowserModelResult {
  readonly model: string;
  readonly file: string;
  readonly ours: OursResult | { readonly error: string };
  readonly wllamaFile: string | null;
  readonly wllamaModel: TwinSummary | null;
  /** Prompt text given to wllama and its token count by our tokenizer (BOS included). */
  readonly wllamaPrompt: PromptText | null;
  /** Bytes of all tensors of the wllama file (≈ what one llama.cpp decode step streams, KV aside). */
  readonly wllamaTensorBytes: number | null;
  readonly wllama: ReadonlyArray<WllamaResult | (WllamaFailure & { readonly threads: number })>;
}

export interface BrowserRow {
  readonly model: string;
  readonly threads: number;
  readonly oursPrefill: number | null;
  readonly oursDecode: number | null;
  /** 1000 / median decode step (the mean-based figure above includes stalls). */
  readonly oursDecodeMedian: number | null;
  readonly bytesPerToken: number | null;
  readonly bandwidthGbPerS: number | null;
  readonly pctOfBandwidth: number | null;
  readonly wllamaPrefill: number | null;
  readonly wllamaDecode: number | null;
  readonly prefillRatio: number | null;
  readonly decodeRatio: number | null;
  readonly wllamaError: string | null;
}

export interface BrowserBenchReport {
  readonly kind: 'wasm-browser-bench';
  readonly date: string;
  readonly browser: string;
  readonly page: ReturnType<BenchPageApi['info']>;
  readonly host: { readonly cpu: string | null; readonly cores: number; readonly loadAverageStart: number[]; readonly loadAverageEnd: number[] };
  readonly promptTokens: number;
  readonly decodeTokens: number;
  readonly repeat: number;
  readonly bandwidth: BandwidthResult[];
  readonly models: BrowserModelResult[];
  readonly table: BrowserRow[];
  readonly notes: string;
}

const NOTES = 'Ours: decode tok/s = 1000 / mean ms per single-token forward (logits to JS) after the prompt; prefill = prompt tokens / one forward over the prompt; '
  + 'run in a module worker of the page, like the SDK engine worker. wllama: llama.cpp\'s own timings (llama-server timings of a completion with a '
  + 'prompt text that our tokenizer encodes to the same token count incl. BOS (llama.cpp\'s count is prompt_n), greedy, ignore_eos, no prompt cache, n_gpu_layers 0); decode = (predicted_n − 1) / predicted_ms (the forwards after the prompt; llama.cpp\'s predicted_per_second, '
  + 'which divides by predicted_n, is kept as reportedDecodeTokPerS). Both: best of `repeat` after a warm-up. % of bandwidth: bytes per decode step / median step time '
  + 'vs the streaming-read ceiling at the same thread count in the same page. The wllama model has the same tensors and values as ours, as TQ2_0 (Q4_0 where a row is not a multiple of 256), '
  + 'architecture renamed bitnet (llama.cpp\'s only BitNet name; its graph gates with SiLU where ours uses ReLU², the same cost).';

/** The Chromium flags of playwright.config.ts's `chromium-no-webgpu` project (no WebGPU adapter). */
async function chromiumArgs(): Promise<string[]> {
  try {
    const cfg = (await import('../../playwright.config.js')).default as { projects?: Array<{ name?: string; use?: { launchOptions?: { args?: string[] } } }> };
    const args = cfg.projects?.find((p) => p.name === 'chromium-no-webgpu')?.use?.launchOptions?.args;
    if (args?.length) return args;
  } catch {
    // fall through
  }
  return ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];
}

async function tensorBytes(path: string): Promise<number> {
  const f = await openModelFile(path);
  try {
    return f.tensors.reduce((n, t) => n + t.nbytes, 0);
  } finally {
    await f.close();
  }
}

export async function runBrowserBench(o: BrowserBenchOptions = {}): Promise<{ file: string | null; report: BrowserBenchReport }> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const threads = o.threads ?? [1, Math.min(os.availableParallelism(), 16)];
  const prompt = o.promptTokens ?? 128;
  const decode = o.decodeTokens ?? 32;
  const repeat = Math.max(1, o.repeat ?? 1);
  const withWllama = o.wllama ?? true;
  const wllamaMinutes = o.wllamaTimeoutMin ?? 10;
  const loadStart = os.loadavg();

  const files = await prepareBenchModels(o.models ?? ['kjv', '2b4t'], o.syntheticPath ?? DEFAULT_SYNTHETIC, prompt, withWllama ? 'tq2_0' : null, log);
  const h = await startBenchBrowser(files.flatMap((f) => [f.path, ...(f.twin ? [f.twin.path] : [])]), await chromiumArgs(), log);
  const { browser, openPage } = h;
  try {
    let page = await openPage();
    const info = await page.evaluate(() => (window as unknown as BenchWindow).bitnetBench.info());
    log(`browser: ${browser.version()}, crossOriginIsolated ${info.crossOriginIsolated}, hardwareConcurrency ${info.hardwareConcurrency}, JSPI ${info.jspi}, memory64 ${info.memory64}`);
    if (!info.crossOriginIsolated && threads.some((t) => t > 1)) log('WARNING: page is not cross-origin isolated; multi-thread runs will fail');

    const bandwidth: BandwidthResult[] = [];
    for (const t of [...new Set(threads)]) {
      const r = await page.evaluate((a) => (window as unknown as BenchWindow).bitnetBench.bandwidth(a), { threads: t, bytes: o.bandwidthBytes ?? 1 << 30, passes: 5 });
      bandwidth.push(r);
      log(`bandwidth ${t} thread(s) in Chromium: ${r.gbPerS.toFixed(2)} GB/s (streaming read of ${r.bytes >> 20} MiB)`);
    }
    await page.close();

    const models: BrowserModelResult[] = [];
    for (const f of files) {
      page = await openPage();
      log(`${f.name}: our wasm backend, threads ${threads.join(',')} ...`);
      let ours: OursResult | { error: string };
      try {
        ours = await page.evaluate((a) => (window as unknown as BenchWindow).bitnetBench.ours(a), {
          url: h.url(f.path), threads: [...threads], prompt, decode, repeat, wasmPath: new URL('/wasm/build/', h.baseUrl).href,
        });
        for (const r of ours.runs) log(`  ours   ${r.threads}T  prefill ${r.prefillTokPerS.toFixed(1)} tok/s  decode ${r.decodeTokPerS.toFixed(2)} tok/s (median ${r.decodeMsMedian.toFixed(1)} ms)`);
      } catch (e) {
        ours = { error: e instanceof Error ? e.message : String(e) };
        log(`  ours failed: ${ours.error}`);
      }
      await page.close();
      const wl: Array<WllamaResult | (WllamaFailure & { threads: number })> = [];
      if (withWllama) {
        for (const t of threads) {
          if (!f.twin) {
            wl.push({ threads: t, error: f.twinError ?? 'no comparison model', log: [] });
            continue;
          }
          page = await openPage();
          log(`${f.name}: wllama ${t}T on ${basename(f.twin.path)} ...`);
          const r = await runWllama(page, {
            url: h.url(f.twin.path), promptText: f.prompt!.text, threads: t, prompt, decode, repeat, wasmUrl: '/wllama/wllama.wasm',
          }, wllamaMinutes);
          await page.close();
          if ('error' in r) {
            log(`  wllama ${t}T failed: ${r.error}\n    ${r.log.slice(-12).join('\n    ')}`);
            wl.push({ ...r, threads: t });
          } else {
            log(`  wllama ${t}T  prefill ${r.prefillTokPerS.toFixed(1)} tok/s  decode ${r.decodeTokPerS.toFixed(2)} tok/s (multithread ${r.multithread}, ${r.nThreads} threads, prompt_n ${r.prefillTokens}); greedy "${r.sanityPrompt}" → ${JSON.stringify(r.sanityText)}`);
            wl.push(r);
          }
        }
      }
      models.push({
        model: f.name, file: f.path, ours, wllamaFile: f.twin?.path ?? null, wllamaModel: f.twin, wllamaPrompt: f.prompt,
        wllamaTensorBytes: f.twin ? await tensorBytes(f.twin.path) : null, wllama: wl,
      });
    }

    const table = buildTable(models, bandwidth, threads);
    const report: BrowserBenchReport = {
      kind: 'wasm-browser-bench', date: new Date().toISOString(), browser: `chromium ${browser.version()}`, page: info,
      host: { cpu: os.cpus()[0]?.model ?? null, cores: os.availableParallelism(), loadAverageStart: loadStart, loadAverageEnd: os.loadavg() },
      promptTokens: prompt, decodeTokens: decode, repeat, bandwidth, models, table, notes: NOTES,
    };
    for (const line of formatBrowserTable(table)) log(line);
    if (o.noWrite) return { file: null, report };
    return { file: writeBenchReport(o.outDir, 'wasm-browser', report, log), report };
  } finally {
    await h.close();
  }
}

function buildTable(models: readonly BrowserModelResult[], bw: readonly BandwidthResult[], threads: readonly number[]): BrowserRow[] {
  const rows: BrowserRow[] = [];
  for (const m of models) {
    for (const t of threads) {
      const o = 'runs' in m.ours ? m.ours.runs.find((r) => r.threads === t) ?? null : null;
      const w = m.wllama.find((r) => r.threads === t) ?? null;
      const ok = w && !('error' in w) ? w : null;
      const ceiling = bw.find((b) => b.threads === t)?.gbPerS ?? null;
      const bpt = 'runs' in m.ours ? m.ours.bytesPerToken : null;
      const pct = o && bpt && ceiling ? bandwidthShare(bpt, o.decodeMsMedian, ceiling).pctOfBandwidth : null;
      rows.push({
        model: m.model, threads: t, oursPrefill: o?.prefillTokPerS ?? null, oursDecode: o?.decodeTokPerS ?? null,
        oursDecodeMedian: o ? 1000 / o.decodeMsMedian : null,
        bytesPerToken: bpt, bandwidthGbPerS: ceiling, pctOfBandwidth: pct,
        wllamaPrefill: ok?.prefillTokPerS ?? null, wllamaDecode: ok?.decodeTokPerS ?? null,
        prefillRatio: o && ok ? o.prefillTokPerS / ok.prefillTokPerS : null,
        decodeRatio: o && ok ? o.decodeTokPerS / ok.decodeTokPerS : null,
        wllamaError: w && 'error' in w ? w.error : null,
      });
    }
  }
  return rows;
}

const fx = (x: number | null, d = 1): string => (x === null ? '—' : x.toFixed(d));

/** Markdown table of the browser rows (also used by bench/run.ts and for the README). */
export function formatBrowserTable(rows: readonly BrowserRow[]): string[] {
  const out = [
    '| model | threads | ours prefill tok/s | ours decode tok/s (median step) | MB/token | % of bandwidth (GB/s) | wllama prefill tok/s | wllama decode tok/s | prefill ×wllama | decode ×wllama |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    out.push(`| ${r.model} | ${r.threads} | ${fx(r.oursPrefill)} | ${fx(r.oursDecode, 2)} (${fx(r.oursDecodeMedian, 2)}) | ${r.bytesPerToken === null ? '—' : (r.bytesPerToken / 1e6).toFixed(1)} | `
      + `${fx(r.pctOfBandwidth, 0)}% (${fx(r.bandwidthGbPerS)}) | ${fx(r.wllamaPrefill)} | ${fx(r.wllamaDecode, 2)} | ${fx(r.prefillRatio, 2)} | ${fx(r.decodeRatio, 2)} |`
      + (r.wllamaError ? ` wllama: ${r.wllamaError.slice(0, 120)}` : ''));
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const common = {
    models: listArg('models'), promptTokens: numArg('prompt'), decodeTokens: numArg('decode'), repeat: numArg('repeat'),
    wllamaTimeoutMin: numArg('wllama-timeout-min'), outDir: arg('out'), noWrite: flag('no-write'),
  };
  if (flag('wllama-gpu')) {
    await runGpuBench({ ...common, threads: listArg('threads')?.map(Number).at(-1) });
    process.exit(0);
  }
  const mib = numArg('bandwidth-mib');
  await runBrowserBench({
    ...common, threads: listArg('threads')?.map(Number), bandwidthBytes: mib === undefined ? undefined : mib * (1 << 20),
    ...(flag('no-wllama') ? { wllama: false } : {}),
  });
}
