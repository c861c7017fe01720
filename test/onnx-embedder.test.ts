/**
 * The ONNX embedder on the real onnxruntime-web (wasm backend, Node) with the project's tiny model.
 * The first session compiles onnxruntime's ~14 MB wasm: seconds to tens of seconds on a busy machine,
 * hence the long beforeAll timeout; everything after that is fast.
 */
import { readFile } from 'node:fs/promises';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAbortError } from '../src/errors.js';
import { byteTokenizer } from '../src/embed/byte-tokenizer.js';
import { createOnnxEmbedder, type OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import type { OrtModule } from '../src/embed/ort-runtime.js';
import { startRangeServer, type RangeServer } from './helpers/cache-range-server.js';
import { onnxModel } from './helpers/onnx-proto.js';

const MODEL_PATH = 'models/tiny-embedder.onnx';
interface Golden { dim: number; tolerance: number; golden: { text: string; vector: number[] }[] }

// Type-level check: the real module satisfies the structural OrtModule the SDK declares.
const ort: OrtModule = ortWeb;
let golden: Golden;
let model: Uint8Array;
let server: RangeServer;
let embedder: OnnxEmbedder;

beforeAll(async () => {
  golden = JSON.parse(await readFile('models/tiny-embedder.golden.json', 'utf8')) as Golden;
  model = new Uint8Array(await readFile(MODEL_PATH));
  server = await startRangeServer({ '/tiny.onnx': model, '/page.html': new TextEncoder().encode('<html>not a model</html>') });
  embedder = await createOnnxEmbedder({ model: MODEL_PATH, tokenizer: byteTokenizer(), batchSize: 4 });
}, 180_000);
afterAll(async () => {
  await embedder?.dispose();
  await server?.close();
});

const cos = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i]!, 0);

describe('ONNX embedder on onnxruntime-web (Node, wasm)', () => {
  it('loads the tiny model from a path: 256 dims, its own pooled output', () => {
    expect(embedder).toMatchObject({ dimensions: golden.dim, outputName: 'sentence_embedding', pooling: 'model' });
    expect(embedder.id).toMatch(/^onnx:[0-9a-f]{16}:utf8-bytes:512$/);
  });

  it('reproduces the Python golden vectors within 1e-5, batched with padding', async () => {
    expect(golden.tolerance).toBe(1e-5);
    const texts = golden.golden.map((g) => g.text);
    const vectors = await embedder.embed(texts); // 11 texts of 0..270 bytes → 3 padded batches of ≤ 4
    let worst = 0;
    golden.golden.forEach((g, i) => {
      expect(vectors[i]!.length).toBe(golden.dim);
      g.vector.forEach((v, d) => (worst = Math.max(worst, Math.abs(vectors[i]![d]! - v))));
    });
    expect(worst).toBeLessThanOrEqual(golden.tolerance);
    // Normalised, except the texts without letters or digits ("" and "...!!!   "), which are zero.
    const norms = vectors.map((v) => Math.sqrt(cos(v, v)));
    texts.forEach((t, i) => expect(norms[i]).toBeCloseTo(/[a-z0-9]/i.test(t) ? 1 : 0, 5));
    // One text alone gives the same vector as inside a padded batch.
    const [alone] = await embedder.embed([texts[0]!]);
    expect(Array.from(alone!)).toEqual(Array.from(vectors[0]!));
  });

  it('scores a paraphrase above an unrelated prompt', async () => {
    const [q, para, other] = await embedder.embed(['What is the capital of France?', "what's the capital city of France", 'How do I reverse a list in Python?']);
    expect(cos(q!, para!)).toBeGreaterThan(0.6);
    expect(cos(q!, other!)).toBeLessThan(0.35);
    expect(cos(q!, para!) - cos(q!, other!)).toBeGreaterThan(0.3);
  });

  it('loads over HTTP, with typed errors for 404, refused connections, non-models and wrong interfaces', async () => {
    const remote = await createOnnxEmbedder({ model: server.url('/tiny.onnx'), tokenizer: byteTokenizer(), ort });
    expect(remote.id).toBe(embedder.id);
    expect(Array.from((await remote.embed(['hello']))[0]!)).toEqual(Array.from((await embedder.embed(['hello']))[0]!));
    await remote.dispose();
    await expect(remote.embed(['x'])).rejects.toMatchObject({ code: 'DISPOSED' });

    const tk = byteTokenizer();
    await expect(createOnnxEmbedder({ model: server.url('/missing.onnx'), tokenizer: tk })).rejects.toMatchObject({ code: 'HTTP_STATUS', details: { status: 404 } });
    await expect(createOnnxEmbedder({ model: 'http://127.0.0.1:9/tiny.onnx', tokenizer: tk })).rejects.toMatchObject({ code: 'NETWORK' });
    await expect(createOnnxEmbedder({ model: server.url('/page.html'), tokenizer: tk })).rejects.toMatchObject({ code: 'BAD_ONNX_MODEL' });
    await expect(createOnnxEmbedder({ model: 'models/missing.onnx', tokenizer: tk })).rejects.toMatchObject({ code: 'IO' });
    await expect(createOnnxEmbedder({ model: Uint8Array.from({ length: 64 }, (_, i) => (i * 37) & 255), tokenizer: tk })).rejects.toMatchObject({ code: 'BAD_ONNX_MODEL' });
    // Well-formed protobuf whose graph is garbage: passes the structural check, onnxruntime refuses it.
    await expect(createOnnxEmbedder({ model: new Uint8Array([0x08, 0x08, 0x3a, 0x03, 0xff, 0xff, 0xff]), tokenizer: tk })).rejects.toMatchObject({ code: 'BAD_ONNX_MODEL' });
    // Valid models with another input name / type (output checks: test/onnx-embedder-fake.test.ts).
    const idOut = [{ op: 'Identity', inputs: ['tokens'], outputs: ['y'] }];
    const renamed = onnxModel([{ name: 'tokens', type: 'int64', shape: ['b', 's'] }], [{ name: 'y', type: 'int64', shape: ['b', 's'] }], idOut);
    await expect(createOnnxEmbedder({ model: renamed, tokenizer: tk })).rejects.toMatchObject({ code: 'MODEL_IO_MISMATCH', details: { inputs: ['tokens'] } });
    const int32 = onnxModel([{ name: 'input_ids', type: 'int32', shape: ['b', 's'] }], [{ name: 'y', type: 'int32', shape: ['b', 's'] }], [{ op: 'Identity', inputs: ['input_ids'], outputs: ['y'] }]);
    await expect(createOnnxEmbedder({ model: int32, tokenizer: tk })).rejects.toMatchObject({ code: 'MODEL_IO_MISMATCH' });
  });

  it('honours aborted signals when loading and embedding', async () => {
    const load = await createOnnxEmbedder({ model: MODEL_PATH, tokenizer: byteTokenizer(), signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(isAbortError(load)).toBe(true);
    const run = await embedder.embed(['hello'], AbortSignal.abort()).catch((e: unknown) => e);
    expect(isAbortError(run)).toBe(true);
    expect((await embedder.embed(['hello']))[0]!.length).toBe(golden.dim);
  });
});
