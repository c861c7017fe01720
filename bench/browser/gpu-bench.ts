/**
 * The `--wllama-gpu` mode of browser-bench.ts: our WebGPU backend against wllama 3.8.1's WebGPU path
 * in the same run, in Debian's headless Chromium launched WITH WebGPU (the flags of
 * playwright.config.ts's `chromium` project: on a machine without a GPU that adapter is SwiftShader).
 *   - wllama loads a Q4_0 copy of the model (bench/browser/wllama-model.ts, ternaryType 'q4_0': the
 *     same values; llama.cpp's WebGPU kernels have no TQ1_0/TQ2_0 and would run those on the CPU)
 *     with `n_gpu_layers` = all; llama.cpp's device / offload log lines are recorded as evidence of
 *     where it actually ran;
 *   - ours: the WebGPU backend in the page's worker on the original file;
 *   - the page's adapter (vendor / architecture / description, isFallbackAdapter) is recorded, and
 *     results on a fallback or SwiftShader adapter are labelled software.
 * Writes bench/results/webgpu-vs-wllama-<timestamp>.json (unless noWrite).
 */
import os from 'node:os';
import { basename } from 'node:path';
import { writeBenchReport } from '../cli.js';
import { DEFAULT_SYNTHETIC } from '../models.js';
import { type BenchWindow, prepareBenchModels, runWllama, startBenchBrowser } from './harness.js';
import type { PromptText } from './prompt-text.js';
import type { GpuAdapterReport, OursGpuResult, WllamaFailure, WllamaResult } from './protocol.js';
import type { TwinSummary } from './wllama-model.js';

/** Offload every layer (llama.cpp clamps to the model's layer count + output). */
export const ALL_GPU_LAYERS = 999;

export interface GpuBenchOptions {
  readonly models?: readonly string[];
  readonly promptTokens?: number;
  readonly decodeTokens?: number;
  readonly repeat?: number;
  /** wllama's CPU threads (default: hardware threads, at most 16). */
  readonly threads?: number;
  readonly wllamaTimeoutMin?: number;
  readonly syntheticPath?: string;
  readonly outDir?: string;
  readonly noWrite?: boolean;
  readonly log?: (line: string) => void;
}

export interface GpuModelResult {
  readonly model: string;
  readonly file: string;
  readonly ours: OursGpuResult | { readonly error: string };
  readonly wllamaFile: string | null;
  readonly wllamaModel: TwinSummary | null;
  readonly wllamaPrompt: PromptText | null;
  readonly wllama: WllamaResult | WllamaFailure | null;
  /** Where wllama actually ran (null without a log); a ratio against a CPU run is not a WebGPU comparison. */
  readonly wllamaPlacement: WllamaPlacement | null;
  /** WebGPU-related console lines of wllama's page (ggml's own messages). */
  readonly wllamaConsole: readonly string[];
  /** Ours / wllama, only when wllama's layers were offloaded to WebGPU (else null). */
  readonly decodeRatio: number | null;
  readonly prefillRatio: number | null;
}

export interface GpuBenchReport {
  readonly kind: 'webgpu-vs-wllama-gpu';
  readonly date: string;
  readonly browser: string;
  readonly chromiumArgs: readonly string[];
  readonly adapter: GpuAdapterReport;
  /** True when the adapter is a fallback / SwiftShader: the figures are a CPU emulation, not a GPU. */
  readonly software: boolean;
  readonly host: { readonly cpu: string | null; readonly cores: number };
  readonly promptTokens: number;
  readonly decodeTokens: number;
  readonly repeat: number;
  readonly models: GpuModelResult[];
}

const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'];
const GPU_ARGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--enable-features=Vulkan'];

/**
 * Chromium flags of playwright.config.ts's WebGPU (`chromium`) project. On a real-GPU machine set
 * BITNET_BENCH_CHROMIUM_ARGS (space-separated) to replace them, e.g. without the SwiftShader flags:
 * `--no-sandbox --enable-unsafe-webgpu --enable-features=Vulkan --use-angle=vulkan`.
 */
