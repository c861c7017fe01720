import { describe, expect, it } from 'vitest';
import { bertNormalize, bertPreTokenize } from '../src/embed/bert-text.js';
import { byteTokenizer } from '../src/embed/byte-tokenizer.js';
import { loadWordPieceTokenizer, wordPieceTokenizer } from '../src/embed/wordpiece-tokenizer.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'hello', ',', 'world', '!', 'un', '##aff', '##able', 'cafe', '##s', 'a', '##b', 'ab', '中', 'don', "'", 't', 'Hello'];
const ID = Object.fromEntries(VOCAB.map((t, i) => [t, i])) as Record<string, number>;

/** A tokenizer.json in the shape Hugging Face writes for BERT / all-MiniLM. */
function tokenizerJson(over: { normalizer?: unknown; post?: unknown; maxLength?: number; maxChars?: number; model?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    version: '1.0',
    truncation: over.maxLength === undefined ? null : { direction: 'Right', max_length: over.maxLength, strategy: 'LongestFirst', stride: 0 },
    padding: null,
    normalizer: over.normalizer === undefined ? { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true } : over.normalizer,
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: over.post ?? { type: 'BertProcessing', sep: ['[SEP]', ID['[SEP]']], cls: ['[CLS]', ID['[CLS]']] },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: over.maxChars ?? 100,
      vocab: Object.fromEntries(VOCAB.map((t, i) => [t, i])),
      ...(over.model ?? {}),
    },
  };
}

const ids = (...tokens: string[]): number[] => [ID['[CLS]']!, ...tokens.map((t) => ID[t]!), ID['[SEP]']!];

describe('BERT text preparation', () => {
  it('cleans, pads CJK, strips accents and lowercases', () => {
    const all = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };
    expect(bertNormalize('Ca\u0000fé\tNAÏVE\u200b中文', all)).toBe('cafe naive 中  文 ');
    expect(bertNormalize('Café', { ...all, stripAccents: false, lowercase: false })).toBe('Café');
  });

  it('splits on whitespace and isolates punctuation', () => {
    expect(bertPreTokenize("don't  stop!  a+b=c")).toEqual(['don', "'", 't', 'stop', '!', 'a', '+', 'b', '=', 'c']);
    expect(bertPreTokenize('   ')).toEqual([]);
  });
});

describe('wordPieceTokenizer', () => {
  const tk = wordPieceTokenizer(tokenizerJson());

  it('frames pieces with [CLS]/[SEP] after lowercasing and punctuation splitting', () => {
    expect(tk.encode('Hello, World!').ids).toEqual(ids('hello', ',', 'world', '!'));
    expect(tk.encode('Hello, World!').typeIds).toEqual(new Array(6).fill(0));
    expect(tk.encode("don't").ids).toEqual(ids('don', "'", 't'));
    expect(tk.encode('').ids).toEqual(ids());
  });

  it('splits words greedily into the longest pieces, with ## continuations', () => {
    expect(tk.encode('unaffable').ids).toEqual(ids('un', '##aff', '##able'));
    expect(tk.encode('ab').ids).toEqual(ids('ab')); // longest match wins over a ##b
    expect(tk.encode('Cafés').ids).toEqual(ids('cafe', '##s')); // accent stripped
  });

  it('maps unknown words (or unmatched rests) to a single [UNK]', () => {
    expect(tk.encode('xyz hello').ids).toEqual(ids('[UNK]', 'hello'));
    expect(tk.encode('unxyz').ids).toEqual(ids('[UNK]'));
    expect(tk.encode('中文').ids).toEqual(ids('中', '[UNK]')); // each CJK ideograph is a word
    const short = wordPieceTokenizer(tokenizerJson({ maxChars: 4 }));
    expect(short.encode('hello').ids).toEqual(ids('[UNK]'));
  });

  it('truncates to maxLength including [CLS] and [SEP] (option over the file value)', () => {
    const fromFile = wordPieceTokenizer(tokenizerJson({ maxLength: 4 }));
    expect(fromFile.maxLength).toBe(4);
    expect(fromFile.encode('hello world hello world').ids).toEqual(ids('hello', 'world'));
    const fromOption = wordPieceTokenizer(tokenizerJson({ maxLength: 4 }), { maxLength: 5 });
    expect(fromOption.encode('hello world hello world').ids).toEqual(ids('hello', 'world', 'hello'));
    expect(tk.maxLength).toBe(512);
  });

  it('follows the normaliser settings and TemplateProcessing special ids', () => {
    const cased = wordPieceTokenizer(tokenizerJson({ normalizer: { type: 'BertNormalizer', lowercase: false, strip_accents: null } }));
    expect(cased.encode('Hello hello').ids).toEqual(ids('Hello', 'hello'));
    expect(cased.id).not.toBe(tk.id);
    const template = wordPieceTokenizer(
      tokenizerJson({ post: { type: 'TemplateProcessing', special_tokens: { '[CLS]': { id: '[CLS]', ids: [ID.a], tokens: ['a'] }, '[SEP]': { id: '[SEP]', ids: [ID.t], tokens: ['t'] } } } }),
    );
    expect(template.encode('hello').ids).toEqual([ID.a, ID.hello, ID.t]);
    expect(template.padId).toBe(0);
  });

  it('refuses what it would tokenize differently, with BAD_TOKENIZER', async () => {
    expect(() => wordPieceTokenizer(tokenizerJson({ model: { type: 'BPE' } }))).toThrow(expect.objectContaining({ code: 'BAD_TOKENIZER' }));
    expect(() => wordPieceTokenizer(tokenizerJson({ normalizer: { type: 'NFKC' } }))).toThrow(expect.objectContaining({ code: 'BAD_TOKENIZER' }));
    expect(() => wordPieceTokenizer(tokenizerJson({ model: { unk_token: '<unk>' } }))).toThrow(expect.objectContaining({ code: 'BAD_TOKENIZER' }));
    expect(() => wordPieceTokenizer({ vocab: {} })).toThrow(expect.objectContaining({ code: 'BAD_TOKENIZER' }));
    expect(() => wordPieceTokenizer(tokenizerJson(), { maxLength: 2 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    await expect(loadWordPieceTokenizer(new TextEncoder().encode('{"model": '))).rejects.toMatchObject({ code: 'BAD_TOKENIZER' });
  });

  it('loads from bytes of a tokenizer.json', async () => {
    const loaded = await loadWordPieceTokenizer(new TextEncoder().encode(JSON.stringify(tokenizerJson())));
    expect(loaded.encode('unaffable world').ids).toEqual(ids('un', '##aff', '##able', 'world'));
  });
});

describe('byteTokenizer', () => {
  it('emits UTF-8 bytes, no specials, cut at maxLength', () => {
    const tk = byteTokenizer({ maxLength: 4 });
    expect(tk.encode('hé').ids).toEqual([104, 0xc3, 0xa9]);
    expect(tk.encode('hello').ids).toEqual([104, 101, 108, 108]);
    expect(tk.encode('').ids).toEqual([]);
    expect(tk.padId).toBe(0);
    expect(byteTokenizer().maxLength).toBe(512);
    expect(() => byteTokenizer({ maxLength: 0 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});
