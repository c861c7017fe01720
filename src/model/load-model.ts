/**
 * One-call model loading: source → GGUF → weights + tokenizer + config.
 *
 * Sources: a file path (Node), an http(s) URL (string or URL; Range requests), a `file:` URL
 * (Node), a Blob / File, or bytes in memory (ArrayBuffer / Uint8Array). The string `'default'`
 * names the embedded default model (models/bitnet-kjv.gguf of this package).
 */
import { BitNetError, throwIfAborted } from '../errors.js';
import { blobSource, bufferSource, fileSource, httpSource, type ByteSource } from './byte-source.js';
import { openGGUF, type GGUFFile } from './gguf.js';
import { loadModelWeights } from './load-weights.js';
import { createTokenizer, type Tokenizer } from './tokenizer/index.js';
import type { FfnActivation, ModelConfig, ModelWeights } from './tensor.js';

export type ModelSource = string | URL | Blob | ArrayBuffer | Uint8Array;

export interface LoadModelOptions {
  readonly signal?: AbortSignal;
  /** Progress of reading tensor data. */
  readonly onProgress?: (loadedBytes: number, totalBytes: number) => void;
  /** Forces the FFN activation (overrides metadata). */
  readonly activation?: FfnActivation;
  /** Tokenizer load-time warnings (default: console.warn). */
  readonly onWarning?: (message: string) => void;
  /** Extra request headers for URLs. */
  readonly headers?: Record<string, string>;
}

export interface LoadedModel {
  /** The opened GGUF (still open; `file.close()` releases it — weights stay valid). */
  readonly file: GGUFFile;
  readonly weights: ModelWeights;
  readonly tokenizer: Tokenizer;
  readonly config: ModelConfig;
}

export const DEFAULT_MODEL_FILE = 'bitnet-kjv.gguf';

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** file: URL → local path (POSIX and Windows drive paths). */
function fileUrlToPath(u: URL): string {
  const p = decodeURIComponent(u.pathname);
  return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
}

/**
 * Maps `'default'` to the embedded model — a file path in Node, a URL string elsewhere (resolved
 * against this module's URL, so bundlers that copy `models/` next to the package keep it working).
 * Any other value is returned unchanged.
 */
export function resolveModelSource(source: ModelSource): ModelSource {
  if (source !== 'default') return source;
  // src/model/load-model.ts and dist/model/load-model.js both sit two levels below the package root.
  // A literal specifier lets bundlers (Vite) recognise and ship the file as an asset.
  const url = new URL('../../models/bitnet-kjv.gguf', import.meta.url);
  return url.protocol === 'file:' && isNode() ? fileUrlToPath(url) : url.href;
}

/** Opens a ByteSource for any supported model source (after resolving `'default'`). */
export async function openModelSource(source: ModelSource, options: Pick<LoadModelOptions, 'signal' | 'headers'> = {}): Promise<ByteSource> {
  const s = resolveModelSource(source);
  if (s instanceof Uint8Array || s instanceof ArrayBuffer) return bufferSource(s);
  if (typeof Blob !== 'undefined' && s instanceof Blob) return blobSource(s);
  const http = { ...(options.signal ? { signal: options.signal } : {}), ...(options.headers ? { headers: options.headers } : {}) };
  if (s instanceof URL) {
    if (s.protocol === 'file:') return fileSource(fileUrlToPath(s));
    return httpSource(s.href, http);
  }
  if (typeof s !== 'string' || s.length === 0) throw new BitNetError('BAD_INPUT', 'model source must be a path, URL, Blob or bytes');
  if (/^https?:\/\//i.test(s)) return httpSource(s, http);
  if (/^file:\/\//i.test(s)) return fileSource(fileUrlToPath(new URL(s)));
  if (!isNode() && /^[a-z][a-z0-9+.-]*:|^\/|^\./i.test(s)) return httpSource(s, http);
  return fileSource(s);
}

/** Opens the GGUF only (header, metadata, tensor infos) — enough for inspect / tokenize. */
export async function openModelFile(source: ModelSource, options: Pick<LoadModelOptions, 'signal' | 'headers'> = {}): Promise<GGUFFile> {
  const src = await openModelSource(source, options);
  try {
    return await openGGUF(src);
  } catch (e) {
    await src.close?.();
    throw e;
  }
}

/**
 * Loads weights and tokenizer. On failure the source is closed.
 * @throws BitNetError from the reader (BAD_MAGIC, TRUNCATED, ...), config/loader (BAD_CONFIG,
 *   MISSING_TENSOR, ...), tokenizer (BAD_TOKENIZER), IO / NETWORK for the source; AbortError.
 */
export async function loadModel(source: ModelSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  throwIfAborted(options.signal);
  const file = await openModelFile(source, options);
  try {
    const weights = await loadModelWeights(file, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.activation ? { activation: options.activation } : {}),
    });
    const tokenizer = createTokenizer(file.metadata, options.onWarning ? { onWarning: options.onWarning } : {});
    if (tokenizer.vocabSize > weights.config.vocabSize) {
      throw new BitNetError('VOCAB_MISMATCH', `tokenizer has ${tokenizer.vocabSize} tokens, the model only ${weights.config.vocabSize}`);
    }
    return { file, weights, tokenizer, config: weights.config };
  } catch (e) {
    await file.close();
    throw e;
  }
}
