import { describe, expect, it } from 'vitest';
import { preTokenize, resolvePreTokenizer } from '../src/model/tokenizer/pretokenize.js';
import { charClass, isLetter, isNumber, isWhitespace, trimPythonSpace, CLASS_OTHER, CLASS_WHITESPACE } from '../src/model/tokenizer/unicode-classes.js';
import { lcg } from './tokenizer-fixtures.js';

const l3 = (s: string): string[] => preTokenize(s, 'llama3');
const g2 = (s: string): string[] => preTokenize(s, 'gpt2');

describe('unicode classes (llama.cpp tables, not JS \\s)', () => {
  it('whitespace is exactly the White_Space set', () => {
    const ws = [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];
    for (let cp = 0x2000; cp <= 0x200a; cp++) ws.push(cp);
    const set = new Set(ws);
    const wrong: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x3100 ? 1 : 97) if (isWhitespace(cp) !== set.has(cp)) wrong.push(cp.toString(16));
    expect(wrong).toEqual([]);
    expect(isWhitespace(0xfeff)).toBe(false);
  });
  it('differs from JS \\s where llama.cpp differs', () => {
    expect(/\s/.test('\u0085')).toBe(false);
    expect(charClass(0x85)).toBe(CLASS_WHITESPACE);
    expect(/\s/.test('\ufeff')).toBe(true);
    expect(charClass(0xfeff)).toBe(CLASS_OTHER);
    expect(charClass(0x180e)).toBe(CLASS_OTHER);
    expect(charClass(0x200b)).toBe(CLASS_OTHER);
    expect(charClass(0x1c)).toBe(CLASS_OTHER);
  });
  it('letters and numbers', () => {
    expect(isLetter('中'.codePointAt(0)!)).toBe(true);
    expect(isLetter('é'.codePointAt(0)!)).toBe(true);
    expect(isLetter(0x301)).toBe(false); // combining acute: \p{M}, not \p{L}
    expect(isLetter('𝒜'.codePointAt(0)!)).toBe(true); // astral letter
    expect(isNumber('٣'.codePointAt(0)!)).toBe(true);
    expect(isNumber('½'.codePointAt(0)!)).toBe(true);
    expect(isNumber('Ⅻ'.codePointAt(0)!)).toBe(true); // Nl
    expect(charClass('😀'.codePointAt(0)!)).toBe(CLASS_OTHER);
    expect(charClass(0xd800)).toBe(CLASS_OTHER);
  });
  it('trimPythonSpace strips U+0085 and U+001F but keeps U+FEFF', () => {
    expect(trimPythonSpace('\u0085\u001f hi \u3000\n')).toBe('hi');
    expect(trimPythonSpace('\ufeffhi\ufeff')).toBe('\ufeffhi\ufeff');
  });
});

describe('llama3 pre-tokenizer: known splits', () => {
  const cases: Array<[string, string[]]> = [
    ['Hello world', ['Hello', ' world']],
    ['12345', ['123', '45']],
    ['1234567', ['123', '456', '7']],
    [' 123', [' ', '123']],
    ['$100', ['$', '100']],
    ["I'm", ['I', "'m"]],
    ["DON'T", ['DON', "'T"]],
    ["we'LL they're", ['we', "'LL", ' they', "'re"]],
    ["'sup", ["'s", 'up']],
    ["'lx", ["'lx"]],
    ["a'", ['a', "'"]],
    ['a  b', ['a', ' ', ' b']],
    ['a   ', ['a', '   ']],
    ['x \t\n \n  y', ['x', ' \t\n \n', ' ', ' y']],
    ['hello\r\nworld', ['hello', '\r\n', 'world']],
    ['hi!!\n\nyo', ['hi', '!!\n\n', 'yo']],
    ['\tword', ['\tword']],
    ['\nword', ['\n', 'word']],
    ['...abc', ['...', 'abc']],
    ['.abc', ['.abc']],
    ['a ,b', ['a', ' ,', 'b']],
    ['中文 字', ['中文', ' 字']],
    ['中\u3000文', ['中', '\u3000文']],
    ['I ❤️ you', ['I', ' ❤️', ' you']],
    ['😀😀!', ['😀😀!']],
    ['cafe\u0301 ok', ['cafe', '\u0301', ' ok']],
    ['١٢٣٤', ['١٢٣', '٤']],
    ['<|eot_id|>b', ['<|', 'eot', '_id', '|>', 'b']],
    // U+0085 is whitespace for llama.cpp (JS \s would glue "\u0085\u0085" as punctuation)
    ['a\u0085\u0085b', ['a', '\u0085', '\u0085b']],
    ['!\u0085', ['!', '\u0085']],
    // U+FEFF is not whitespace for llama.cpp (JS \s would split it off)
    ['a\ufeff\ufeffb', ['a', '\ufeff\ufeff', 'b']],
    ['!\ufeff', ['!\ufeff']],
    ['\ufeffhello', ['\ufeffhello']],
    ['a\u180e\u180eb', ['a', '\u180e\u180e', 'b']],
    ['', []],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => expect(l3(input)).toEqual(expected));
  }
});

