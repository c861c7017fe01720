/**
 * Measures how well each embedder separates paraphrases from non-paraphrases on bench/paraphrases.json
 * and picks a default cosine threshold for the semantic result cache.
 *
 *   node --import tsx bench/semantic-threshold.ts [--out bench/results] [--no-write] [--backend wasm]
 *
 * Embedders: the default model's `engine.embed` (mean-pooled final hidden state, via
 * `functionEmbedder`; createEngine in Node, no worker, no model cache) and the tiny ONNX embedder
 * (models/tiny-embedder.onnx on onnxruntime-web with the byte tokenizer).
 *
 * For every threshold t on a 0.01 grid from 0 to 1: hit rate = paraphrase pairs with similarity ≥ t
 * (served from the cache, correctly), false-hit rate = non-paraphrase pairs with similarity ≥ t
 * (served, wrongly), also split into near-miss and unrelated pairs. Recommended threshold: the lowest
 * grid value with no false hit on the set. Also reported: ROC AUC (probability that a random
 * paraphrase pair scores above a random non-paraphrase pair) and embedding time per text.
 * Prints a table, writes the full result as JSON (bench/results/semantic-threshold-<time>.json).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createEngine } from '../src/index.js';
import { byteTokenizer } from '../src/embed/byte-tokenizer.js';
import { functionEmbedder, type Embedder } from '../src/embed/embedder.js';
import { createOnnxEmbedder } from '../src/embed/onnx-embedder.js';
import type { BackendChoice } from '../src/backends/registry.js';

interface Pair { a: string; b: string; paraphrase: boolean; kind: 'paraphrase' | 'near-miss' | 'unrelated'; domain?: string }

export interface ThresholdRow { threshold: number; hitRate: number; falseHitRate: number; nearMissFalseHitRate: number; unrelatedFalseHitRate: number }

export interface EmbedderReport {
  embedder: string;
  id: string;
  dimensions: number;
  msPerText: number;
  auc: number;
  similarity: Record<Pair['kind'], { min: number; mean: number; max: number }>;
  /** Lowest grid threshold with 0 false hits, and the hit rate there. */
  recommended: { threshold: number; hitRate: number };
  grid: ThresholdRow[];
  pairs: { a: string; b: string; kind: string; similarity: number }[];
}

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

async function measure(name: string, embedder: Embedder, pairs: readonly Pair[]): Promise<EmbedderReport> {
  const texts = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const t0 = performance.now();
  const vectors = await embedder.embed(texts);
  const msPerText = (performance.now() - t0) / texts.length;
  const byText = new Map(texts.map((t, i) => [t, vectors[i]!]));
  const scored = pairs.map((p) => ({ ...p, similarity: dot(byText.get(p.a)!, byText.get(p.b)!) }));
  const pos = scored.filter((p) => p.paraphrase).map((p) => p.similarity);
  const neg = scored.filter((p) => !p.paraphrase);
  const rate = (xs: readonly number[], t: number): number => (xs.length ? xs.filter((s) => s >= t).length / xs.length : 0);
  const negOf = (kind?: Pair['kind']): number[] => neg.filter((p) => kind === undefined || p.kind === kind).map((p) => p.similarity);
  const grid: ThresholdRow[] = [];
  for (let k = 0; k <= 100; k++) {
    const t = k / 100;
    grid.push({ threshold: t, hitRate: round(rate(pos, t)), falseHitRate: round(rate(negOf(), t)), nearMissFalseHitRate: round(rate(negOf('near-miss'), t)), unrelatedFalseHitRate: round(rate(negOf('unrelated'), t)) });
  }
  const safe = grid.find((r) => r.falseHitRate === 0) ?? grid[grid.length - 1]!;
  let wins = 0;
  for (const p of pos) for (const n of negOf()) wins += p > n ? 1 : p === n ? 0.5 : 0;
  const stats = (kind: Pair['kind']) => {
    const xs = scored.filter((p) => p.kind === kind).map((p) => p.similarity);
    return { min: round(Math.min(...xs)), mean: round(xs.reduce((s, x) => s + x, 0) / xs.length), max: round(Math.max(...xs)) };
  };
  return {
    embedder: name,
    id: embedder.id,
    dimensions: embedder.dimensions,
    msPerText: round(msPerText, 3),
    auc: round(wins / (pos.length * negOf().length)),
    similarity: { paraphrase: stats('paraphrase'), 'near-miss': stats('near-miss'), unrelated: stats('unrelated') },
    recommended: { threshold: safe.threshold, hitRate: safe.hitRate },
    grid,
    pairs: scored.map((p) => ({ a: p.a, b: p.b, kind: p.kind, similarity: round(p.similarity) })),
  };
}

