/**
 * tokenizer.json → GGUF tokenizer keys: the converted file's tokenizer must encode like a direct,
 * naive byte-level BPE over the tokenizer.json vocabulary and merges (written here independently).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { fileSource } from '../src/model/byte-source.js';
import { type GGUFFile, getBool, getNumber, getString, openGGUF } from '../src/model/gguf.js';
import type { GGUFMetadata } from '../src/model/gguf-types.js';
import { convertHFCheckpoint } from '../src/model/hf-convert.js';
import { type HFFixture, writeHFFixture } from '../src/model/hf-fixture.js';
import { convertHFTokenizer } from '../src/model/hf-tokenizer.js';
import { createTokenizer } from '../src/model/tokenizer/index.js';

/** GPT-2 bytes_to_unicode. */
const BYTE_CHAR: string[] = (() => {
  const keep = (b: number): boolean => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : 256 + extra++));
})();

const LLAMA3_JS = /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

interface TokJson {
  model: { vocab: Record<string, number>; merges: Array<string | [string, string]>; ignore_merges?: boolean };
  added_tokens: Array<{ id: number; content: string }>;
}

/** Naive BPE straight from tokenizer.json (no BOS, no special-token parsing). */
function directBpe(tj: TokJson, text: string): number[] {
  const vocab = new Map(Object.entries(tj.model.vocab));
  const rank = new Map(tj.model.merges.map((m, i) => [typeof m === 'string' ? m : m.join(' '), i]));
  const out: number[] = [];
  for (const [piece] of text.matchAll(LLAMA3_JS)) {
    const word = [...new TextEncoder().encode(piece)].map((b) => BYTE_CHAR[b]!).join('');
    if (tj.model.ignore_merges && vocab.has(word)) {
      out.push(vocab.get(word)!);
      continue;
    }
    let syms = [...word];
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = rank.get(`${syms[i]} ${syms[i + 1]}`);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      syms = [...syms.slice(0, best), syms[best]! + syms[best + 1]!, ...syms.slice(best + 2)];
    }
    for (const s of syms) out.push(vocab.get(s)!);
  }
  return out;
}

const TEXTS = [
  'Hello world, the quick brown fox jumps over the lazy dog.',
  "It's 2024!  We don't know where they've gone,\n\nbut WE'LL find out.",
  'Once upon a time there was a little girl who lived in a village near the forest.',
  'ünïcödé — ½ émoji 🙂 and 12345678 digits\t\ttabs   ',
  '   leading and trailing   ',
];

let root: string;
let fx: HFFixture;
let file: GGUFFile;
let tj: TokJson;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bitnet-hftok-'));
  fx = await writeHFFixture(join(root, 'ck'), { nLayer: 1, nEmbd: 128, nHead: 2, nHeadKv: 1, nFf: 256, nMerges: 100, seed: 9 });
  tj = JSON.parse(await readFile(join(fx.dir, 'tokenizer.json'), 'utf8')) as TokJson;
  await convertHFCheckpoint(fx.dir, join(root, 'out.gguf'), { type: 'i2_s' });
  file = await openGGUF(await fileSource(join(root, 'out.gguf')));
});
afterAll(async () => {
  await file?.close();
  await rm(root, { recursive: true, force: true });
});

