/**
 * Benchmark of the WebGPU backend (`npm run bench:webgpu -- [options]`, or `runWebGPUBench` from
 * bench/run.ts). In Node it runs on Dawn; without a hardware adapter that is SwiftShader (CPU), so
 * the numbers then describe the software path only.
 *   - prefill tok/s (one forward over a prompt, GEMM path) and decode tok/s (one token per step,
 *     GEMV path), both with logits read back, plus decode with GPU-side greedy sampling (ids only);
 *   - one profiled decode step: per-kernel times (GPU timestamps when available, flagged when
 *     implausible, plus a wall-clock pass) and GB/s of every weight GEMV.
 * Options: --model default|<path>  --prompt 32  --decode 16  --out bench/results  --plain (no dp4a)
 * Writes bench/results/webgpu-<timestamp>.json and prints a summary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { WebGPUBackend } from '../src/backends/webgpu/webgpu-backend.js';
import type { StepProfile } from '../src/backends/webgpu/profiler.js';
import { loadModel } from '../src/model/load-model.js';

export interface WebGPUBenchOptions {
  readonly model?: string;
  readonly promptTokens?: number;
  readonly decodeTokens?: number;
  readonly outDir?: string;
  readonly plain?: boolean;
  readonly log?: (line: string) => void;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

function profileSummary(p: StepProfile): Record<string, unknown> {
  return {
    source: p.source,
    plausible: p.plausible,
    totalMs: p.totalMs,
    wallMs: p.wallMs,
    byKernel: p.byKernel,
    gemv: p.kernels.filter((k) => k.kernel === 'gemv').map((k) => ({ label: k.label, ms: k.ms, bytes: k.bytes, gbPerS: k.gbPerS })),
    kernels: p.kernels.map((k) => ({ label: k.label, kernel: k.kernel, ms: k.ms })),
  };
}

export async function runWebGPUBench(o: WebGPUBenchOptions = {}): Promise<Record<string, unknown>> {
  const log = o.log ?? ((l: string) => console.log(l));
  const P = o.promptTokens ?? 32;
  const D = o.decodeTokens ?? 16;
  const t0 = performance.now();
  const m = await loadModel(o.model ?? 'default', { onWarning: () => undefined });
  await m.file.close();
  const c = m.config;
  const tl = performance.now();
  const b = await WebGPUBackend.create(m.weights, { allowFallbackAdapter: true, maxSequences: 2, maxContext: Math.min(c.contextLength, P + D + 8), ...(o.plain ? { dotProduct: 'plain' as const } : {}) });
  const loadMs = performance.now() - tl;
  log(`model ${c.name}: ${c.nLayer} layers, d=${c.nEmbd}, ff=${c.nFf}, vocab=${c.vocabSize}; ${b.description}; load ${loadMs.toFixed(0)} ms`);
  try {
    const prompt = Array.from({ length: P }, (_, i) => (i * 37 + 11) % c.vocabSize);
    // Warm-up (first dispatches of each pipeline).
    const w = b.createSequence();
    await b.forward([{ seq: w, tokens: prompt.slice(0, 4) }]);
    await b.forward([{ seq: w, tokens: [1] }]);
    b.freeSequence(w);

    const s = b.createSequence();
    let t = performance.now();
    const [pl] = await b.forward([{ seq: s, tokens: prompt }]);
    const prefillMs = performance.now() - t;
    const steps: number[] = [];
    let tok = pl!.indexOf(Math.max(...pl!));
    for (let i = 0; i < D; i++) {
      t = performance.now();
      const [l] = await b.forward([{ seq: s, tokens: [tok] }]);
      steps.push(performance.now() - t);
      tok = l!.indexOf(Math.max(...l!));
    }
    b.truncateSequence(s, P);
    const gpuSteps: number[] = [];
    await b.sampleNext([{ seq: s, tokens: [tok] }], { temperature: 0 }); // compiles the sampler
    for (let i = 0; i < D; i++) {
      t = performance.now();
      [tok] = (await b.sampleNext([{ seq: s, tokens: [tok!] }], { temperature: 0 })) as [number];
      gpuSteps.push(performance.now() - t);
    }
    b.truncateSequence(s, P);
    const prof = await b.profileStep({ seq: s, token: 1 });
    b.truncateSequence(s, P);
    const wall = await b.profileStep({ seq: s, token: 1, timestamps: false });
    const result = {
      bench: 'webgpu',
      date: new Date().toISOString(),
      host: { platform: process.platform, arch: process.arch, cpus: os.cpus().length, loadavg: os.loadavg() },
      model: { name: c.name, nLayer: c.nLayer, nEmbd: c.nEmbd, nFf: c.nFf, vocab: c.vocabSize },
      backend: b.description,
      variant: b.variant,
      loadMs,
      prefill: { tokens: P, ms: prefillMs, tokPerS: (P * 1000) / prefillMs },
      decode: { tokens: D, msMedian: median(steps), tokPerS: 1000 / median(steps) },
      decodeGpuSampling: { tokens: D, msMedian: median(gpuSteps), tokPerS: 1000 / median(gpuSteps) },
      profile: profileSummary(prof),
      profileWallClock: profileSummary(wall),
      totalMs: performance.now() - t0,
    };
    log(`prefill ${P} tok: ${result.prefill.tokPerS.toFixed(1)} tok/s; decode ${result.decode.tokPerS.toFixed(2)} tok/s (median ${result.decode.msMedian.toFixed(1)} ms), with GPU sampling ${result.decodeGpuSampling.tokPerS.toFixed(2)} tok/s`);
    for (const [name, p] of [['timestamps', prof], ['wall-clock', wall]] as const) {
      log(`profile (${name}, ${p.source}${p.plausible ? '' : ', IMPLAUSIBLE: relative only'}): sum ${p.totalMs.toFixed(2)} ms, wall ${p.wallMs.toFixed(1)} ms`);
      for (const [k, v] of Object.entries(p.byKernel).sort((a, b) => b[1].ms - a[1].ms)) {
        log(`  ${k.padEnd(10)} ${v.ms.toFixed(3).padStart(9)} ms  ×${v.count}${v.gbPerS !== null ? `  ${v.gbPerS.toPrecision(3)} GB/s` : ''}`);
      }
    }
    const dir = o.outDir ?? fileURLToPath(new URL('./results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    const file = `${dir.replace(/\/$/, '')}/webgpu-${result.date.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    log(`wrote ${file}`);
    return result;
  } finally {
    await b.dispose();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  await runWebGPUBench({
    ...(opt('model') ? { model: opt('model')! } : {}),
    ...(opt('prompt') ? { promptTokens: Number(opt('prompt')) } : {}),
    ...(opt('decode') ? { decodeTokens: Number(opt('decode')) } : {}),
    ...(opt('out') ? { outDir: opt('out')! } : {}),
    plain: args.includes('--plain'),
  });
}
