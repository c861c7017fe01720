/**
 * The tokenizer contract of the ONNX embedder: text in, the token ids an ONNX sentence-embedding model
 * expects out (special tokens such as [CLS]/[SEP] included, already truncated to the model's limit).
 */

export interface EncodedText {
  readonly ids: readonly number[];
  /** Segment ids for `token_type_ids` (default: all 0). */
  readonly typeIds?: readonly number[];
}

export interface EmbeddingTokenizer {
  /**
   * Names the tokenization (kind and settings that change the ids); the embedder's default `id`
   * includes it, since the same model fed different ids is a different embedding space.
   */
  readonly id: string;
  /** Id used to pad shorter texts of a batch (their attention mask is 0 there). */
  readonly padId: number;
  /** Most ids `encode` returns. */
  readonly maxLength: number;
  encode(text: string): EncodedText;
}
