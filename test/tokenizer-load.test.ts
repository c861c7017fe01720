/** Loading: validation errors, pre-tokenizer selection warnings, and load speed on a LLaMA-3-sized table. */
import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../src/model/tokenizer/index.js';
import type { GGUFEntry } from '../src/model/gguf-types.js';
import { bool, bpeMetadata, bpeTokens, byteChar, i32, i32Arr, spmMetadata, str, strArr, u32 } from './tokenizer-fixtures.js';

const bad = expect.objectContaining({ code: 'BAD_TOKENIZER' });
const quiet = { onWarning: (): void => {} };
const load = (extra: Record<string, GGUFEntry | undefined>): unknown => createTokenizer(bpeMetadata(extra), quiet);

describe('validation', () => {
  it('model key', () => {
    expect(() => load({ 'tokenizer.ggml.model': undefined })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.model': str('bert') })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.model': u32(2) })).toThrow(bad);
  });
  it('tokens', () => {
    expect(() => load({ 'tokenizer.ggml.tokens': undefined })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.tokens': strArr([]) })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.tokens': str('abc') })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.token_type': i32Arr([1, 1]) })).toThrow(bad);
  });
  it('merges', () => {
    expect(() => load({ 'tokenizer.ggml.merges': undefined })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.merges': strArr(['h e', 'h zz']) })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.merges': strArr(['qq e']) })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.merges': strArr(['he']) })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.merges': strArr([]) })).not.toThrow();
  });
  it('special ids', () => {
    expect(() => load({ 'tokenizer.ggml.bos_token_id': u32(277) })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.eos_token_id': u32(100000) })).toThrow(bad);
    expect(() => load({ 'tokenizer.ggml.eot_token_id': i32(-5) })).toThrow(bad);
    // -1 / 0xFFFFFFFF mean "none"; the text fallback then applies
    const t = createTokenizer(bpeMetadata({ 'tokenizer.ggml.bos_token_id': i32(-1) }), quiet);
    expect(t.bosId).toBe(270);
    const e = createTokenizer(bpeMetadata({ 'tokenizer.ggml.eot_token_id': u32(271) }), quiet);
    expect(e.eotId).toBe(271);
    expect([...e.stopIds]).toEqual([271]);
  });
  it('SPM scores length', () => {
    const md = spmMetadata();
    md.set('tokenizer.ggml.scores', i32Arr([1, 2, 3]));
    expect(() => createTokenizer(md, quiet)).toThrow(bad);
  });
  it('a merge whose result is not a token applies, and the symbol falls back to single bytes', () => {
    const { tokens } = bpeTokens();
    expect(tokens.includes('xy')).toBe(false);
    // "x y" (rank 0) then "Ġ x" (rank 1): in " xy" the x is taken by x+y first, so Ġ x never merges.
    const t = createTokenizer(bpeMetadata({ 'tokenizer.ggml.merges': strArr(['x y', 'Ġ x']) }), quiet);
    expect(t.encode(' xy', { addBos: false })).toEqual([32, 120, 121]);
    expect(t.encode(' xz', { addBos: false })).toEqual([32, 120, 122]); // "Ġx" is not a token either
  });
});

/** A vocabulary shaped like LLaMA-3's: 128000 base tokens then 256 control tokens from id 128000. */
function llama3ShapedTokens(): { tokens: string[]; types: number[] } {
  const tokens: string[] = [];
  for (let b = 0; b < 256; b++) tokens.push(byteChar(b));
  for (let i = tokens.length; i < 128000; i++) tokens.push(`w${i}`);
  tokens.push('<|begin_of_text|>', '<|end_of_text|>');
  for (let i = 0; i < 4; i++) tokens.push(`<|reserved_special_token_${i}|>`);
  tokens.push('<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_4|>', '<|eot_id|>');
  for (let i = 5; tokens.length < 128256; i++) tokens.push(`<|reserved_special_token_${i}|>`);
  return { tokens, types: tokens.map((_, id) => (id >= 128000 ? 3 : 1)) };
}

