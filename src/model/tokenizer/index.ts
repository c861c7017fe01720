/**
 * The tokenizer of a GGUF model, built from its `tokenizer.*` metadata (FORMATS §6).
 *
 * - `tokenizer.ggml.model = "gpt2"`: byte-level BPE with a regex pre-tokenizer chosen by
 *   `tokenizer.ggml.pre` (llama-bpe / llama3 / llama-v3 → LLaMA-3 pattern + ignore_merges; gpt2 /
 *   default → GPT-2 pattern). When the key is missing but the vocabulary is LLaMA-3's (128256 tokens,
 *   id 128000 = `<|begin_of_text|>`, as in the official 2B-4T GGUF) the LLaMA-3 pre-tokenizer is used
 *   anyway, with a warning; otherwise a missing key means `default` (GPT-2 pattern), with a warning.
 * - `tokenizer.ggml.model = "llama"`: SentencePiece BPE by score with byte fallback.
 *
 * `encode` never adds EOS unless asked (or `tokenizer.ggml.add_eos_token` is true) and adds BOS per
 * `tokenizer.ggml.add_bos_token` (default: true for SPM and LLaMA-3 BPE, false for other BPE).
 */
import { BitNetError } from '../../errors.js';
import type { GGUFMetadata } from '../gguf-types.js';
import { BpeEncoder } from './bpe.js';
import { PieceTable, createStreamDecoder, decodeIds, type DecodeOptions, type StreamDecoder, type StreamDecoderOptions } from './detokenize.js';
import { preTokenize, resolvePreTokenizer, type PreTokenizerName } from './pretokenize.js';
import { SpecialMatcher, resolveSpecialIds } from './special.js';
import { SpmEncoder } from './spm.js';
import { readBool, readString, readStringArray, readVocab } from './vocab.js';

export type { DecodeOptions, StreamDecoder, StreamDecoderOptions } from './detokenize.js';
export type { PreTokenizerName } from './pretokenize.js';
export { renderChat, renderChatText, detectChatFormat, type ChatMessage, type ChatFormat, type ChatOptions } from './chat-template.js';

export interface EncodeOptions {
  /** Prepend BOS. Default: `tokenizer.addBosDefault`. */
  readonly addBos?: boolean;
  /** Append EOS. Default: `tokenizer.ggml.add_eos_token` (false when absent). */
  readonly addEos?: boolean;
  /** Match control tokens such as `<|eot_id|>` written in the text. Default false. */
  readonly parseSpecial?: boolean;
}

export interface Tokenizer {
  /** `bpe` for `tokenizer.ggml.model = "gpt2"`, `spm` for `"llama"`. */
  readonly model: 'bpe' | 'spm';
  /** Regex pre-tokenizer in use; `none` for SPM. */
  readonly preTokenizer: PreTokenizerName | 'none';
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly eotId: number | undefined;
  readonly unkId: number | undefined;
  readonly padId: number | undefined;
  /** Ids that end generation (EOS and EOT). */
  readonly stopIds: Set<number>;
  readonly addBosDefault: boolean;
  readonly addEosDefault: boolean;
  /** `tokenizer.chat_template`, if any. */
  readonly chatTemplate: string | undefined;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  createDecoder(options?: StreamDecoderOptions): StreamDecoder;
  /** Raw vocabulary text of a token (alphabet-encoded for byte-level BPE). */
  tokenText(id: number): string;
  /** `tokenizer.ggml.token_type` of a token (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte). */
  tokenType(id: number): number;
  /** Id of the token whose raw text is exactly `text`. */
  tokenId(text: string): number | undefined;
  /** True for control and unknown tokens (the ones `skipSpecial` drops). */
  isSpecial(id: number): boolean;
}

export interface CreateTokenizerOptions {
  /** Receives load-time warnings. Default: `console.warn`. */
  readonly onWarning?: (message: string) => void;
}

const LLAMA3_VOCAB_SIZE = 128256;
const LLAMA3_BOS_ID = 128000;

function looksLikeLlama3Vocab(tokens: readonly string[]): boolean {
  return tokens.length === LLAMA3_VOCAB_SIZE && tokens[LLAMA3_BOS_ID] === '<|begin_of_text|>';
}

