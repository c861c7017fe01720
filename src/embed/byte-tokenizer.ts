/**
 * UTF-8 byte tokenizer: each byte of the text's UTF-8 encoding is one id (0-255), no special tokens,
 * padding id 0. This is what models/tiny-embedder.onnx reads (it normalises and hashes the bytes
 * inside the graph). Texts longer than `maxLength` bytes are cut at `maxLength` (a cut may split a
 * multi-byte character; the model just sees the bytes). The empty text has no tokens.
 */
import { BitNetError } from '../errors.js';
import type { EmbeddingTokenizer, EncodedText } from './text-tokenizer.js';

export interface ByteTokenizerOptions {
  /** Most bytes per text (default 512). */
  readonly maxLength?: number;
}

export function byteTokenizer(options: ByteTokenizerOptions = {}): EmbeddingTokenizer {
  const maxLength = options.maxLength ?? 512;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
    throw new BitNetError('BAD_OPTION', `maxLength: expected a positive integer, got ${String(maxLength)}`, { details: { option: 'maxLength' } });
  }
  const encoder = new TextEncoder();
  return {
    id: `utf8-bytes:${maxLength}`,
    padId: 0,
    maxLength,
    encode(text: string): EncodedText {
      if (typeof text !== 'string') throw new BitNetError('BAD_INPUT', 'byteTokenizer: text must be a string');
      const bytes = encoder.encode(text);
      return { ids: Array.from(bytes.length > maxLength ? bytes.subarray(0, maxLength) : bytes) };
    },
  };
}