export async function webgpuChromiumArgs(): Promise<string[]> {
  const env = process.env.BITNET_BENCH_CHROMIUM_ARGS?.trim();
  if (env) return env.split(/\s+/);
  try {
    const cfg = (await import('../../playwright.config.js')).default as { use?: { launchOptions?: { args?: string[] } } };
    const args = cfg.use?.launchOptions?.args;
    if (args?.some((a) => a.includes('webgpu'))) return args;
  } catch {
    // fall through
  }
  return [...BASE_ARGS, ...GPU_ARGS];
}

/** Where llama.cpp put the model's layers, from its DEBUG log ("layer N assigned to device X"). */
export interface WllamaPlacement {
  /** Distinct device names layers were assigned to (e.g. ['CPU'] or ['WebGPU']), in order of first use. */
  readonly layerDevices: readonly string[];
  /** Distinct devices with a "<dev> model buffer size" line (where the weights live). */
  readonly weightBuffers: readonly string[];
  /** True when some layer or weight buffer is on a non-CPU device. */
  readonly offloaded: boolean;
}

export function wllamaPlacement(log: readonly string[]): WllamaPlacement {
  const layer = new Set<string>(), buf = new Set<string>();
  for (const l of log) {
    const a = /layer\s+\d+ assigned to device (\S+?),/.exec(l);
    if (a) layer.add(a[1]!);
    const b = /(\S+) model buffer size/.exec(l);
    if (b) buf.add(b[1]!);
  }
  const off = [...layer, ...buf].some((d) => !/^CPU/i.test(d));
  return { layerDevices: [...layer], weightBuffers: [...buf], offloaded: off };
}

const fx = (x: number | null | undefined, d = 1): string => (x === null || x === undefined ? '—' : x.toFixed(d));