describe('gpt2 pre-tokenizer: known splits', () => {
  const cases: Array<[string, string[]]> = [
    ['Hello world', ['Hello', ' world']],
    ['12345', ['12345']],
    [' 123', [' 123']],
    ["I'm", ['I', "'m"]],
    ["DON'T", ['DON', "'", 'T']],
    ['x \t\n \n  y', ['x', ' \t\n \n ', ' y']],
    ['hi!!\n\nyo', ['hi', '!!', '\n', '\n', 'yo']],
    ['\tword', ['\t', 'word']],
    [' !!abc', [' !!', 'abc']],
    ['a\u0085\u0085b', ['a', '\u0085', '\u0085', 'b']],
    ['a\ufeff\ufeffb', ['a', '\ufeff\ufeff', 'b']],
    ['a  ', ['a', '  ']],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => expect(g2(input)).toEqual(expected));
  }
});

/**
 * Independent oracle: the spec's patterns run by the JS regex engine (backtracking, leftmost
 * alternation like PCRE/Python `regex`) with `\s` replaced by llama.cpp's whitespace class.
 */
const WS = '\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ORACLE = {
  llama3: new RegExp(
    `'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${WS}\\p{L}\\p{N}]+[\\r\\n]*` +
      `|[${WS}]*[\\r\\n]+|[${WS}]+(?![^${WS}])|[${WS}]+`,
    'gu',
  ),
  gpt2: new RegExp(`'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`, 'gu'),
};

describe('pre-tokenizers agree with the regex oracle on random text', () => {
  const pool = [
    ...'aZé中文😀 \t\n\r\'sStTmMlLdDrReEvV1234567890½٣.,!?$<|>_-',
    '\u0085', '\ufeff', '\u00a0', '\u3000', '\u2028', '\u180e', '\u200b', '\u0301', '\u1680', '\u001c',
    "'s", "'LL", "'re", '  ', '\r\n', ' \n',
  ];
  const rnd = lcg(12345);
  const inputs: string[] = [];
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const len = rnd() % 24;
    for (let j = 0; j < len; j++) s += pool[rnd() % pool.length];
    inputs.push(s);
  }
  for (const kind of ['llama3', 'gpt2'] as const) {
    it(kind, () => {
      for (const s of inputs) {
        const expected = s.match(ORACLE[kind]) ?? [];
        const got = preTokenize(s, kind);
        if (got.join('\u0000') !== expected.join('\u0000')) expect({ s, got }).toEqual({ s, got: expected });
        expect(got.join('')).toBe(s);
      }
    });
  }
});

describe('tokenizer.ggml.pre mapping', () => {
  it('maps names', () => {
    for (const p of ['llama-bpe', 'llama3', 'llama-v3']) expect(resolvePreTokenizer(p)).toEqual({ name: 'llama3', ignoreMerges: true });
    for (const p of ['gpt2', 'default']) expect(resolvePreTokenizer(p)).toEqual({ name: 'gpt2', ignoreMerges: false });
    expect(resolvePreTokenizer('qwen2')).toEqual({ name: 'gpt2', ignoreMerges: false, unknown: true });
  });
});
