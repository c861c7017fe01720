import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAbortError } from '../src/errors.js';
import { createEngine } from '../src/index.js';
import { makeFixture } from '../src/model/fixtures.js';
import { functionEmbedder } from '../src/embed/embedder.js';
import { checkOnnxModel } from '../src/embed/onnx-check.js';
import { poolRows } from '../src/embed/onnx-pooling.js';
import { loadOrt } from '../src/embed/ort-runtime.js';
import { readAllBytes } from '../src/embed/read-bytes.js';
import { startRangeServer, type RangeServer } from './helpers/cache-range-server.js';
import { onnxModel } from './helpers/onnx-proto.js';

const MODEL_PATH = 'models/tiny-embedder.onnx';
let server: RangeServer;
let model: Uint8Array;

beforeAll(async () => {
  model = new Uint8Array(await readFile(MODEL_PATH));
  server = await startRangeServer({ '/m.onnx': model });
});
afterAll(async () => {
  await server?.close();
});

describe('readAllBytes', () => {
  it('reads bytes, paths, file: URLs and http URLs to the same content', async () => {
    const view = await readAllBytes(model.subarray(4), 'x'); // bytes are used in place, not copied
    expect(view.buffer).toBe(model.buffer);
    expect([view.byteOffset, view.byteLength]).toEqual([model.byteOffset + 4, model.byteLength - 4]);
    for (const src of [MODEL_PATH, pathToFileURL(MODEL_PATH), server.url('/m.onnx'), new URL(server.url('/m.onnx'))]) {
      expect(Buffer.from(await readAllBytes(src, 'embedder model')).equals(Buffer.from(model))).toBe(true);
    }
  });

  it('reports each failure with its code', async () => {
    await expect(readAllBytes('models/no-such.onnx', 'm')).rejects.toMatchObject({ code: 'IO', details: { errno: 'ENOENT' } });
    await expect(readAllBytes(server.url('/missing.onnx'), 'm')).rejects.toMatchObject({ code: 'HTTP_STATUS', details: { status: 404 } });
    await expect(readAllBytes('http://127.0.0.1:9/m.onnx', 'm')).rejects.toMatchObject({ code: 'NETWORK' });
    await expect(readAllBytes('ftp://example.com/m.onnx', 'm')).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(readAllBytes('', 'm')).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(readAllBytes(42 as unknown as string, 'm')).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });

  it('honours an aborted signal for downloads and files', async () => {
    for (const src of [server.url('/m.onnx'), MODEL_PATH]) {
      const e = await readAllBytes(src, 'm', { signal: AbortSignal.abort() }).catch((x: unknown) => x);
      expect(isAbortError(e)).toBe(true);
    }
  });
});

describe('checkOnnxModel', () => {
  it('accepts ONNX models and reports the IR version', () => {
    expect(checkOnnxModel(model).irVersion).toBeGreaterThan(3);
    const tiny = onnxModel([{ name: 'x', type: 'float', shape: [1] }], [{ name: 'y', type: 'float', shape: [1] }], [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }]);
    expect(checkOnnxModel(tiny)).toMatchObject({ irVersion: 8 });
  });

  it('rejects non-models with BAD_ONNX_MODEL', () => {
    const cases = [
      new Uint8Array(0),
      new TextEncoder().encode('<!doctype html><title>404</title>'),
      new TextEncoder().encode('GGUF\u0003\u0000\u0000\u0000'),
      model.subarray(0, model.length - 10), // truncated: the graph runs past the end
      new Uint8Array([0x08, 0x08]), // an ir_version and nothing else: no graph
      new Uint8Array([0x38, 0x01]), // graph field with a varint wire type
      Uint8Array.from({ length: 256 }, (_, i) => (i * 151 + 7) & 255),
    ];
    for (const bytes of cases) expect(() => checkOnnxModel(bytes)).toThrow(expect.objectContaining({ code: 'BAD_ONNX_MODEL' }));
  });
});