export async function runGpuBench(o: GpuBenchOptions = {}): Promise<{ file: string | null; report: GpuBenchReport }> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const prompt = o.promptTokens ?? 128;
  const decode = o.decodeTokens ?? 32;
  const repeat = Math.max(1, o.repeat ?? 1);
  const threads = o.threads ?? Math.min(os.availableParallelism(), 16);
  const minutes = o.wllamaTimeoutMin ?? 10;

  const files = await prepareBenchModels(o.models ?? ['kjv'], o.syntheticPath ?? DEFAULT_SYNTHETIC, prompt, 'q4_0', log);
  const args = await webgpuChromiumArgs();
  const h = await startBenchBrowser(files.flatMap((f) => [f.path, ...(f.twin ? [f.twin.path] : [])]), args, log);
  const { browser, openPage } = h;
  try {
    const page = await openPage();
    const adapter = await page.evaluate(() => (window as unknown as BenchWindow).bitnetBench.gpuAdapter());
    const tag = adapter.software ? ' — SOFTWARE (fallback / SwiftShader): figures describe a CPU emulation, not a GPU' : '';
    log(`browser: chromium ${browser.version()}; WebGPU adapter: ${adapter.available ? adapter.label : `none (${adapter.error})`}; isFallbackAdapter ${adapter.isFallbackAdapter}${tag}`);

    const models: GpuModelResult[] = [];
    for (const f of files) {
      log(`${f.name}: our WebGPU backend (prompt ${prompt}, decode ${decode}) ...`);
      let ours: OursGpuResult | { error: string };
      try {
        ours = await page.evaluate((a) => (window as unknown as BenchWindow).bitnetBench.oursGpu(a), { url: h.url(f.path), prompt, decode, repeat });
        log(`  ours   ${ours.description}\n         prefill ${ours.prefillTokPerS.toFixed(1)} tok/s  decode ${ours.decodeTokPerS.toFixed(2)} tok/s (median ${ours.decodeMsMedian.toFixed(1)} ms)`);
      } catch (e) {
        ours = { error: e instanceof Error ? e.message : String(e) };
        log(`  ours failed: ${ours.error}`);
      }
      let wl: WllamaResult | WllamaFailure;
      let placement: WllamaPlacement | null = null;
      const consoleLines: string[] = [];
      if (f.twin && f.prompt) {
        log(`${f.name}: wllama asking for WebGPU offload (n_gpu_layers ${ALL_GPU_LAYERS}, ${threads} CPU threads) on ${basename(f.twin.path)} ...`);
        const wp = await openPage();
        // ggml's own messages (e.g. "ggml_webgpu: Failed to get an adapter") reach the console, not wllama's logger.
        wp.on('console', (m) => {
          if (/webgpu|adapter|wgpu/i.test(m.text()) && consoleLines.length < 100) consoleLines.push(`${m.type()} ${m.text()}`);
        });
        wl = await runWllama(wp, {
          url: h.url(f.twin.path), promptText: f.prompt.text, threads, prompt, decode, repeat, wasmUrl: '/wllama/wllama.wasm', nGpuLayers: ALL_GPU_LAYERS,
        }, minutes);
        await wp.close().catch(() => undefined);
        if ('error' in wl) log(`  wllama failed: ${wl.error}\n    ${wl.log.slice(-20).join('\n    ')}`);
        else {
          log(`  wllama prefill ${wl.prefillTokPerS.toFixed(1)} tok/s  decode ${wl.decodeTokPerS.toFixed(2)} tok/s (prompt_n ${wl.prefillTokens}); greedy "${wl.sanityPrompt}" → ${JSON.stringify(wl.sanityText)}`);
          const pl = (placement = wllamaPlacement([...wl.loadLog, ...wl.deviceLog]));
          log(`  wllama placement: layers on ${pl.layerDevices.join(', ') || '?'}, weights in ${pl.weightBuffers.join(', ') || '?'} buffers`
            + (pl.offloaded ? '' : ' — NOT offloaded: llama.cpp registered no WebGPU device, so these are CPU (wasm) figures'));
          if (consoleLines.length) log(`  browser console (WebGPU-related):\n    ${consoleLines.slice(0, 20).join('\n    ')}`);
        }
      } else {
        wl = { error: f.twinError ?? 'no comparison model', log: [] };
      }
      const ok = 'error' in wl ? null : wl;
      const mine = 'error' in ours ? null : ours;
      // A ratio is only a WebGPU-vs-WebGPU figure when llama.cpp really offloaded; otherwise none is given.
      const gpuWl = ok && placement?.offloaded ? ok : null;
      models.push({
        model: f.name, file: f.path, ours, wllamaFile: f.twin?.path ?? null, wllamaModel: f.twin, wllamaPrompt: f.prompt, wllama: wl, wllamaPlacement: placement, wllamaConsole: consoleLines,
        decodeRatio: mine && gpuWl ? mine.decodeTokPerS / gpuWl.decodeTokPerS : null,
        prefillRatio: mine && gpuWl ? mine.prefillTokPerS / gpuWl.prefillTokPerS : null,
      });
    }
    await page.close();

    const report: GpuBenchReport = {
      kind: 'webgpu-vs-wllama-gpu', date: new Date().toISOString(), browser: `chromium ${browser.version()}`, chromiumArgs: args, adapter,
      software: adapter.software, host: { cpu: os.cpus()[0]?.model ?? null, cores: os.availableParallelism() },
      promptTokens: prompt, decodeTokens: decode, repeat, models,
    };
    log(`| model | adapter | ours prefill tok/s | ours decode tok/s | wllama ran on | wllama prefill tok/s | wllama decode tok/s | decode ×wllama WebGPU |`);
    log('|---|---|---:|---:|---|---:|---:|---:|');
    for (const m of models) {
      const ou = 'error' in m.ours ? null : m.ours;
      const w = m.wllama && !('error' in m.wllama) ? m.wllama : null;
      log(`| ${m.model} | ${adapter.label ?? 'none'}${adapter.software ? ' (software)' : ''} | ${fx(ou?.prefillTokPerS)} | ${fx(ou?.decodeTokPerS, 2)} | ${m.wllamaPlacement ? m.wllamaPlacement.layerDevices.join('+') || '?' : '—'} | ${fx(w?.prefillTokPerS)} | ${fx(w?.decodeTokPerS, 2)} | ${fx(m.decodeRatio, 2)} |`);
    }
    if (o.noWrite) return { file: null, report };
    return { file: writeBenchReport(o.outDir, 'webgpu-vs-wllama', report, log), report };
  } finally {
    await h.close();
  }
}