describe('pre-tokenizer selection', () => {
  it('missing pre + LLaMA-3 vocabulary → llama3, with a warning (official 2B-4T GGUF)', () => {
    const { tokens, types } = llama3ShapedTokens();
    const warnings: string[] = [];
    const t = createTokenizer(
      bpeMetadata({
        'tokenizer.ggml.pre': undefined,
        'tokenizer.ggml.tokens': strArr(tokens),
        'tokenizer.ggml.token_type': i32Arr(types),
        'tokenizer.ggml.merges': strArr([]),
        'tokenizer.ggml.bos_token_id': u32(128000),
        'tokenizer.ggml.eos_token_id': u32(128001),
        'tokenizer.ggml.add_bos_token': bool(true),
      }),
      { onWarning: (m) => warnings.push(m) },
    );
    expect(t.preTokenizer).toBe('llama3');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/llama3/);
    expect(t.eotId).toBe(128009);
    expect([...t.stopIds].sort()).toEqual([128001, 128009]);
    expect(t.encode('hi<|eot_id|>', { parseSpecial: true })).toEqual([128000, 104, 105, 128009]);
  });
  it('missing pre otherwise → gpt2 (default), with a warning', () => {
    const warnings: string[] = [];
    const t = createTokenizer(bpeMetadata({ 'tokenizer.ggml.pre': undefined }), { onWarning: (m) => warnings.push(m) });
    expect(t.preTokenizer).toBe('gpt2');
    expect(warnings).toHaveLength(1);
  });
  it('unknown pre → gpt2 with a warning; known pre → no warning', () => {
    const warnings: string[] = [];
    expect(createTokenizer(bpeMetadata({ 'tokenizer.ggml.pre': str('qwen2') }), { onWarning: (m) => warnings.push(m) }).preTokenizer).toBe('gpt2');
    expect(warnings).toHaveLength(1);
    createTokenizer(bpeMetadata({ 'tokenizer.ggml.pre': str('llama3') }), { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
  });
});

describe('load speed', () => {
  it('128256 tokens and >280k merges load quickly', () => {
    // Letters a–z, A–Z stand for themselves in the byte alphabet. Vocabulary: 256 bytes, all 2-letter
    // strings, the first N3 3-letter and first N4 4-letter strings (lexicographic), then 256 controls.
    const A = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const tokens: string[] = [];
    for (let b = 0; b < 256; b++) tokens.push(byteChar(b));
    const merges: string[] = [];
    for (const x of A) for (const y of A) { tokens.push(x + y); merges.push(`${x} ${y}`); }
    const n4 = 60000;
    const n3 = 128000 - tokens.length - n4;
    const have = new Set(tokens);
    let k = 0;
    outer3: for (const x of A) for (const y of A) for (const z of A) {
      if (k++ >= n3) break outer3;
      tokens.push(x + y + z);
      have.add(x + y + z);
      merges.push(`${x}${y} ${z}`, `${x} ${y}${z}`);
    }
    k = 0;
    outer4: for (const w of A) for (const x of A) for (const y of A) for (const z of A) {
      if (k++ >= n4) break outer4;
      tokens.push(w + x + y + z);
      merges.push(`${w}${x}${y} ${z}`, `${w}${x} ${y}${z}`);
      if (have.has(x + y + z)) merges.push(`${w} ${x}${y}${z}`);
    }
    for (let i = 0; tokens.length < 128256; i++) tokens.push(`<|reserved_special_token_${i}|>`);
    expect(merges.length).toBeGreaterThan(280000);

    const md = bpeMetadata({
      'tokenizer.ggml.tokens': strArr(tokens),
      'tokenizer.ggml.token_type': i32Arr(tokens.map((_, id) => (id >= 128000 ? 3 : 1))),
      'tokenizer.ggml.merges': strArr(merges),
      'tokenizer.ggml.bos_token_id': u32(128000),
      'tokenizer.ggml.eos_token_id': u32(128001),
    });
    const t0 = performance.now();
    const tok = createTokenizer(md, quiet);
    const ms = performance.now() - t0;
    // Typically ~200 ms; the bound is loose because the test machine is shared.
    expect(ms).toBeLessThan(2500);
    const text = 'abcd ABC zz Hello, world! 12345 ' + 'abcdefgh '.repeat(200);
    const ids = tok.encode(text, { addBos: false });
    expect(tok.decode(ids)).toBe(text);
    expect(tok.encode('abcd', { addBos: false })).toEqual([tokens.indexOf('abcd')]); // ignore_merges
  });
});