describe('HF tokenizer conversion', () => {
  it('writes the GGUF tokenizer keys', () => {
    const md = file.metadata;
    expect(getString(md, 'tokenizer.ggml.model')).toBe('gpt2');
    expect(getString(md, 'tokenizer.ggml.pre')).toBe('llama-bpe');
    expect(getBool(md, 'tokenizer.ggml.add_bos_token')).toBe(true);
    // config.json ids win over tokenizer_config.json's eos_token ("<|eot_id|>").
    expect(getNumber(md, 'tokenizer.ggml.bos_token_id')).toBe(fx.bosId);
    expect(getNumber(md, 'tokenizer.ggml.eos_token_id')).toBe(fx.eosId);
    expect(getNumber(md, 'tokenizer.ggml.eot_token_id')).toBe(fx.eotId);
    expect(getNumber(md, 'tokenizer.ggml.padding_token_id')).toBe(fx.eosId);
    expect(getString(md, 'tokenizer.chat_template')).toMatch(/Assistant: /);
    expect((md.get('tokenizer.ggml.tokens')!.value as { values: string[] }).values).toEqual(fx.tokens);
    expect((md.get('tokenizer.ggml.merges')!.value as { values: string[] }).values).toEqual(fx.merges);
    const types = (md.get('tokenizer.ggml.token_type')!.value as { values: Int32Array }).values;
    expect([types[fx.bosId], types[fx.eosId], types[fx.eotId], types[fx.userTokenId!], types[65]]).toEqual([3, 3, 3, 4, 1]);
    const scores = (md.get('tokenizer.ggml.scores')!.value as { values: Float32Array }).values;
    expect(scores.length).toBe(fx.tokens.length);
    expect(scores.every((s) => s === 0)).toBe(true);
  });

  it('encodes exactly like a direct BPE over tokenizer.json', () => {
    const tok = createTokenizer(file.metadata, { onWarning: () => {} });
    expect([tok.preTokenizer, tok.bosId, tok.eosId, tok.eotId]).toEqual(['llama3', fx.bosId, fx.eosId, fx.eotId]);
    expect([...tok.stopIds].sort()).toEqual([fx.eosId, fx.eotId].sort());
    expect(directBpe(tj, TEXTS[0]!).length).toBeLessThan(TEXTS[0]!.length * 0.7); // merges really apply
    for (const text of TEXTS) {
      const direct = directBpe(tj, text);
      expect(direct.every((id) => Number.isInteger(id))).toBe(true);
      expect(tok.encode(text, { addBos: false }), text).toEqual(direct);
      expect(tok.encode(text)).toEqual([fx.bosId, ...direct]);
      expect(tok.decode(direct)).toBe(text);
    }
    expect(tok.encode('a<|user_token|>b', { addBos: false })).toEqual([...directBpe(tj, 'a'), fx.userTokenId, ...directBpe(tj, 'b')]);
    expect(tok.encode('x<|eot_id|>', { addBos: false, parseSpecial: true }).at(-1)).toBe(fx.eotId);
  });
});

describe('convertHFTokenizer edge cases', () => {
  const md = (entries: ReturnType<typeof convertHFTokenizer>['entries']): GGUFMetadata => new Map(entries);
  const base = (): { model: Record<string, unknown>; added_tokens: unknown[]; pre_tokenizer?: unknown } => ({
    model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2, 'Ġ': 3 }, merges: [['a', 'b']] },
    added_tokens: [{ id: 4, content: '<s>', special: true }],
  });
  const code = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(BitNetError);
      return (e as BitNetError).code;
    }
    return 'none';
  };

  it('accepts pair merges, pads to vocab_size, reads names from tokenizer_config, detects gpt2 pre-tokenizers', () => {
    const warnings: string[] = [];
    const gpt2 = { ...base(), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true } };
    const r = convertHFTokenizer(gpt2, { bos_token: { content: '<s>' }, eos_token: '<s>', add_bos_token: false }, { vocabSize: 7, onWarning: (m) => warnings.push(m) });
    expect(r.tokens).toEqual(['a', 'b', 'ab', 'Ġ', '<s>', '[PAD5]', '[PAD6]']);
    expect([r.pre, r.bosId, r.eosId, r.padId, r.eotId]).toEqual(['gpt2', 4, 4, 4, undefined]);
    expect(getBool(md(r.entries), 'tokenizer.ggml.add_bos_token')).toBe(false);
    expect((md(r.entries).get('tokenizer.ggml.merges')!.value as { values: string[] }).values).toEqual(['a b']);
    expect(warnings.join()).toMatch(/2 ids without a token/);
    expect(convertHFTokenizer(base(), undefined, { onWarning: (m) => warnings.push(m) }).pre).toBe('llama-bpe');
    expect(warnings.at(-1)).toMatch(/unrecognised pre-tokenizer/);
  });

  it('rejects what it cannot convert', () => {
    const t = base();
    expect(code(() => convertHFTokenizer({ ...t, model: { ...t.model, type: 'Unigram' } }, undefined))).toBe('BAD_TOKENIZER');
    expect(code(() => convertHFTokenizer({ ...t, model: { ...t.model, byte_fallback: true } }, undefined))).toBe('BAD_TOKENIZER');
    expect(code(() => convertHFTokenizer({ ...t, model: { ...t.model, merges: ['a c'] } }, undefined))).toBe('BAD_TOKENIZER');
    expect(code(() => convertHFTokenizer({ ...t, model: { ...t.model, merges: ['ab'] } }, undefined))).toBe('BAD_TOKENIZER');
    expect(code(() => convertHFTokenizer({ ...t, model: { ...t.model, vocab: { a: 0, b: 0 } } }, undefined))).toBe('BAD_TOKENIZER');
    expect(code(() => convertHFTokenizer(t, { eos_token: '</s>' }))).toBe('BAD_TOKENIZER');
    expect(code(() => convertHFTokenizer(t, undefined, { vocabSize: 3 }))).toBe('VOCAB_MISMATCH');
    expect(code(() => convertHFTokenizer(t, undefined, { bosTokenId: 9 }))).toBe('BAD_TOKENIZER');
    expect(code(() => convertHFTokenizer({}, undefined))).toBe('BAD_TOKENIZER');
  });
});
