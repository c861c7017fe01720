/**
 * BERT WordPiece tokenizer built from a Hugging Face `tokenizer.json` (the file shipped with
 * sentence-transformers models such as all-MiniLM-L6-v2), so that their ONNX exports can run in the
 * ONNX embedder.
 *
 * `encode(text)`: BERT-normalise (settings from the file's `BertNormalizer`), split into words
 * (`BertPreTokenizer`), split each word into the longest vocabulary pieces from its start (later
 * pieces carry the `##` continuation prefix; a word with an unmatched rest, or longer than
 * `max_input_chars_per_word`, becomes `[UNK]`), keep the first `maxLength - 2` pieces and frame them
 * as `[CLS] … [SEP]`. Type ids are all 0 (one segment).
 *
 * Limitations: added/special tokens written literally in the text ("[MASK]") are tokenized as plain
 * text; only WordPiece models with a BERT (or no) normaliser and pre-tokenizer are accepted, anything
 * else is refused with `BAD_TOKENIZER` rather than tokenized differently from the original.
 */
import { BitNetError } from '../errors.js';
import { bertNormalize, bertPreTokenize, type BertNormalizeOptions } from './bert-text.js';
import { readAllBytes, type BinarySource, type ReadBytesOptions } from './read-bytes.js';
import type { EmbeddingTokenizer, EncodedText } from './text-tokenizer.js';

export interface WordPieceOptions {
  /** Most ids per text, [CLS] and [SEP] included (default: the file's truncation.max_length, else 512). */
  readonly maxLength?: number;
}

type Json = Record<string, unknown>;

function fail(message: string): BitNetError {
  return new BitNetError('BAD_TOKENIZER', `tokenizer.json: ${message}`);
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function specialId(json: Json, vocab: ReadonlyMap<string, number>, role: 'cls' | 'sep', fallback: string): number {
  const post = json.post_processor;
  if (isObj(post) && post.type === 'BertProcessing' && Array.isArray(post[role]) && typeof (post[role] as unknown[])[1] === 'number') {
    return (post[role] as [string, number])[1];
  }
  if (isObj(post) && post.type === 'TemplateProcessing' && isObj(post.special_tokens)) {
    const entry = post.special_tokens[fallback];
    if (isObj(entry) && Array.isArray(entry.ids) && typeof entry.ids[0] === 'number') return entry.ids[0] as number;
  }
  const id = vocab.get(fallback);
  if (id === undefined) throw fail(`no ${fallback} token`);
  return id;
}

function normalizerOptions(n: unknown): BertNormalizeOptions {
  if (n === null || n === undefined) return { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false };
  if (!isObj(n) || n.type !== 'BertNormalizer') throw fail(`unsupported normalizer ${isObj(n) ? String(n.type) : typeof n} (only BertNormalizer)`);
  const lowercase = n.lowercase !== false;
  return {
    cleanText: n.clean_text !== false,
    handleChineseChars: n.handle_chinese_chars !== false,
    // HF: strip_accents null means "same as lowercase".
    stripAccents: typeof n.strip_accents === 'boolean' ? n.strip_accents : lowercase,
    lowercase,
  };
}

/** Builds the tokenizer from a parsed tokenizer.json object. @throws BitNetError BAD_TOKENIZER, BAD_OPTION */
export function wordPieceTokenizer(json: unknown, options: WordPieceOptions = {}): EmbeddingTokenizer {
  if (!isObj(json) || !isObj(json.model)) throw fail('expected an object with a "model"');
  const model = json.model;
  if (model.type !== 'WordPiece') throw fail(`model type ${String(model.type)} is not WordPiece`);
  if (!isObj(model.vocab)) throw fail('model.vocab missing');
  const vocab = new Map<string, number>();
  for (const [tok, id] of Object.entries(model.vocab)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw fail(`bad id for token ${JSON.stringify(tok)}`);
    vocab.set(tok, id as number);
  }
  const pre = json.pre_tokenizer;
  if (pre !== null && pre !== undefined && !(isObj(pre) && pre.type === 'BertPreTokenizer')) {
    throw fail(`unsupported pre_tokenizer ${isObj(pre) ? String(pre.type) : typeof pre} (only BertPreTokenizer)`);
  }
  const norm = normalizerOptions(json.normalizer);
  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
  const unk = vocab.get(unkToken);
  if (unk === undefined) throw fail(`unk_token ${unkToken} is not in the vocabulary`);
  const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##';
  const maxChars = Number.isSafeInteger(model.max_input_chars_per_word) ? (model.max_input_chars_per_word as number) : 100;
  const cls = specialId(json, vocab, 'cls', '[CLS]');
  const sep = specialId(json, vocab, 'sep', '[SEP]');
  const padding = isObj(json.padding) ? json.padding : {};
  const padId = typeof padding.pad_id === 'number' ? padding.pad_id : (vocab.get('[PAD]') ?? 0);
  const fileMax = isObj(json.truncation) && typeof json.truncation.max_length === 'number' ? json.truncation.max_length : 512;
  const maxLength = options.maxLength ?? fileMax;
  if (!Number.isSafeInteger(maxLength) || maxLength < 3) {
    throw new BitNetError('BAD_OPTION', `maxLength: expected an integer of at least 3, got ${String(maxLength)}`, { details: { option: 'maxLength' } });
  }

  const pieces = (word: string, out: number[]): void => {
    const chars = Array.from(word);
    if (chars.length > maxChars) {
      out.push(unk);
      return;
    }
    const found: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let id: number | undefined;
      while (end > start) {
        const piece = (start > 0 ? prefix : '') + chars.slice(start, end).join('');
        id = vocab.get(piece);
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) {
        out.push(unk);
        return;
      }
      found.push(id);
      start = end;
    }
    out.push(...found);
  };

  const flags = `${norm.lowercase ? 'l' : ''}${norm.stripAccents ? 'a' : ''}${norm.handleChineseChars ? 'c' : ''}`;
  return {
    id: `wordpiece:${vocab.size}:${flags}:${maxLength}`,
    padId,
    maxLength,
    encode(text: string): EncodedText {
      if (typeof text !== 'string') throw new BitNetError('BAD_INPUT', 'wordPieceTokenizer: text must be a string');
      const body: number[] = [];
      for (const word of bertPreTokenize(bertNormalize(text, norm))) {
        pieces(word, body);
        if (body.length >= maxLength - 2) break;
      }
      const ids = [cls, ...body.slice(0, maxLength - 2), sep];
      return { ids, typeIds: new Array<number>(ids.length).fill(0) };
    },
  };
}

/**
 * Loads a tokenizer.json from a URL, path or bytes (see read-bytes.ts) and builds the tokenizer.
 * @throws BitNetError BAD_TOKENIZER (not JSON / not WordPiece), plus the read errors of `readAllBytes`.
 */
export async function loadWordPieceTokenizer(source: BinarySource, options: WordPieceOptions & ReadBytesOptions = {}): Promise<EmbeddingTokenizer> {
  const bytes = await readAllBytes(source, 'tokenizer', options);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new BitNetError('BAD_TOKENIZER', `tokenizer.json is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  return wordPieceTokenizer(json, options);
}
