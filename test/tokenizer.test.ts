/** Byte-level BPE tokenizer: known answers worked out by hand on the fixture of tokenizer-fixtures.ts. */
import { describe, expect, it } from 'vitest';
import { BYTE_TO_CHAR } from '../src/model/tokenizer/byte-alphabet.js';
import { createTokenizer } from '../src/model/tokenizer/index.js';
import { BPE_IDS as T, bpeMetadata, byteChar, lcg, str } from './tokenizer-fixtures.js';

const quiet = { onWarning: (): void => {} };
const llama3 = createTokenizer(bpeMetadata(), quiet);
const gpt2 = createTokenizer(bpeMetadata({ 'tokenizer.ggml.pre': str('gpt2') }), quiet);
const enc = (tok: typeof llama3, s: string): number[] => tok.encode(s, { addBos: false });

describe('byte alphabet', () => {
  it('matches bytes_to_unicode', () => {
    for (let b = 0; b < 256; b++) expect(BYTE_TO_CHAR[b]).toBe(byteChar(b));
    expect(BYTE_TO_CHAR[0x20]).toBe('Ġ');
    expect(BYTE_TO_CHAR[0x0a]).toBe('Ċ');
    expect(BYTE_TO_CHAR[0x09]).toBe('ĉ');
    expect(BYTE_TO_CHAR[0xad]).toBe('Ń');
    // the well-known GPT-2 spelling of 😀 (F0 9F 98 80)
    expect([0xf0, 0x9f, 0x98, 0x80].map((b) => BYTE_TO_CHAR[b]).join('')).toBe('ðŁĺĢ');
  });
});

describe('BPE encode (llama3 pre-tokenizer, ignore_merges)', () => {
  it('properties', () => {
    expect(llama3.model).toBe('bpe');
    expect(llama3.preTokenizer).toBe('llama3');
    expect(llama3.vocabSize).toBe(277);
    expect(llama3.bosId).toBe(T.BOS);
    expect(llama3.eosId).toBe(T.EOS);
    expect(llama3.eotId).toBe(T.EOT); // found by its text
    expect([...llama3.stopIds].sort()).toEqual([T.EOS, T.EOT]);
    expect(llama3.addBosDefault).toBe(true); // llama3 pre, no add_bos_token key
    expect(gpt2.addBosDefault).toBe(false);
  });
  const cases: Array<[string, number[]]> = [
    ['the', [116, T.he]],
    [' the', [T.Gthe]],
    ['hello', [T.hello]], // whole pre-token is a vocabulary entry
    ['abc', [97, T.bc]], // "b c" (rank 8) beats "a b" (rank 9)
    ['aaa', [T.aa, 97]], // equal ranks: leftmost first
    ['aaaa', [T.aa, T.aa]],
    ['12345', [T.n123, 52, 53]], // "123" | "45"
    ['1234567', [T.n123, 52, 53, 54, 55]],
    ["I'm", [73, T.aposM]],
    ["I'M", [73, 39, 77]],
    ['a   ', [97, T.GG, 32]],
    [' \n\n', [32, T.NLNL]],
    ['a  b', [97, 32, 32, 98]], // "a" | " " | " b"
    ['\t\n', [9, 10]],
    ['é', [T.eAcute]],
    ['café', [99, 97, 102, T.eAcute]],
    ['😀', [240, 159, 152, 128]],
    ['中文', [228, 184, 173, 230, 150, 135]],
    ['a\u0085\u0085b', [97, 194, 133, 194, 133, 98]],
    ['\ufeffhello', [239, 187, 191, T.he, T.ll, 111]],
    ['', []],
  ];
  for (const [input, expected] of cases) it(JSON.stringify(input), () => expect(enc(llama3, input)).toEqual(expected));

  it('adds BOS by default and EOS on request', () => {
    expect(llama3.encode('hi')).toEqual([T.BOS, 104, 105]);
    expect(llama3.encode('hi', { addBos: false, addEos: true })).toEqual([104, 105, T.EOS]);
  });
});

describe('BPE encode (gpt2 pre-tokenizer, no ignore_merges)', () => {
  const cases: Array<[string, number[]]> = [
    ['hello', [T.he, T.ll, 111]], // merges only: he, ll, o
    [' the', [T.Gthe]], // Ġt (rank 0), he (rank 1), Ġthe (rank 2)
    ['12345', [T.n123, 52, 53]], // one pre-token; 12 → 123 then 4, 5
    ["DON'T", [68, 79, 78, 39, 84]],
  ];
  for (const [input, expected] of cases) it(JSON.stringify(input), () => expect(enc(gpt2, input)).toEqual(expected));
});