function table(r: EmbedderReport): string {
  const shown = new Set([0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, r.recommended.threshold]);
  const lines = [`${r.embedder} (${r.id}, ${r.dimensions} dims, ${r.msPerText} ms/text, AUC ${r.auc})`, '  threshold  hit   false-hit  (near-miss / unrelated)'];
  for (const g of r.grid.filter((x) => shown.has(x.threshold))) {
    const mark = g.threshold === r.recommended.threshold ? '  <- lowest with 0 false hits' : '';
    lines.push(`  ${g.threshold.toFixed(2).padStart(9)}  ${g.hitRate.toFixed(2)}  ${g.falseHitRate.toFixed(2).padStart(9)}  (${g.nearMissFalseHitRate.toFixed(2)} / ${g.unrelatedFalseHitRate.toFixed(2)})${mark}`);
  }
  const s = r.similarity;
  lines.push(`  similarity min/mean/max: paraphrase ${s.paraphrase.min}/${s.paraphrase.mean}/${s.paraphrase.max}, near-miss ${s['near-miss'].min}/${s['near-miss'].mean}/${s['near-miss'].max}, unrelated ${s.unrelated.min}/${s.unrelated.mean}/${s.unrelated.max}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const outDir = arg('--out') ?? 'bench/results';
  const backend = (arg('--backend') ?? 'wasm') as BackendChoice;
  const set = JSON.parse(readFileSync(new URL('./paraphrases.json', import.meta.url), 'utf8')) as { pairs: Pair[] };
  const reports: EmbedderReport[] = [];

  const engine = await createEngine({ backend, worker: false, cache: false, onWarning: () => undefined });
  try {
    const model = engine.model;
    const dims = (await engine.embed('probe')).length;
    const fn = functionEmbedder(`model:${model.fingerprint ?? model.name}`, dims, (t) => engine.embed(t));
    reports.push(await measure(`engine.embed (default model ${model.name}, ${engine.backend})`, fn, set.pairs));
  } finally {
    await engine.dispose();
  }
  const onnx = await createOnnxEmbedder({ model: new URL('../models/tiny-embedder.onnx', import.meta.url), tokenizer: byteTokenizer() });
  try {
    await onnx.embed(['warm up']);
    reports.push(await measure('tiny ONNX embedder (models/tiny-embedder.onnx, onnxruntime-web wasm)', onnx, set.pairs));
  } finally {
    await onnx.dispose();
  }

  const counts = { pairs: set.pairs.length, paraphrase: set.pairs.filter((p) => p.paraphrase).length, nearMiss: set.pairs.filter((p) => p.kind === 'near-miss').length, unrelated: set.pairs.filter((p) => p.kind === 'unrelated').length };
  const result = { date: new Date().toISOString(), node: process.version, set: counts, reports };
  console.log(`paraphrase set: ${counts.pairs} pairs (${counts.paraphrase} paraphrase, ${counts.nearMiss} near-miss, ${counts.unrelated} unrelated)\n`);
  for (const r of reports) console.log(table(r) + '\n');
  if (!args.includes('--no-write')) {
    mkdirSync(outDir, { recursive: true });
    const file = `${outDir}/semantic-threshold-${result.date.replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
    console.log(`wrote ${file}`);
  }
}

await main();