export function createTokenizer(metadata: GGUFMetadata, options: CreateTokenizerOptions = {}): Tokenizer {
  const warn = options.onWarning ?? ((m: string): void => console.warn(m));
  const modelName = readString(metadata, 'tokenizer.ggml.model');
  if (modelName === undefined) throw new BitNetError('BAD_TOKENIZER', 'tokenizer.ggml.model is missing', { details: { key: 'tokenizer.ggml.model' } });
  if (modelName !== 'gpt2' && modelName !== 'llama') {
    throw new BitNetError('BAD_TOKENIZER', `unsupported tokenizer model "${modelName}" (supported: gpt2, llama)`, {
      details: { key: 'tokenizer.ggml.model' },
    });
  }
  const vocab = readVocab(metadata);
  const ids = resolveSpecialIds(metadata, vocab);
  const special = new SpecialMatcher(vocab);
  const chatTemplate = readString(metadata, 'tokenizer.chat_template');
  const kind = modelName === 'gpt2' ? 'bpe' : 'spm';

  let preTokenizer: PreTokenizerName | 'none' = 'none';
  let encodeFragment: (text: string, out: number[]) => void;
  let addBosFallback = true;
  let addSpacePrefix = false;

  if (kind === 'bpe') {
    const merges = readStringArray(metadata, 'tokenizer.ggml.merges');
    if (merges === undefined) throw new BitNetError('BAD_TOKENIZER', 'tokenizer.ggml.merges is missing', { details: { key: 'tokenizer.ggml.merges' } });
    const pre = readString(metadata, 'tokenizer.ggml.pre');
    let choice;
    if (pre === undefined) {
      if (looksLikeLlama3Vocab(vocab.tokens)) {
        choice = resolvePreTokenizer('llama-bpe');
        warn('tokenizer: tokenizer.ggml.pre is missing but the vocabulary is LLaMA-3\'s; using the llama3 pre-tokenizer (llama.cpp would fall back to "default")');
      } else {
        choice = resolvePreTokenizer('default');
        warn('tokenizer: tokenizer.ggml.pre is missing; using the default (gpt2) pre-tokenizer, tokenization may differ from training');
      }
    } else {
      choice = resolvePreTokenizer(pre);
      if (choice.unknown) warn(`tokenizer: unknown tokenizer.ggml.pre "${pre}"; using the gpt2 pre-tokenizer`);
    }
    const bpe = new BpeEncoder(vocab, merges, { ignoreMerges: choice.ignoreMerges, unkId: ids.unk });
    const name = choice.name;
    preTokenizer = name;
    addBosFallback = name === 'llama3';
    encodeFragment = (text, out): void => {
      for (const word of preTokenize(text, name)) bpe.encodeWord(word, out);
    };
  } else {
    const spm = new SpmEncoder(vocab, ids.unk);
    addSpacePrefix = readBool(metadata, 'tokenizer.ggml.add_space_prefix') ?? true;
    encodeFragment = (text, out): void => spm.encode(text.replaceAll(' ', '\u2581'), out);
  }

  const bosId = ids.bos;
  const addBosDefault = (readBool(metadata, 'tokenizer.ggml.add_bos_token') ?? addBosFallback) && bosId !== undefined;
  const addEosDefault = (readBool(metadata, 'tokenizer.ggml.add_eos_token') ?? false) && ids.eos !== undefined;
  const pieces = new PieceTable(vocab, kind, addSpacePrefix);

  const encode = (text: string, opts: EncodeOptions = {}): number[] => {
    if (typeof text !== 'string') throw new BitNetError('BAD_INPUT', 'encode: text must be a string');
    const out: number[] = [];
    if (opts.addBos ?? addBosDefault) {
      if (bosId === undefined) throw new BitNetError('BAD_OPTION', 'addBos: this vocabulary has no BOS token', { details: { option: 'addBos' } });
      out.push(bosId);
    }
    // SPM: a space prefix before the text and after every special token (llama.cpp `is_prev_special`).
    let prevSpecial = true;
    for (const frag of special.partition(text, opts.parseSpecial ?? false)) {
      if (typeof frag === 'number') {
        out.push(frag);
        prevSpecial = true;
      } else {
        encodeFragment(addSpacePrefix && prevSpecial ? ' ' + frag : frag, out);
        prevSpecial = false;
      }
    }
    if (opts.addEos ?? addEosDefault) {
      if (ids.eos === undefined) throw new BitNetError('BAD_OPTION', 'addEos: this vocabulary has no EOS token', { details: { option: 'addEos' } });
      out.push(ids.eos);
    }
    return out;
  };

  const checked = (id: number): number => {
    pieces.checkId(id);
    return id;
  };

  return {
    model: kind,
    preTokenizer,
    vocabSize: vocab.tokens.length,
    bosId,
    eosId: ids.eos,
    eotId: ids.eot,
    unkId: ids.unk,
    padId: ids.pad,
    stopIds: ids.stop,
    addBosDefault,
    addEosDefault,
    chatTemplate,
    encode,
    decode: (list, opts) => decodeIds(pieces, list, opts),
    createDecoder: (opts) => createStreamDecoder(pieces, opts),
    tokenText: (id) => vocab.tokens[checked(id)]!,
    tokenType: (id) => vocab.types[checked(id)]!,
    tokenId: (text) => vocab.tokenToId.get(text),
    isSpecial: (id) => pieces.isSpecial(checked(id)),
  };
}
