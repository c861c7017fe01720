/**
 * `bitnet generate --backend wasm` (spawned CLI, TypeScript sources through tsx) produces the
 * same greedy tokens as the reference backend in process.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { makeFixture } from '../src/model/fixtures.js';
import { loadModel } from '../src/model/load-model.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bitnet-wasm-cli-'));
  model = join(dir, 'fixture.gguf');
  await writeFile(model, await makeFixture({ nEmbd: 128, nHead: 4, nHeadKv: 2, nFf: 256, nLayer: 2, vocab: 384, nMerges: 100, seed: 9 }));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin', 'bitnet.js'), ...args], { cwd: ROOT, env: { ...process.env, BITNET_CLI_SOURCE: '1' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('CLI --backend wasm', () => {
  it('generates the reference greedy tokens', async () => {
    const r = await cli(['generate', '--model', model, '--prompt-tokens', '1,2,3,4', '--max-tokens', '8', '--temperature', '0', '--backend', 'wasm', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { backend: string; tokens: number[] };
    expect(out.backend).toBe('wasm');
    const m = await loadModel(model, { onWarning: () => {} });
    try {
      const b = new ReferenceBackend(m.weights);
      const s = b.createSequence();
      let [logits] = await b.forward([{ seq: s, tokens: [1, 2, 3, 4] }]);
      const want: number[] = [];
      for (let i = 0; i < out.tokens.length; i++) {
        const t = logits!.reduce((bi, x, j) => (x > logits![bi]! ? j : bi), 0);
        want.push(t);
        [logits] = await b.forward([{ seq: s, tokens: [t] }]);
      }
      expect(out.tokens).toEqual(want);
    } finally {
      await m.file.close();
    }
  });
});
