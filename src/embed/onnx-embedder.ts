/**
 * An `Embedder` running an ONNX sentence-embedding model on onnxruntime-web (wasm backend by default),
 * in browsers and in Node.
 *
 * `createOnnxEmbedder` reads the model (URL, path or bytes; read-bytes.ts), checks that it is an ONNX
 * model (onnx-check.ts), loads onnxruntime-web (ort-runtime.ts), creates a session and probes it once
 * to learn the output's shape, so `dimensions` is known when the promise resolves.
 *
 * Model contract: inputs `input_ids` (required), `attention_mask` and `token_type_ids` (fed when the
 * model declares them), all int64 `[batch, seq]`; no other inputs. The output read is `options.output`,
 * else the first of `sentence_embedding`, `sentence_embeddings`, `embeddings`, `text_embeds`,
 * `last_hidden_state`, `token_embeddings` the model has, else its first output; rank 2 is used as is,
 * rank 3 is mean-pooled over the mask (onnx-pooling.ts). BERT's `pooler_output` is not chosen by
 * default: it is a classification head, worse for similarity than the mean of the token states.
 *
 * `embed(texts)` tokenizes, right-pads each batch (`batchSize` texts per run) with the tokenizer's
 * `padId` and mask 0, runs the session (one run at a time per embedder) and returns L2-normalised
 * vectors; a text with no tokens gets the zero vector without running the model. An aborted signal
 * rejects at once with `AbortError` (a run already inside onnxruntime finishes in the background and
 * its result is dropped). Errors: `BAD_ONNX_MODEL`, `MODEL_IO_MISMATCH`, `FEATURE_UNAVAILABLE`,
 * `BAD_OPTION`, `BAD_INPUT`, `DISPOSED`, `BACKEND_FAILED` (a run failing after a good probe), and the
 * read errors (`NETWORK`, `HTTP_STATUS`, `IO`).
 */
import { badOption } from '../api/options.js';
import { sha256Hex } from '../cache/sha256.js';
import { abortError, BitNetError, throwIfAborted } from '../errors.js';
import type { Embedder } from './embedder.js';
import { checkOnnxModel } from './onnx-check.js';
import { poolRows, poolingFor, type Pooling } from './onnx-pooling.js';
import { loadOrt, type OrtLoadOptions, type OrtModule, type OrtSession, type OrtTensor } from './ort-runtime.js';
import { readAllBytes, type BinarySource, type ReadBytesOptions } from './read-bytes.js';
import type { EmbeddingTokenizer } from './text-tokenizer.js';

export interface OnnxEmbedderOptions extends OrtLoadOptions, ReadBytesOptions {
  /** The .onnx file: URL, Node path, ArrayBuffer or typed array. */
  readonly model: BinarySource;
  readonly tokenizer: EmbeddingTokenizer;
  /** Embedding-space id (default `onnx:<first 16 hex of the model's sha256>:<tokenizer.id>`). */
  readonly id?: string;
  /** Output to read (default: see the module comment). */
  readonly output?: string;
  /** Texts per session run (default 16). */
  readonly batchSize?: number;
  /** onnxruntime execution providers (default ['wasm']). */
  readonly executionProviders?: string[];
  /** Sets `ort.env.wasm.numThreads` (only effective before onnxruntime's first session). */
  readonly numThreads?: number;
  /**
   * Sets `ort.env.wasm.wasmPaths`: where onnxruntime's .wasm/.mjs files are served (a folder URL ending
   * in "/", e.g. a CDN copy of onnxruntime-web/dist/, or `{ wasm, mjs }` file URLs).
   */
  readonly wasmPaths?: string | { readonly wasm?: string | URL; readonly mjs?: string | URL };
}

export interface OnnxEmbedder extends Embedder {
  /** sha256 (hex) of the model file. */
  readonly modelSha256: string;
  readonly outputName: string;
  /** 'model': the output is already one vector per text; 'mean': token states mean-pooled here. */
  readonly pooling: Pooling;
  dispose(): Promise<void>;
}

const PREFERRED_OUTPUTS = ['sentence_embedding', 'sentence_embeddings', 'embeddings', 'text_embeds', 'last_hidden_state', 'token_embeddings'];
const INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

