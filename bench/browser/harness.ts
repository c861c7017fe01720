/**
 * The Node side shared by both browser benchmarks (browser-bench.ts, gpu-bench.ts):
 *   - `prepareBenchModels`: the model files (generated once) and their wllama twins, with the prompt
 *     text that our tokenizer encodes to the benchmark's prompt length;
 *   - `startBenchBrowser`: bundles the page, serves it (and wasm/build, wllama's wasm, the model
 *     directories) from 127.0.0.1 with COOP/COEP, launches headless Chromium with the given flags, and
 *     opens ready pages;
 *   - `runWllama`: one wllama run in a page, raced against a time limit (a failure, never a throw).
 */
import { basename, dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startStaticServer, type Mount } from '../../demo/server/static-server.js';
import { benchModelPath, CACHE_DIR, REPO } from '../models.js';
import { buildBenchPage } from './build.js';
import type { BenchPageApi, WllamaFailure, WllamaRequest, WllamaResult } from './protocol.js';
import { type PromptText, promptText } from './prompt-text.js';
import { ensureWllamaTwin, type TwinSummary, type WllamaTernaryType, wllamaTwinName } from './wllama-model.js';

/** The page's global, as seen from `page.evaluate`. */
export type BenchWindow = Window & { bitnetBench: BenchPageApi };

export interface BenchModel {
  readonly name: string;
  readonly path: string;
  readonly twin: TwinSummary | null;
  readonly twinError: string | null;
  /** Prompt text for wllama (null without a twin). */
  readonly prompt: PromptText | null;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Resolves each model name (skipping, with a log line, those not found) and, when `twinType` is
 * given, writes (once) its wllama twin of that type; a twin that cannot be written is recorded as
 * `twinError` instead of failing the run.
 */
export async function prepareBenchModels(
  names: readonly string[], syntheticPath: string, promptTokens: number, twinType: WllamaTernaryType | null, log: (l: string) => void,
): Promise<BenchModel[]> {
  const out: BenchModel[] = [];
  for (const name of names) {
    const path = await benchModelPath(name, syntheticPath, log);
    if (!path) {
      log(`skip ${name}: file not found`);
      continue;
    }
    let twin: TwinSummary | null = null, twinError: string | null = null;
    if (twinType) {
      try {
        twin = await ensureWllamaTwin(path, join(CACHE_DIR, wllamaTwinName(basename(path, '.gguf'), twinType)), log, twinType);
      } catch (e) {
        twinError = `could not write the ${twinType.toUpperCase()} comparison model: ${errorText(e)}`;
        log(twinError);
      }
    }
    const pt = twin ? await promptText(path, promptTokens) : null;
    if (pt && (!pt.roundTrip || pt.tokens !== promptTokens)) log(`note: the wllama prompt text of ${name} encodes to ${pt.tokens} tokens (round trip ${pt.roundTrip})`);
    out.push({ name, path, twin, twinError, prompt: pt });
  }
  return out;
}

export interface BenchBrowser {
  readonly browser: Browser;
  /** Page URL of a served model file. */
  url(path: string): string;
  /** Base URL of the server. */
  readonly baseUrl: string;
  /** A fresh page of the benchmark, once it reports ready. */
  openPage(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Bundles and serves the page with the given model files, and launches Chromium
 * (BITNET_BENCH_CHROMIUM overrides `/usr/bin/chromium`). Page errors go to `log`.
 */
export async function startBenchBrowser(modelPaths: readonly string[], args: readonly string[], log: (l: string) => void): Promise<BenchBrowser> {
  log('bundling the benchmark page (vite) ...');
  const dist = await buildBenchPage();
  const mounts: Mount[] = [
    { prefix: '/', dir: dist },
    { prefix: '/wasm/build/', dir: join(REPO, 'wasm/build') },
    { prefix: '/wllama/', dir: join(REPO, 'node_modules/@wllama/wllama/esm/wasm') },
  ];
  const urlOf = new Map<string, string>();
  for (const p of modelPaths) {
    const dir = dirname(p);
    let m = mounts.find((x) => x.dir === dir && x.prefix.startsWith('/m'));
    if (!m) mounts.push((m = { prefix: `/m${mounts.length}/`, dir }));
    urlOf.set(p, m.prefix + encodeURIComponent(basename(p)));
  }
  const server = await startStaticServer({ mounts, host: '127.0.0.1', port: 0, isolation: true });
  let browser: Browser;
  try {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: process.env.BITNET_BENCH_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: [...args] });
  } catch (e) {
    await server.close();
    throw e;
  }
  const context = await browser.newContext();
  return {
    browser,
    baseUrl: server.url,
    url: (path) => urlOf.get(path)!,
    async openPage() {
      const page = await context.newPage();
      page.on('pageerror', (e) => log(`  [page error] ${e.message}`));
      await page.goto(server.url, { waitUntil: 'load' });
      await page.waitForFunction(() => document.body.dataset.ready === '1', undefined, { timeout: 60_000 });
      return page;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
    },
  };
}

/** One wllama run in `page`; a rejection or running past `minutes` comes back as a WllamaFailure. */
export async function runWllama(page: Page, req: WllamaRequest, minutes: number): Promise<WllamaResult | WllamaFailure> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<WllamaFailure>((ok) => {
    timer = setTimeout(() => ok({ error: `timed out after ${minutes} min (--wllama-timeout-min)`, log: [] }), minutes * 60_000);
  });
  try {
    return await Promise.race([
      page.evaluate((a) => (window as unknown as BenchWindow).bitnetBench.wllama(a), req)
        .catch((e: unknown): WllamaFailure => ({ error: errorText(e), log: [] })),
      limit,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
