/**
 * A small, deterministic byte-level BPE vocabulary for fixture GGUFs (FORMATS.md §6.1, §6.4):
 * ids 0..255 are the single bytes (id = byte value) written in the GPT-2 `bytes_to_unicode` alphabet,
 * then the tokens created by a few hundred merges learned from a built-in English text, then filler
 * tokens (`Ā<fill-N>`, unreachable from ordinary text), then control tokens (type 3).
 *
 * Layouts: 'small' puts `<|begin_of_text|>`, `<|end_of_text|>`, `<|eot_id|>` at the last three ids;
 * 'llama3' reserves the last 256 ids like LLaMA-3 (begin = base, end = base+1, headers at +6/+7,
 * eot at +9, other slots `<|reserved_special_token_N|>`).
 */
import { BitNetError } from '../errors.js';

/** GPT-2 bytes_to_unicode: byte → code point. */
export function gpt2ByteToChar(): string[] {
  const out = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = String.fromCodePoint(printable ? b : 256 + extra++);
  }
  return out;
}

const CORPUS = `The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.
Once upon a time there was a little girl who lived in a village near the forest. Whenever she went out,
the little girl wore a red riding cloak, so everyone in the village called her Little Red Riding Hood.
In the beginning the world was quiet and the sky was clear. People would walk along the river in the
morning and talk about the weather, the news of the day, and the things they wanted to do in the future.
There are many ways to learn something new: reading a book, listening to a teacher, or simply trying it
yourself and making mistakes. What matters is that you keep going, even when it is hard. I think that
the most important thing is to be kind to other people and to help them when they need it.
She said that she would come back in the evening, but he did not believe her. They were waiting for
the train at the station when it started to rain. The children were playing in the garden and their
mother was reading a letter from her brother, who had moved to another country three years ago.
Language models predict the next token from the previous ones. A token can be a word, a part of a word,
or a single character. This model is small and it is only used for testing the loader and the tokenizer.
Hello, world! How are you today? I am fine, thank you. Let us meet at 10 o'clock on Monday, 12 June 2024.
We don't know where they've gone, but we'll find out; you're right that it's going to take some time.`;

const PRETOKEN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

let cached: { max: number; merges: Array<[string, string]> } | null = null;

/**
 * Learns up to `maxMerges` BPE merges from the built-in corpus (most frequent pair first, ties → lexicographically
 * smallest pair). Greedy, so a smaller request is a prefix of a larger one; results are cached.
 */
export function learnMerges(maxMerges: number): Array<[string, string]> {
  if (!cached || (cached.max < maxMerges && cached.merges.length === cached.max)) {
    cached = { max: maxMerges, merges: trainMerges(maxMerges, CORPUS) };
  }
  return cached.merges.slice(0, maxMerges);
}

function trainMerges(maxMerges: number, corpus: string): Array<[string, string]> {
  const alphabet = gpt2ByteToChar();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const m of corpus.matchAll(PRETOKEN)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const words = [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([w, n]) => ({
    syms: [...enc.encode(w)].map((b) => alphabet[b]!),
    n,
  }));
  const merges: Array<[string, string]> = [];
  while (merges.length < maxMerges) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.syms.length; i++) {
        const key = `${w.syms[i]} ${w.syms[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + w.n);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [k, c] of pairs) {
      if (c > bestCount || (c === bestCount && best !== null && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === null) break;
    const [a, b] = best.split(' ') as [string, string];
    merges.push([a, b]);
    for (const w of words) {
      const next: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(w.syms[i]!);
      }
      w.syms = next;
    }
  }
  return merges;
}

export interface FixtureVocab {
  readonly tokens: string[];
  readonly tokenTypes: Int32Array;
  readonly merges: string[];
  readonly bosId: number;
  readonly eosId: number;
  readonly eotId: number;
}

/**
 * Builds a vocabulary of exactly `size` tokens.
 * @throws BitNetError BAD_OPTION when `size` cannot hold the bytes and control tokens.
 */
export function buildFixtureVocab(size: number, maxMerges = 300, layout: 'small' | 'llama3' = 'small'): FixtureVocab {
  const nSpecial = layout === 'llama3' ? 256 : 3;
  if (!Number.isSafeInteger(size) || size < 256 + nSpecial) {
    throw new BitNetError('BAD_OPTION', `fixture vocabulary of ${size} cannot hold 256 byte tokens and ${nSpecial} control tokens`);
  }
  const base = size - nSpecial;
  const tokens = gpt2ByteToChar();
  const seen = new Set(tokens);
  const merges: string[] = [];
  for (const [a, b] of learnMerges(Math.max(0, maxMerges))) {
    const t = a + b;
    if (!seen.has(t)) {
      if (tokens.length >= base) break;
      seen.add(t);
      tokens.push(t);
    }
    merges.push(`${a} ${b}`);
  }
  for (let i = 0; tokens.length < base; i++) tokens.push(`\u0100<fill-${i}>`);
  const tokenTypes = new Int32Array(size).fill(1);
  let bosId: number;
  let eosId: number;
  let eotId: number;
  if (layout === 'llama3') {
    const names = ['<|begin_of_text|>', '<|end_of_text|>', '', '', '', '', '<|start_header_id|>', '<|end_header_id|>', '', '<|eot_id|>'];
    let reserved = 0;
    for (let i = 0; i < 256; i++) tokens.push(names[i] || `<|reserved_special_token_${reserved++}|>`);
    [bosId, eosId, eotId] = [base, base + 1, base + 9];
  } else {
    tokens.push('<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>');
    [bosId, eosId, eotId] = [base, base + 1, base + 2];
  }
  tokenTypes.fill(3, base);
  return { tokens, tokenTypes, merges, bosId, eosId, eotId };
}
