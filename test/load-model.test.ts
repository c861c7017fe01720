import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFixture } from '../src/model/fixtures.js';
import { loadModel, resolveModelSource, type LoadedModel } from '../src/model/load-model.js';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { generateText } from '../src/runtime/generate.js';

let dir: string;
let path: string;
let bytes: Uint8Array;
let model: LoadedModel;
const quiet = { onWarning: (): void => {} };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bitnet-load-'));
  path = join(dir, 'm.gguf');
  bytes = await makeFixture({ nEmbd: 64, nHead: 4, nHeadKv: 1, nFf: 128, nLayer: 1, vocab: 384, nMerges: 100, seed: 9 });
  await writeFile(path, bytes);
  model = await loadModel(path, quiet);
});

afterAll(async () => {
  await model?.file.close();
  await rm(dir, { recursive: true, force: true });
});

describe('loadModel', () => {
  it('loads from a path, file URL, bytes, ArrayBuffer and Blob alike', async () => {
    expect(model.config.nHeadKv).toBe(1);
    expect(model.weights.config).toBe(model.config);
    expect(model.tokenizer.vocabSize).toBe(384);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    for (const src of [pathToFileURL(path), pathToFileURL(path).href, bytes, ab, new Blob([ab])]) {
      const m = await loadModel(src, quiet);
      expect(m.config).toEqual(model.config);
      expect(m.weights.layers[0]!.wq.packed).toEqual(model.weights.layers[0]!.wq.packed);
      await m.file.close();
    }
  });

  it("resolves 'default' to the embedded model file", () => {
    const p = resolveModelSource('default');
    expect(typeof p).toBe('string');
    expect(p as string).toMatch(/models[\\/]bitnet-kjv\.gguf$/);
    expect(existsSync(p as string)).toBe(true);
    expect(resolveModelSource('x.gguf')).toBe('x.gguf');
  });

  it('reports typed errors for missing files and non-GGUF bytes', async () => {
    await expect(loadModel(join(dir, 'nope.gguf'), quiet)).rejects.toMatchObject({ code: 'IO' });
    await expect(loadModel(new Uint8Array(64), quiet)).rejects.toMatchObject({ code: 'BAD_MAGIC' });
    const ac = new AbortController();
    ac.abort();
    await expect(loadModel(path, { ...quiet, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('generate with a real tokenizer', () => {
  it('a stop string taken from the greedy output cuts the text right before it', async () => {
    const b = new ReferenceBackend(model.weights);
    const base = { prompt: 'The little girl', maxTokens: 24, temperature: 0 } as const;
    const full = await generateText(b, model.tokenizer, base);
    expect(full.tokenIds.length).toBeGreaterThan(0);
    expect(full.text.length, "fixture output too short for this test").toBeGreaterThanOrEqual(6);
    const stop = full.text.slice(3, 6);
    const cut = await generateText(b, model.tokenizer, { ...base, stop: [stop] });
    expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
    expect(cut.stats.finishReason).toBe('stop');
    expect(cut.promptTokens).toEqual(model.tokenizer.encode('The little girl', { parseSpecial: true }));
  });
});
