/**
 * The one error class of bitnet-web. Every failure a caller can cause surfaces as a `BitNetError`
 * with a stable string `code`; aborts surface as a DOMException-compatible `AbortError`.
 */
export type BitNetErrorCode =
  // container / file
  | 'BAD_MAGIC'
  | 'UNSUPPORTED_VERSION'
  | 'TRUNCATED'
  | 'BAD_METADATA'
  | 'BAD_TENSOR_INFO'
  | 'UNKNOWN_TENSOR_TYPE'
  | 'OUT_OF_BOUNDS'
  | 'TOO_LARGE'
  | 'BAD_ALIGNMENT'
  /** Tensor bytes that no writer produces (e.g. ternary code 3, non-finite scale). */
  | 'BAD_TENSOR_DATA'
  // model
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'BAD_CONFIG'
  | 'MISSING_TENSOR'
  | 'BAD_TENSOR_SHAPE'
  | 'BAD_TENSOR_TYPE'
  | 'VOCAB_MISMATCH'
  | 'BAD_TOKENIZER'
  | 'BAD_CHECKPOINT'
  /** Bytes that are not an ONNX model, or an ONNX model onnxruntime cannot load. */
  | 'BAD_ONNX_MODEL'
  /** A model whose inputs or outputs do not fit its use (e.g. an embedder without `input_ids`). */
  | 'MODEL_IO_MISMATCH'
  // runtime
  | 'BAD_OPTION'
  | 'BAD_INPUT'
  | 'CONTEXT_OVERFLOW'
  | 'SHAPE_MISMATCH'
  | 'BACKEND_UNAVAILABLE'
  /** An optional module (e.g. the HF converter) is not part of this build. */
  | 'FEATURE_UNAVAILABLE'
  | 'BACKEND_FAILED'
  | 'DEVICE_LOST'
  | 'OUT_OF_MEMORY'
  | 'DISPOSED'
  | 'WORKER_CRASHED'
  // loading / storage
  | 'NETWORK'
  | 'HTTP_STATUS'
  | 'RANGE_UNSUPPORTED'
  | 'INTEGRITY'
  | 'QUOTA_EXCEEDED'
  | 'STORAGE'
  | 'IO';

export class BitNetError extends Error {
  readonly code: BitNetErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: BitNetErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'BitNetError';
    this.code = code;
    if (options?.details) this.details = options.details;
  }
}

export function isBitNetError(e: unknown, code?: BitNetErrorCode): e is BitNetError {
  return e instanceof Error && e.name === 'BitNetError' && (code === undefined || (e as BitNetError).code === code);
}

/** An `AbortError` as `fetch` and DOM APIs throw it (a DOMException where available). */
export function abortError(reason?: unknown): Error {
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const msg = typeof reason === 'string' ? reason : 'The operation was aborted.';
  if (typeof DOMException !== 'undefined') return new DOMException(msg, 'AbortError');
  const e = new Error(msg);
  e.name = 'AbortError';
  return e;
}

export function isAbortError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/** Throws `AbortError` if the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal.reason);
}