/** Resolves with `p`, or rejects with AbortError as soon as `signal` fires. */
function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  throwIfAborted(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

function chooseOutput(session: OrtSession, requested: string | undefined): string {
  if (requested !== undefined) {
    if (!session.outputNames.includes(requested)) {
      throw new BitNetError('MODEL_IO_MISMATCH', `the model has no output ${requested} (outputs: ${session.outputNames.join(', ')})`, {
        details: { output: requested, outputs: [...session.outputNames] },
      });
    }
    return requested;
  }
  const name = PREFERRED_OUTPUTS.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0];
  if (name === undefined) throw new BitNetError('MODEL_IO_MISMATCH', 'the model has no outputs');
  return name;
}

/** Checks the declared inputs; returns the fixed sequence length if input_ids declares one. */
function checkInputs(session: OrtSession): { fixedSeq: number | null; fixedBatch: number | null } {
  const names = session.inputNames;
  const extra = names.filter((n) => !(INPUTS as readonly string[]).includes(n));
  if (!names.includes('input_ids') || extra.length > 0) {
    throw new BitNetError(
      'MODEL_IO_MISMATCH',
      `an embedding model needs input_ids (and optionally attention_mask, token_type_ids); this one declares ${names.join(', ') || 'no inputs'}`,
      { details: { inputs: [...names] } },
    );
  }
  for (const m of session.inputMetadata ?? []) {
    if (m.isTensor && m.type !== undefined && m.type !== 'int64') {
      throw new BitNetError('MODEL_IO_MISMATCH', `input ${m.name} has type ${m.type}; the embedder feeds int64`, { details: { input: m.name, type: m.type } });
    }
  }
  const shape = session.inputMetadata?.find((m) => m.name === 'input_ids')?.shape;
  const fixed = (d: unknown): number | null => (typeof d === 'number' && d > 0 ? d : null);
  return { fixedBatch: fixed(shape?.[0]), fixedSeq: fixed(shape?.[1]) };
}

export async function createOnnxEmbedder(options: OnnxEmbedderOptions): Promise<OnnxEmbedder> {
  const tk = options?.tokenizer;
  if (typeof tk?.encode !== 'function' || !Number.isSafeInteger(tk.padId) || !Number.isSafeInteger(tk.maxLength)) {
    throw badOption('tokenizer', 'expected an EmbeddingTokenizer (byteTokenizer(), wordPieceTokenizer(json), ...)');
  }
  const batchOption = options.batchSize ?? 16;
  if (!Number.isSafeInteger(batchOption) || batchOption < 1) throw badOption('batchSize', `expected a positive integer, got ${String(options.batchSize)}`);
  if (options.numThreads !== undefined && !(Number.isSafeInteger(options.numThreads) && options.numThreads >= 0)) {
    throw badOption('numThreads', `expected a non-negative integer, got ${String(options.numThreads)}`);
  }
  const { signal } = options;
  const bytes = await readAllBytes(options.model, 'embedder model', options);
  checkOnnxModel(bytes);
  const modelSha256 = await sha256Hex(bytes);
  throwIfAborted(signal);
  const ort = await loadOrt(options);
  if (options.numThreads !== undefined) ort.env.wasm.numThreads = options.numThreads;
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;

  let session: OrtSession;
  const creating = ort.InferenceSession.create(bytes, { executionProviders: options.executionProviders ?? ['wasm'] });
  try {
    session = await raceAbort(creating, signal);
  } catch (e) {
    if (signal?.aborted) {
      void creating.then((s) => s.release?.()).catch(() => undefined);
      throw abortError(signal.reason);
    }
    throw new BitNetError('BAD_ONNX_MODEL', `onnxruntime could not load the embedder model: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  try {
    const { fixedSeq, fixedBatch } = checkInputs(session);
    const outputName = chooseOutput(session, options.output);
    const runner = new SessionRunner(ort, session, tk, outputName, fixedSeq);
    const probeIds = tk.encode('a').ids;
    const probe = await raceAbort(runner.runRaw([probeIds.length > 0 ? probeIds : [tk.padId]]), signal).catch((e: unknown) => {
      if (e instanceof BitNetError || signal?.aborted) throw e;
      throw new BitNetError('MODEL_IO_MISMATCH', `probe run of the embedder model failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    });
    const pooling = poolingFor(probe, outputName);
    const dimensions = probe.dims[probe.dims.length - 1]!;
    probe.dispose?.();
    return makeEmbedder({
      id: options.id ?? `onnx:${modelSha256.slice(0, 16)}:${tk.id}`,
      dimensions,
      modelSha256,
      outputName,
      pooling,
      runner,
      batchSize: Math.min(batchOption, fixedBatch ?? batchOption),
    });
  } catch (e) {
    await session.release?.().catch(() => undefined);
    throw e;
  }
}

