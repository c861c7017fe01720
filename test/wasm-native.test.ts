/**
 * Cross-check: the same kernel C (wasm/ternary.c, wasm/quant.c) compiled natively with gcc -msse4.1
 * through wasm/test/harness.c must print exactly the accumulators / quantization codes of the
 * TypeScript reference kernels — so the SSE source is right independently of emcc's translation.
 * Skipped (with a note) where gcc is not installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { quantizeActivations, ternaryAccumulate } from '../src/backends/reference/kernels.js';
import { randomTernary, rng } from './wasm-utils.js';

const wasmDir = fileURLToPath(new URL('../wasm/', import.meta.url));
const hasGcc = spawnSync('gcc', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'bn-native-'));
const exe = join(dir, 'harness');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function harness(input: string): string[] {
  return execFileSync(exe, { input, maxBuffer: 64 << 20 }).toString().trim().split('\n');
}

describe.skipIf(!hasGcc)('native gcc build of the kernel C', () => {
  it('compiles with -msse4.1', () => {
    execFileSync('gcc', ['-O2', '-msse4.1', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-o', exe,
      join(wasmDir, 'test/harness.c'), join(wasmDir, 'ternary.c'), join(wasmDir, 'quant.c')]);
  });

  it('ternary accumulators (GEMV/GEMM, per-tensor and per-block) equal ternaryAccumulate', () => {
    const r = rng(77);
    const shapes: [number, number, number][] = [[3, 16, 0], [5, 100, 0], [9, 300, 0], [4, 256, 64], [7, 1000, 256], [6, 2560, 256], [2, 6912, 0]];
    for (const [rows, cols, sb] of shapes) {
      const m = randomTernary(r, rows, cols, sb);
      for (const nTok of [1, 3, 6]) {
        const qs = Array.from({ length: nTok }, () => new Int8Array(cols).map(() => Math.floor(r() * 256) - 128));
        const input = `acc ${rows} ${cols} ${sb} ${nTok} ${Array.from(m.packed).join(' ')} ${qs.map((q) => Array.from(q).join(' ')).join(' ')}\n`;
        const lines = harness(input);
        qs.forEach((q, t) => expect(lines[t], `${rows}x${cols} sb=${sb} t=${t}`).toBe(Array.from(ternaryAccumulate(m, q)).join(' ')));
      }
    }
  });

  it('activation quantization equals quantizeActivations (codes, scale bits, Σq)', () => {
    const r = rng(78);
    for (const n of [5, 64, 100, 2560]) {
      const xs = [
        new Float32Array(n).map(() => Math.fround((r() - 0.5) * 7)),
        new Float32Array(n).map(() => Math.floor(r() * 200 - 100) + 0.5),
        new Float32Array(n).map(() => Math.fround(r() * 1e-8)),
      ];
      xs[1]![0] = 127;
      const bits = xs.map((x) => Array.from(new Uint32Array(x.buffer)).join(' ')).join(' ');
      const lines = harness(`quant ${n} ${xs.length} ${bits}\n`);
      xs.forEach((x, t) => {
        const w = quantizeActivations(x);
        const sBits = new Uint32Array(Float32Array.of(w.scale).buffer)[0];
        expect(lines[t]).toBe(`${sBits} ${w.sum} ${Array.from(w.q).join(' ')}`);
      });
    }
  });
});