describe('special tokens', () => {
  it('are matched only with parseSpecial', () => {
    expect(llama3.encode('a<|eot_id|>b', { addBos: false, parseSpecial: true })).toEqual([97, T.EOT, 98]);
    expect(enc(llama3, 'a<|eot_id|>b')).toEqual([97, 60, 124, 101, 111, 116, 95, 105, 100, 124, 62, 98]);
  });
  it('longest token wins', () => {
    expect(llama3.encode('<|eot_id|>', { addBos: false, parseSpecial: true })).toEqual([T.EOT]);
    expect(llama3.encode('<|eot_i', { addBos: false, parseSpecial: true })).toEqual([T.EOT_PREFIX, 95, 105]);
    expect(llama3.encode('<|begin_of_text|><|eot_id|>', { addBos: false, parseSpecial: true })).toEqual([T.BOS, T.EOT]);
  });
  it('user-defined tokens are always matched', () => {
    expect(enc(llama3, 'x<tool>y')).toEqual([120, T.TOOL, 121]);
  });
  it('decode renders or skips control tokens', () => {
    expect(llama3.decode([97, T.EOT, 98])).toBe('a<|eot_id|>b');
    expect(llama3.decode([T.BOS, 97, T.EOT, 98], { skipSpecial: true })).toBe('ab');
    expect(llama3.decode([T.TOOL], { skipSpecial: true })).toBe('<tool>');
    expect(llama3.isSpecial(T.EOT)).toBe(true);
    expect(llama3.isSpecial(T.TOOL)).toBe(false);
  });
});

describe('decode', () => {
  it('known answers', () => {
    expect(llama3.decode([T.Gthe, 32, T.NLNL])).toBe(' the \n\n');
    expect(llama3.decode([240, 159, 152, 128])).toBe('😀');
    expect(llama3.decode([239, 187, 191, 104])).toBe('\ufeffh'); // a leading BOM character is kept
    expect(llama3.decode([240, 159])).toBe('\ufffd'); // unfinished sequence
    expect(llama3.tokenText(T.Gthe)).toBe('Ġthe');
    expect(llama3.tokenId('Ġthe')).toBe(T.Gthe);
  });
  it('streaming decoder holds back partial UTF-8', () => {
    const d = llama3.createDecoder();
    expect([240, 159, 152, 128].map((id) => d.push(id))).toEqual(['', '', '', '😀']);
    expect([228, 184, 173, 230].map((id) => d.push(id))).toEqual(['', '', '中', '']);
    expect(d.push(150)).toBe('');
    expect(d.push(135)).toBe('文');
    expect(d.push(T.Gthe)).toBe(' the');
    expect(d.flush()).toBe('');
    expect(d.push(240)).toBe('');
    expect(d.flush()).toBe('\ufffd');
    const s = llama3.createDecoder({ skipSpecial: true });
    expect([T.BOS, 104, T.EOT].map((id) => s.push(id)).join('')).toBe('h');
  });
  it('rejects ids outside the vocabulary', () => {
    expect(() => llama3.decode([277])).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => llama3.decode([-1])).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => llama3.decode([1.5])).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => llama3.createDecoder().push(9999)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => llama3.tokenText(277)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('round trip encode → decode', () => {
  const hard = [
    'Hello, world! The 12345 quick brown foxes.',
    "I'm sure DON'T won't we'LL",
    '  leading and trailing  \t\n',
    'tabs\t\tand\r\nCRLF\n\n\nnewlines \n \n ',
    '中文字符 and 日本語のテキスト、한국어',
    'emoji 😀👍🏽 👨‍👩‍👧 ❤️ flags 🇫🇷',
    '\ufeffBOM at start, \ufeff inside, NEL\u0085here, nbsp\u00a0, ideographic\u3000space',
    'e\u0301 combining, Ⅻ roman, ½ fraction, ٣ arabic digit',
    '<|eot_id|> typed by a user <tool> <|begin_of_text|>',
    ' '.repeat(300),
    'x'.repeat(1000),
  ];
  for (const tok of [llama3, gpt2]) {
    it(`hard strings (${tok.preTokenizer})`, () => {
      for (const s of hard) expect(tok.decode(tok.encode(s, { addBos: false }))).toBe(s);
      for (const s of hard) expect(tok.decode(tok.encode(s, { addBos: true, parseSpecial: true }), { skipSpecial: false })).toBe('<|begin_of_text|>' + s);
    });
  }
  it('random text, whole and streamed', () => {
    const pool = [...'ab cl1 23\t\n\r!\'mé中😀', '\u0085', '\ufeff', '\u3000', '<|eot_id|>', 'the', ' the', 'hello'];
    const rnd = lcg(7);
    for (let i = 0; i < 400; i++) {
      let s = '';
      for (let j = rnd() % 30; j > 0; j--) s += pool[rnd() % pool.length];
      for (const tok of [llama3, gpt2]) {
        const ids = tok.encode(s, { addBos: false, parseSpecial: (i & 1) === 1 });
        expect(tok.decode(ids)).toBe(s);
        const d = tok.createDecoder();
        expect(ids.map((id) => d.push(id)).join('') + d.flush()).toBe(s);
      }
    }
  });
});
