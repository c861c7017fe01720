/**
 * The ONNX embedder's own logic (feeds, padding, output choice, pooling, batching, run serialisation,
 * aborts, disposal) against a scripted stand-in for onnxruntime, so these run without the 14 MB wasm.
 * test/onnx-embedder.test.ts runs the real onnxruntime-web.
 */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/cache/sha256.js';
import { isAbortError } from '../src/errors.js';
import { byteTokenizer } from '../src/embed/byte-tokenizer.js';
import { createOnnxEmbedder } from '../src/embed/onnx-embedder.js';
import type { OrtModule, OrtSession, OrtTensor, OrtValueMetadata } from '../src/embed/ort-runtime.js';
import type { EmbeddingTokenizer } from '../src/embed/text-tokenizer.js';
import { onnxModel } from './helpers/onnx-proto.js';

const MODEL = onnxModel([{ name: 'x', type: 'float', shape: [1] }], [{ name: 'y', type: 'float', shape: [1] }], [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }]);
const DIM = 4;

class FakeTensor implements OrtTensor {
  constructor(readonly type: string, readonly data: BigInt64Array | Float32Array, readonly dims: readonly number[]) {}
}

interface Script {
  inputNames?: string[];
  outputNames?: string[];
  inputMetadata?: OrtValueMetadata[];
  delayMs?: number;
  createError?: Error;
  /** Output per feeds; default: last_hidden_state[b, t, :] = one-hot(id mod DIM) + typeId in the last slot. */
  respond?: (feeds: Record<string, OrtTensor>) => Record<string, OrtTensor>;
}

function tokenStates(feeds: Record<string, OrtTensor>): OrtTensor {
  const [n, seq] = feeds.input_ids!.dims as [number, number];
  const ids = feeds.input_ids!.data as BigInt64Array;
  const types = feeds.token_type_ids?.data as BigInt64Array | undefined;
  const out = new Float32Array(n * seq * DIM);
  for (let i = 0; i < n * seq; i++) {
    out[i * DIM + (Number(ids[i]) % DIM)] = 1;
    if (types) out[i * DIM + DIM - 1]! += Number(types[i]);
  }
  return new FakeTensor('float32', out, [n, seq, DIM]);
}

function fakeOrt(script: Script = {}) {
  const log = { runs: [] as Record<string, OrtTensor>[], active: 0, maxActive: 0, released: 0, created: 0 };
  const session: OrtSession = {
    inputNames: script.inputNames ?? ['input_ids', 'attention_mask', 'token_type_ids'],
    outputNames: script.outputNames ?? ['last_hidden_state'],
    ...(script.inputMetadata ? { inputMetadata: script.inputMetadata } : {}),
    async run(feeds) {
      log.runs.push(feeds);
      log.active++;
      log.maxActive = Math.max(log.maxActive, log.active);
      await new Promise((r) => setTimeout(r, script.delayMs ?? 0));
      log.active--;
      return script.respond ? script.respond(feeds) : { last_hidden_state: tokenStates(feeds), pooler_output: new FakeTensor('float32', new Float32Array(feeds.input_ids!.dims[0]!), [feeds.input_ids!.dims[0]!, 1]) };
    },
    async release() {
      log.released++;
    },
  };
  const ort: OrtModule = {
    InferenceSession: {
      async create() {
        log.created++;
        if (script.createError) throw script.createError;
        return session;
      },
    },
    Tensor: FakeTensor as unknown as OrtModule['Tensor'],
    env: { wasm: {} },
  };
  return { ort, log };
}

/** Ids = the text's digits ("1203" → 1,2,0,3; other characters are skipped), segment 1 after a "|". */
const digits: EmbeddingTokenizer = {
  id: 'digits',
  padId: 9,
  maxLength: 16,
  encode(text) {
    const ids: number[] = [];
    const typeIds: number[] = [];
    let seg = 0;
    for (const ch of text) {
      if (ch === '|') seg = 1;
      else if (/[0-9]/.test(ch)) (ids.push(Number(ch)), typeIds.push(seg));
    }
    return { ids, typeIds };
  },
};

