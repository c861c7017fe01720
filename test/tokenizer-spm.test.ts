/** SentencePiece tokenizer: known answers worked out by hand on the SPM fixture of tokenizer-fixtures.ts. */
import { describe, expect, it } from 'vitest';
import { createTokenizer } from '../src/model/tokenizer/index.js';
import { bool, lcg, spmMetadata } from './tokenizer-fixtures.js';

const quiet = { onWarning: (): void => {} };
const spm = createTokenizer(spmMetadata(), quiet);
const noPrefix = createTokenizer(spmMetadata({ extra: { 'tokenizer.ggml.add_space_prefix': bool(false) } }), quiet);
const noBytes = createTokenizer(spmMetadata({ byteTokens: false }), quiet);

// piece ids (see fixture)
const P = { sp: 259, h: 260, e: 261, l: 262, o: 263, a: 264, i: 265, sp_h: 266, he: 267, ll: 268, llo: 269, sp_he: 270, aa: 271 };
const byte = (b: number): number => 3 + b;

describe('SPM encode', () => {
  it('properties', () => {
    expect(spm.model).toBe('spm');
    expect(spm.preTokenizer).toBe('none');
    expect(spm.bosId).toBe(1);
    expect(spm.eosId).toBe(2);
    expect(spm.unkId).toBe(0);
    expect(spm.addBosDefault).toBe(true);
    expect([...spm.stopIds]).toEqual([2]);
  });
  it('merges by highest score: "▁hello" → ▁he | llo', () => {
    // he(−1) first, then ll(−2), llo(−3), ▁he(−4); ▁h(−5) is stale by then.
    expect(spm.encode('hello')).toEqual([1, P.sp_he, P.llo]);
  });
  it('equal scores merge leftmost first', () => {
    expect(spm.encode('aaa', { addBos: false })).toEqual([P.sp, P.aa, P.a]);
  });
  it('byte fallback for characters without a piece', () => {
    expect(spm.encode('hé', { addBos: false })).toEqual([P.sp_h, byte(0xc3), byte(0xa9)]);
    expect(spm.encode('a b', { addBos: false })).toEqual([P.sp, P.a, P.sp, byte(0x62)]);
    expect(spm.encode('h\n', { addBos: false })).toEqual([P.sp_h, byte(0x0a)]);
    expect(spm.encode('😀', { addBos: false })).toEqual([P.sp, byte(0xf0), byte(0x9f), byte(0x98), byte(0x80)]);
  });
  it('unknown token when the vocabulary has no byte tokens', () => {
    expect(noBytes.encode('hé', { addBos: false })).toEqual([P.sp_h, 0]);
  });
  it('add_space_prefix = false', () => {
    expect(noPrefix.encode('hello', { addBos: false })).toEqual([P.he, P.llo]);
  });
  it('special tokens, and the space prefix after them', () => {
    expect(spm.encode('<s>hi', { addBos: false, parseSpecial: true })).toEqual([1, P.sp_h, P.i]);
    expect(spm.encode('<s>hi', { addBos: false })).toEqual([P.sp, byte(0x3c), byte(0x73), byte(0x3e), P.h, P.i]);
    expect(spm.encode('', { addBos: true })).toEqual([1]);
  });
});

describe('SPM decode', () => {
  it('known answers', () => {
    expect(spm.decode([1, P.sp_he, P.llo])).toBe('<s>hello');
    expect(spm.decode([1, P.sp_he, P.llo], { skipSpecial: true })).toBe('hello');
    expect(spm.decode([P.sp_h, byte(0xc3), byte(0xa9)])).toBe('hé');
    expect(spm.decode([P.sp, P.a, P.sp, byte(0x62)])).toBe('a b');
    expect(spm.decode([P.sp, P.sp_h])).toBe(' h'); // only one prefix space is removed
    expect(noPrefix.decode([P.sp_h])).toBe(' h');
  });
  it('streaming: partial bytes are held back; prefix stripping is opt-in', () => {
    const d = spm.createDecoder();
    expect([P.sp_h, byte(0xc3), byte(0xa9)].map((id) => d.push(id))).toEqual([' h', '', 'é']);
    const s = spm.createDecoder({ stripLeadingSpace: true, skipSpecial: true });
    expect([1, P.sp_h, P.sp_h].map((id) => s.push(id))).toEqual(['', 'h', ' h']);
  });
  it('round trips', () => {
    const hard = ['hello world', ' two  spaces ', 'é中😀\n\ttab', '<s>hi</s> there', '', '   '];
    for (const s of hard) {
      expect(spm.decode(spm.encode(s))).toBe('<s>' + s);
      expect(spm.decode(spm.encode(s), { skipSpecial: true })).toBe(s);
      expect(spm.decode(spm.encode(s, { parseSpecial: true, addBos: false }))).toBe(s);
      expect(noPrefix.decode(noPrefix.encode(s, { addBos: false }))).toBe(s);
    }
    const pool = [...'helo aix\n\té中😀', '<s>', '</s>', '  '];
    const rnd = lcg(99);
    for (let n = 0; n < 300; n++) {
      let s = '';
      for (let j = rnd() % 20; j > 0; j--) s += pool[rnd() % pool.length];
      expect(spm.decode(spm.encode(s, { parseSpecial: (n & 1) === 1 }), { skipSpecial: (n & 1) === 0 })).toBe((n & 1) === 1 ? '<s>' + s : s);
    }
  });
});
