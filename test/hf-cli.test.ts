/** `bitnet convert <dir> <out> --type …` end to end (spawned CLI, TypeScript sources through tsx). */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource } from '../src/model/byte-source.js';
import { unpackTernary } from '../src/model/formats/index.js';
import { openGGUF } from '../src/model/gguf.js';
import { type HFFixture, writeHFFixture } from '../src/model/hf-fixture.js';
import { loadModelWeights } from '../src/model/load-weights.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'bitnet.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, BITNET_CLI_SOURCE: '1' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

type Run = Awaited<ReturnType<typeof cli>>;
let root: string;
let fx: HFFixture;
let ok: Run;
let broken: Run;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bitnet-hfcli-'));
  fx = await writeHFFixture(join(root, 'ck'), { nLayer: 1, seed: 11, vocab: 300, nMerges: 20 });
  // Both processes at once: most of their time is the TypeScript loader starting up.
  [ok, broken] = await Promise.all([
    cli(['convert', fx.dir, join(root, 'model-tq2_0.gguf'), '--type', 'tq2_0']),
    cli(['convert', join(root, 'missing'), join(root, 'nope.gguf'), '--type', 'tq2_0']),
  ]);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('bitnet convert (spawned)', () => {
  it('converts a 2B-4T-layout checkpoint to a loadable TQ2_0 GGUF', async () => {
    const out = join(root, 'model-tq2_0.gguf');
    const r = ok;
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout]).toEqual([0, '']);
    const file = await openGGUF(await fileSource(out));
    const w = await loadModelWeights(file);
    expect(file.architecture).toBe('bitnet-b1.58');
    expect(file.tensor('blk.0.ffn_up.weight')!.type).toBe('TQ2_0');
    expect(Buffer.from(unpackTernary(w.layers[0]!.wUp)).equals(Buffer.from(fx.projections.find((p) => p.gguf === 'blk.0.ffn_up.weight')!.codes))).toBe(true);
    await file.close();
  });

  it('reports a broken checkpoint as one error line, exit 1, no output file', async () => {
    const out = join(root, 'nope.gguf');
    const r = broken;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bitnet: BAD_CHECKPOINT: [^\n]*config\.json not found\n$/);
    expect(existsSync(out)).toBe(false);
  });
});