describe('createOnnxEmbedder (scripted onnxruntime)', () => {
  it('feeds right-padded int64 ids, mask and type ids, and mean-pools last_hidden_state over the mask', async () => {
    const { ort, log } = fakeOrt();
    const e = await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort, numThreads: 1, wasmPaths: '/ort/' });
    expect(e).toMatchObject({ dimensions: DIM, pooling: 'mean', outputName: 'last_hidden_state', id: `onnx:${(await sha256Hex(MODEL)).slice(0, 16)}:digits` });
    expect(ort.env.wasm).toEqual({ numThreads: 1, wasmPaths: '/ort/' });
    log.runs.length = 0;
    const [a, b] = await e.embed(['0012', '1|2']);
    const feeds = log.runs[0]!;
    expect(feeds.input_ids!.dims).toEqual([2, 4]);
    expect(Array.from(feeds.input_ids!.data as BigInt64Array, Number)).toEqual([0, 0, 1, 2, 1, 2, 9, 9]);
    expect(Array.from(feeds.attention_mask!.data as BigInt64Array, Number)).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(feeds.token_type_ids!.data as BigInt64Array, Number)).toEqual([0, 0, 0, 0, 0, 1, 0, 0]);
    // row 0: mean of one-hots (0,0,1,2) = [.5,.25,.25,0] → /|.|; row 1: ([0,1,0,0] + [0,0,1,1]) / 2.
    const n0 = Math.sqrt(0.25 + 0.0625 * 2);
    expect(Array.from(a!)).toEqual([0.5 / n0, 0.25 / n0, 0.25 / n0, 0].map(Math.fround));
    expect(Array.from(b!)).toEqual([0, 1, 1, 1].map((v) => Math.fround(v / Math.sqrt(3))));
  });

  it('batches by batchSize and gives texts without tokens the zero vector without running them', async () => {
    const { ort, log } = fakeOrt();
    const e = await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort, batchSize: 2 });
    log.runs.length = 0;
    const out = await e.embed(['1', '', '2', '3', '|', '0']);
    expect(log.runs.map((f) => f.input_ids!.dims[0])).toEqual([2, 2]);
    expect(out.map((v) => Array.from(v).join(','))).toEqual(['0,1,0,0', '0,0,0,0', '0,0,1,0', '0,0,0,1', '0,0,0,0', '1,0,0,0']);
    expect(await e.embed([])).toEqual([]);
    await expect(e.embed(['1', 2 as unknown as string])).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('pads to a fixed sequence length and batch size declared by the model', async () => {
    const meta = (name: string): OrtValueMetadata => ({ name, isTensor: true, type: 'int64', shape: [1, 6] });
    const { ort, log } = fakeOrt({ inputNames: ['input_ids', 'attention_mask'], inputMetadata: [meta('input_ids'), meta('attention_mask')] });
    const e = await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort });
    log.runs.length = 0;
    await e.embed(['12', '3']);
    expect(log.runs.map((f) => f.input_ids!.dims)).toEqual([[1, 6], [1, 6]]);
    expect(Object.keys(log.runs[0]!).sort()).toEqual(['attention_mask', 'input_ids']);
  });

  it('chooses a pooled output by name, honours options.output, and checks the interface', async () => {
    const pooled = fakeOrt({ outputNames: ['token_embeddings', 'sentence_embedding'], respond: (f) => ({ sentence_embedding: new FakeTensor('float32', new Float32Array(f.input_ids!.dims[0]! * 3).fill(2), [f.input_ids!.dims[0]!, 3]) }) });
    const e = await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort: pooled.ort });
    expect(e).toMatchObject({ outputName: 'sentence_embedding', pooling: 'model', dimensions: 3 });
    expect(Array.from((await e.embed(['1']))[0]!)).toEqual(new Array(3).fill(Math.fround(1 / Math.sqrt(3))));

    const bert = fakeOrt({ outputNames: ['pooler_output', 'last_hidden_state'] });
    expect((await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort: bert.ort })).outputName).toBe('last_hidden_state');
    await expect(createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort: bert.ort, output: 'nope' })).rejects.toMatchObject({ code: 'MODEL_IO_MISMATCH' });

    for (const script of [{ inputNames: ['ids', 'attention_mask'] }, { inputNames: ['input_ids', 'position_ids'] }, { inputMetadata: [{ name: 'input_ids', isTensor: true, type: 'int32' }] }]) {
      const { ort, log } = fakeOrt(script);
      await expect(createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort })).rejects.toMatchObject({ code: 'MODEL_IO_MISMATCH' });
      expect(log.released).toBe(1);
    }
    const failing = fakeOrt({ respond: () => ({ last_hidden_state: new FakeTensor('float32', new Float32Array(5), [5]) }) });
    await expect(createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort: failing.ort })).rejects.toMatchObject({ code: 'MODEL_IO_MISMATCH' });
    const broken = fakeOrt({ createError: new Error('protobuf parsing failed') });
    await expect(createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort: broken.ort })).rejects.toMatchObject({ code: 'BAD_ONNX_MODEL' });
    await expect(createOnnxEmbedder({ model: new Uint8Array([1, 2, 3]), tokenizer: digits, ort: bert.ort })).rejects.toMatchObject({ code: 'BAD_ONNX_MODEL' });
  });

  it('validates its options', async () => {
    const { ort } = fakeOrt();
    await expect(createOnnxEmbedder({ model: MODEL, tokenizer: {} as EmbeddingTokenizer, ort })).rejects.toMatchObject({ code: 'BAD_OPTION', details: { option: 'tokenizer' } });
    await expect(createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort, batchSize: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION', details: { option: 'batchSize' } });
    await expect(createOnnxEmbedder({ model: MODEL, tokenizer: byteTokenizer(), ort, numThreads: -1 })).rejects.toMatchObject({ code: 'BAD_OPTION', details: { option: 'numThreads' } });
  });

  it('runs one batch at a time even when embed is called concurrently', async () => {
    const { ort, log } = fakeOrt({ delayMs: 20 });
    const e = await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort, batchSize: 1 });
    log.maxActive = 0;
    const [x, y] = await Promise.all([e.embed(['1', '2', '3']), e.embed(['0', '1'])]);
    expect(log.maxActive).toBe(1);
    expect(x.length + y.length).toBe(5);
  });

  it('rejects at once with AbortError when aborted mid-run, and stays usable', async () => {
    const { ort, log } = fakeOrt({ delayMs: 300 });
    await expect(createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    const e = await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort });
    const ac = new AbortController();
    const t0 = Date.now();
    const pending = e.embed(['1', '2'], ac.signal).catch((err: unknown) => err);
    setTimeout(() => ac.abort(), 20);
    expect(isAbortError(await pending)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(250);
    const runs = log.runs.length;
    expect((await e.embed(['3'])).length).toBe(1);
    expect(log.runs.length).toBe(runs + 1);
  });

  it('dispose releases the session once; later calls reject with DISPOSED', async () => {
    const { ort, log } = fakeOrt();
    const e = await createOnnxEmbedder({ model: MODEL, tokenizer: digits, ort });
    await e.dispose();
    await e.dispose();
    expect(log.released).toBe(1);
    await expect(e.embed(['1'])).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});