/** Runs batches on one session, one run at a time. */
class SessionRunner {
  private tail: Promise<unknown> = Promise.resolve();
  disposed = false;
  constructor(
    private readonly ort: OrtModule,
    readonly session: OrtSession,
    readonly tokenizer: EmbeddingTokenizer,
    readonly outputName: string,
    private readonly fixedSeq: number | null,
  ) {}

  /** Runs one batch of token-id rows (each non-empty); resolves with the raw output tensor. */
  async runRaw(rows: readonly (readonly number[])[], typeRows?: readonly (readonly number[] | undefined)[]): Promise<OrtTensor> {
    const seq = this.fixedSeq ?? Math.max(...rows.map((r) => r.length));
    const n = rows.length;
    const ids = new BigInt64Array(n * seq).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(n * seq);
    const types = new BigInt64Array(n * seq);
    rows.forEach((row, b) => {
      const len = Math.min(row.length, seq);
      for (let t = 0; t < len; t++) {
        if (!Number.isSafeInteger(row[t])) throw new BitNetError('BAD_INPUT', `the tokenizer produced an invalid token id ${String(row[t])}`);
        ids[b * seq + t] = BigInt(row[t]!);
        mask[b * seq + t] = 1n;
        types[b * seq + t] = BigInt(typeRows?.[b]?.[t] ?? 0);
      }
    });
    const all: Record<string, BigInt64Array> = { input_ids: ids, attention_mask: mask, token_type_ids: types };
    const feeds: Record<string, OrtTensor> = {};
    for (const name of this.session.inputNames) feeds[name] = new this.ort.Tensor('int64', all[name]!, [n, seq]);
    const run = this.tail.then(async () => {
      if (this.disposed) throw new BitNetError('DISPOSED', 'the ONNX embedder was disposed');
      const out = await this.session.run(feeds);
      for (const [name, t] of Object.entries(out)) if (name !== this.outputName) t.dispose?.();
      return out[this.outputName]!;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Refuses new runs, waits for the one in flight, releases the session (idempotent). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.tail;
    await this.session.release?.().catch(() => undefined);
  }

  /** Embeds one batch of encoded texts (each with at least one token). */
  async embedBatch(encoded: readonly { ids: readonly number[]; typeIds?: readonly number[] }[], signal?: AbortSignal): Promise<Float32Array[]> {
    const rows = encoded.map((e) => e.ids);
    const seq = this.fixedSeq ?? Math.max(...rows.map((r) => r.length));
    const out = await raceAbort(
      this.runRaw(rows, encoded.map((e) => e.typeIds)).catch((e: unknown) => {
        if (e instanceof BitNetError) throw e;
        throw new BitNetError('BACKEND_FAILED', `ONNX embedder run failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }),
      signal,
    );
    try {
      return poolRows(out, this.outputName, rows.map((r) => Math.min(r.length, seq)), seq);
    } finally {
      out.dispose?.();
    }
  }
}

function makeEmbedder(p: {
  id: string; dimensions: number; modelSha256: string; outputName: string; pooling: Pooling; runner: SessionRunner; batchSize: number;
}): OnnxEmbedder {
  const { runner } = p;
  return {
    id: p.id,
    dimensions: p.dimensions,
    modelSha256: p.modelSha256,
    outputName: p.outputName,
    pooling: p.pooling,
    async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
      if (runner.disposed) throw new BitNetError('DISPOSED', 'the ONNX embedder was disposed');
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) throw new BitNetError('BAD_INPUT', 'embed: expected an array of strings');
      throwIfAborted(signal);
      const encoded = texts.map((t) => runner.tokenizer.encode(t));
      const out: Float32Array[] = texts.map(() => new Float32Array(p.dimensions));
      const todo = encoded.map((e, i) => ({ e, i })).filter((x) => x.e.ids.length > 0);
      for (let start = 0; start < todo.length; start += p.batchSize) {
        throwIfAborted(signal);
        const batch = todo.slice(start, start + p.batchSize);
        const vectors = await runner.embedBatch(batch.map((x) => x.e), signal);
        batch.forEach((x, k) => (out[x.i] = vectors[k]!));
      }
      return out;
    },
    dispose: () => runner.dispose(),
  };
}
