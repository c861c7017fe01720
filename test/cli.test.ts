/**
 * End-to-end tests of the `bitnet` command: spawns `node bin/bitnet.js` (TypeScript sources through
 * tsx) on a small fixture GGUF and cross-checks its output with in-process computation.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture } from '../src/model/fixtures.js';
import { loadModel, type LoadedModel } from '../src/model/load-model.js';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { topLogits } from '../src/cli/commands/logits.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'bitnet.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, BITNET_CLI_SOURCE: '1' }, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let model: string;
let loaded: LoadedModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bitnet-cli-'));
  model = join(dir, 'fixture.gguf');
  await writeFile(model, await makeFixture({ nEmbd: 64, nHead: 4, nHeadKv: 2, nFf: 128, nLayer: 2, vocab: 384, nMerges: 100, seed: 5 }));
  loaded = await loadModel(model, { onWarning: () => {} });
});

afterAll(async () => {
  await loaded?.file.close();
  await rm(dir, { recursive: true, force: true });
});

describe('bitnet CLI (spawned)', () => {
  it('generate --json: exact schema, greedy tokens match an in-process run', async () => {
    const r = await cli(['generate', '--model', model, '--prompt-tokens', '1,2,3', '--max-tokens', '6', '--temperature', '0', '--backend', 'reference', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['backend', 'promptTokens', 'stats', 'text', 'tokens']);
    expect(Object.keys(out['stats'] as object).sort()).toEqual(['decodeTokensPerS', 'generatedTokens', 'prefillTokensPerS', 'promptTokens', 'ttftMs']);
    expect(out['backend']).toBe('reference');
    expect(out['promptTokens']).toEqual([1, 2, 3]);
    const tokens = out['tokens'] as number[];
    const stats = out['stats'] as Record<string, number>;
    expect(stats['promptTokens']).toBe(3);
    expect(stats['generatedTokens']).toBe(tokens.length);
    for (const k of ['ttftMs', 'prefillTokensPerS', 'decodeTokensPerS']) expect(typeof stats[k]).toBe('number');
    expect(typeof out['text']).toBe('string');

    // Greedy replay in process.
    const b = new ReferenceBackend(loaded.weights);
    const seq = b.createSequence();
    let logits = (await b.forward([{ seq, tokens: [1, 2, 3] }]))[0]!;
    const want: number[] = [];
    while (want.length < 6) {
      const id = topLogits(logits, 1)[0]![0];
      want.push(id);
      if (loaded.tokenizer.stopIds.has(id)) break;
      logits = (await b.forward([{ seq, tokens: [id] }]))[0]!;
    }
    expect(tokens).toEqual(want);
    expect(out['text']).toBe(loaded.tokenizer.decode(want.filter((t) => !loaded.tokenizer.stopIds.has(t)), { skipSpecial: true }));
  });

  it('generate streams the same text as --json for the same seed', async () => {
    const args = ['generate', '--model', model, '--prompt', 'Once upon a time', '--max-tokens', '8', '--temperature', '0.9', '--seed', '42'];
    const [plain, json] = await Promise.all([cli(args), cli([...args, '--json'])]);
    expect(plain.code).toBe(0);
    expect(json.code).toBe(0);
    const j = JSON.parse(json.stdout) as { text: string; promptTokens: number[] };
    expect(plain.stdout).toBe(j.text);
    expect(j.promptTokens).toEqual(loaded.tokenizer.encode('Once upon a time', { parseSpecial: true }));
  });

  it('logits --top prints the largest last-position logits', async () => {
    const r = await cli(['logits', '--model', model, '--prompt-tokens', '5,6,7', '--top', '4', '--backend', 'reference']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { top: Array<[number, number]> };
    expect(Object.keys(out)).toEqual(['top']);
    const b = new ReferenceBackend(loaded.weights);
    const [logits] = await b.forward([{ seq: b.createSequence(), tokens: [5, 6, 7] }]);
    expect(out.top).toEqual(topLogits(logits!, 4));
  });

  it('inspect prints the GGUF summary', async () => {
    const r = await cli(['inspect', model]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { architecture: string; tensorCount: number; config: { nEmbd: number } };
    expect(out.architecture).toBe('bitnet-b1.58');
    expect(out.tensorCount).toBe(loaded.file.tensors.length);
    expect(out.config.nEmbd).toBe(64);
  });

  it('tokenize --json-input: id arrays in order; BOS and special parsing only when asked', async () => {
    const texts = ['Hello, world!', '', 'the little girl<|eot_id|>'];
    const input = join(dir, 'texts.json');
    await writeFile(input, JSON.stringify(texts));
    const [plain, bos, special] = await Promise.all([
      cli(['tokenize', '--model', model, '--json-input', input]),
      cli(['tokenize', '--model', model, '--json-input', input, '--bos']),
      cli(['tokenize', '--model', model, '--text', texts[2]!, '--parse-special']),
    ]);
    const tok = loaded.tokenizer;
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toEqual(texts.map((t) => tok.encode(t, { addBos: false, parseSpecial: false })));
    expect(JSON.parse(bos.stdout)).toEqual(texts.map((t) => [tok.bosId, ...tok.encode(t, { addBos: false })]));
    const ids = JSON.parse(special.stdout) as number[];
    expect(ids[ids.length - 1]).toBe(tok.eotId);
    expect((JSON.parse(plain.stdout) as number[][])[2]).not.toContain(tok.eotId);
  });

  it('errors: one line on stderr, non-zero exit', async () => {
    const convertMissing = !existsSync(join(ROOT, 'src', 'model', 'hf-convert.ts'));
    const runs = await Promise.all([
      cli(['generate', '--model', model, '--prompt', 'x', '--nope']),
      cli(['generate', '--model', join(dir, 'missing.gguf'), '--prompt', 'x']),
      cli(['logits', '--model', model, '--prompt-tokens', '1', '--backend', 'cuda']),
      cli(['logits', '--model', model, '--prompt-tokens', '99999']),
      convertMissing ? cli(['convert', dir, join(dir, 'out.gguf')]) : Promise.resolve(null),
    ]);
    const expectations: Array<[number, string]> = [[2, 'BAD_OPTION'], [1, 'IO'], [2, 'BAD_OPTION'], [1, 'BAD_INPUT'], [1, 'FEATURE_UNAVAILABLE']];
    runs.forEach((r, i) => {
      if (!r) return;
      const [code, name] = expectations[i]!;
      expect(r.code, r.stderr).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^bitnet: ${name}: [^\\n]+\\n$`));
    });
  });
});
