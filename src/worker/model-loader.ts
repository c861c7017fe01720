/**
 * Loads a model from a `ByteSource` (whatever `openModel` produced: cached chunks, a file, a blob):
 * GGUF header + metadata, tokenizer, and the weights. The GGUF stays open so the weights can be read
 * again later (a replacement backend after GPU device loss) without keeping a second copy in memory.
 */
import { BitNetError, throwIfAborted } from '../errors.js';
import type { ByteSource } from '../model/byte-source.js';
import { openGGUF, type GGUFFile } from '../model/gguf.js';
import { loadModelWeights } from '../model/load-weights.js';
import type { ModelConfig, ModelWeights } from '../model/tensor.js';
import { createTokenizer, type Tokenizer } from '../model/tokenizer/index.js';

export interface OpenedGGUFModel {
  readonly file: GGUFFile;
  readonly tokenizer: Tokenizer;
  readonly config: ModelConfig;
  /** Reads the weights (each call reads them afresh from the source). */
  readWeights(signal?: AbortSignal): Promise<ModelWeights>;
  close(): Promise<void>;
}

export interface ModelLoaderOptions {
  readonly signal?: AbortSignal;
  /** Progress of the first weights read (bytes of tensor data). */
  readonly onWeightsProgress?: (loaded: number, total: number) => void;
  readonly onWarning?: (message: string) => void;
}

/**
 * Opens the GGUF and reads the weights once (returned alongside, to hand to the first backend).
 * @throws BitNetError from the reader / config / tokenizer (BAD_MAGIC, TRUNCATED, UNSUPPORTED_ARCHITECTURE,
 *   BAD_TOKENIZER, VOCAB_MISMATCH, ...). The source is closed on failure.
 */
export async function loadGGUFModel(source: ByteSource, o: ModelLoaderOptions = {}): Promise<{ model: OpenedGGUFModel; weights: ModelWeights }> {
  throwIfAborted(o.signal);
  let file: GGUFFile;
  try {
    file = await openGGUF(source);
  } catch (e) {
    await source.close?.().catch(() => undefined);
    throw e;
  }
  try {
    const weights = await loadModelWeights(file, {
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onWeightsProgress ? { onProgress: o.onWeightsProgress } : {}),
    });
    const tokenizer = createTokenizer(file.metadata, { onWarning: o.onWarning ?? ((m) => console.warn(`bitnet-web: ${m}`)) });
    if (tokenizer.vocabSize > weights.config.vocabSize) {
      throw new BitNetError('VOCAB_MISMATCH', `tokenizer has ${tokenizer.vocabSize} tokens, the model only ${weights.config.vocabSize}`);
    }
    const f = file;
    const model: OpenedGGUFModel = {
      file: f,
      tokenizer,
      config: weights.config,
      readWeights: (signal) => loadModelWeights(f, signal ? { signal } : {}),
      close: () => f.close(),
    };
    return { model, weights };
  } catch (e) {
    await file.close().catch(() => undefined);
    throw e;
  }
}

/** Bytes of tensor data the weights occupy (for progress of repack / upload). */
export function weightBytes(file: GGUFFile): number {
  return file.tensors.reduce((n, t) => n + t.nbytes, 0);
}