describe('onnxruntime loading', () => {
  it('gives FEATURE_UNAVAILABLE when onnxruntime-web cannot be imported', async () => {
    const missing = () => Promise.reject(new Error("Cannot find package 'onnxruntime-web'"));
    await expect(loadOrt({ importOrt: missing })).rejects.toMatchObject({ code: 'FEATURE_UNAVAILABLE', details: { package: 'onnxruntime-web' } });
    await expect(loadOrt({ importOrt: () => Promise.resolve({ default: {} }) })).rejects.toMatchObject({ code: 'FEATURE_UNAVAILABLE' });
    await expect(loadOrt({ ort: {} as never })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});

describe('poolRows', () => {
  it('mean-pools token states over each row\'s own tokens, then normalises', () => {
    // batch 2, seq 3, dim 2; row 0 has 2 tokens, row 1 has 3.
    const data = Float32Array.from([1, 0, 3, 0, 100, 100, 0, 1, 0, 2, 0, 3]);
    const [a, b] = poolRows({ type: 'float32', dims: [2, 3, 2], data }, 'last_hidden_state', [2, 3], 3);
    expect(Array.from(a!)).toEqual([1, 0]); // the padding row (100, 100) is ignored
    expect(Array.from(b!)).toEqual([0, 1]);
    const [c] = poolRows({ type: 'float32', dims: [1, 2], data: Float32Array.from([3, 4]) }, 'sentence_embedding', [5], 5);
    expect(Array.from(c!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });

  it('rejects outputs of another type or shape with MODEL_IO_MISMATCH', () => {
    const err = expect.objectContaining({ code: 'MODEL_IO_MISMATCH' });
    expect(() => poolRows({ type: 'int64', dims: [1, 2], data: new BigInt64Array(2) }, 'y', [1], 1)).toThrow(err);
    expect(() => poolRows({ type: 'float32', dims: [2], data: new Float32Array(2) }, 'y', [1], 1)).toThrow(err);
    expect(() => poolRows({ type: 'float32', dims: [1, 4, 2], data: new Float32Array(8) }, 'y', [1], 3)).toThrow(err);
    expect(() => poolRows({ type: 'float32', dims: [3, 2], data: new Float32Array(6) }, 'y', [1], 1)).toThrow(err);
  });
});

describe('functionEmbedder', () => {
  it('wraps a one-text function: order kept, vectors normalised, aborts and errors passed on', async () => {
    const seen: string[] = [];
    const e = functionEmbedder('fn:test', 2, async (t) => {
      seen.push(t);
      if (t === 'boom') throw Object.assign(new Error('bad'), { name: 'BitNetError', code: 'BAD_INPUT' });
      return Float32Array.from([t.length, 0]).map((v, i) => (i === 1 ? 2 * t.length : v));
    });
    expect(e).toMatchObject({ id: 'fn:test', dimensions: 2 });
    const [x, y] = await e.embed(['ab', 'abcd']);
    expect(Array.from(x!)).toEqual([Math.fround(1 / Math.sqrt(5)), Math.fround(2 / Math.sqrt(5))]);
    expect(Array.from(y!)).toEqual(Array.from(x!));
    expect(seen).toEqual(['ab', 'abcd']);
    const aborted = await e.embed(['x'], AbortSignal.abort()).catch((z: unknown) => z);
    expect(isAbortError(aborted)).toBe(true);
    expect(seen).toEqual(['ab', 'abcd']);
    await expect(e.embed(['ok', 'boom'])).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });
});

describe('functionEmbedder over engine.embed', () => {
  it('gives unit vectors of the model width; the same text gives the same vector', async () => {
    const fixture = await makeFixture({ seed: 3, nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 300, contextLength: 32 });
    const engine = await createEngine({ model: fixture, backend: 'reference', worker: false, cache: false });
    try {
      const e = functionEmbedder('model:fixture', engine.model.nEmbd, (t) => engine.embed(t));
      const [a, b, c] = await e.embed(['in the beginning', 'and the earth', 'in the beginning']);
      expect(a!.length).toBe(64);
      for (const v of [a!, b!]) expect(Math.sqrt(v.reduce((s, x) => s + x * x, 0))).toBeCloseTo(1, 5);
      expect(Array.from(c!)).toEqual(Array.from(a!));
      expect(Array.from(b!)).not.toEqual(Array.from(a!));
      const raw = await engine.embed('and the earth'); // already unit length: the wrapper keeps it as is
      raw.forEach((x, i) => expect(b![i]).toBeCloseTo(x, 6));
    } finally {
      await engine.dispose();
    }
  });
});
