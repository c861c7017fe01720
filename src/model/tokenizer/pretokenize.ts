/**
 * Regex-free pre-tokenizers: hand-written scanners equivalent to the two split patterns below, with
 * `\s`, `\p{L}`, `\p{N}` taken from unicode-classes.ts (llama.cpp's tables, not JS `\s`). Matches are
 * taken left to right, non-overlapping; every match is one pre-token, and the pre-tokens always
 * concatenate back to the input.
 *
 * llama3 (LLaMA-3 / tiktoken cl100k-style, FORMATS §6.3):
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * gpt2:
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * The contraction group is case-insensitive for ASCII letters only, like llama.cpp (which lowercases
 * with `unicode_tolower`; no code point other than A–Z lowercases to one of s,t,r,e,v,m,l,d). A full
 * Unicode case-insensitive regex would additionally accept U+017F "ſ" for `'s`; neither llama.cpp nor
 * this scanner does.
 */
import { CLASS_LETTER, CLASS_NUMBER, CLASS_OTHER, CLASS_WHITESPACE, charClass } from './unicode-classes.js';

export type PreTokenizerName = 'llama3' | 'gpt2';

/** Class value for positions past the end of the text (matches no class). */
const END = 0xff;
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const APOS = 0x27;

/** The text as code points with their classes and UTF-16 offsets (offs[i] = start of code point i, offs[n] = length). */
interface Scan {
  readonly n: number;
  readonly cps: Int32Array;
  readonly cls: Uint8Array;
  readonly offs: Int32Array;
}

function scan(text: string): Scan {
  const len = text.length;
  const cps = new Int32Array(len);
  const cls = new Uint8Array(len + 2).fill(END);
  const offs = new Int32Array(len + 1);
  let n = 0;
  for (let i = 0; i < len; ) {
    const cp = text.codePointAt(i)!;
    offs[n] = i;
    cps[n] = cp;
    cls[n] = charClass(cp);
    n++;
    i += cp > 0xffff ? 2 : 1;
  }
  offs[n] = len;
  cls.fill(END, n);
  return { n, cps, cls, offs };
}

function lowerAscii(cp: number): number {
  return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
}

/**
 * Length (in code points) of a contraction starting at `pos` (which holds an apostrophe), or 0.
 * `'s 't 'd 'm` are 2 long, `'re 've 'll` are 3 long.
 */
function contractionLength(s: Scan, pos: number, caseInsensitive: boolean): number {
  if (pos + 1 >= s.n) return 0;
  const fold = caseInsensitive ? lowerAscii : (c: number): number => c;
  const c1 = fold(s.cps[pos + 1]!);
  if (c1 === 0x73 || c1 === 0x74 || c1 === 0x64 || c1 === 0x6d) return 2; // s t d m
  if (pos + 2 >= s.n) return 0;
  const c2 = fold(s.cps[pos + 2]!);
  if ((c1 === 0x72 && c2 === 0x65) || (c1 === 0x76 && c2 === 0x65) || (c1 === 0x6c && c2 === 0x6c)) return 3; // re ve ll
  return 0;
}

function isCrLf(cp: number): boolean {
  return cp === CR || cp === LF;
}

/** Ends (exclusive code point indices) of the LLaMA-3 pre-tokens. */
function splitLlama3(s: Scan, ends: number[]): void {
  const { n, cps, cls } = s;
  let pos = 0;
  while (pos < n) {
    const c = cps[pos]!;
    const k = cls[pos]!;
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (c === APOS) {
      const m = contractionLength(s, pos, true);
      if (m > 0) {
        pos += m;
        ends.push(pos);
        continue;
      }
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+ : one optional non-letter/number/newline char, then letters
    if (!isCrLf(c) && k !== CLASS_NUMBER && (k === CLASS_LETTER || cls[pos + 1] === CLASS_LETTER)) {
      let e = pos + 1;
      while (cls[e] === CLASS_LETTER) e++;
      pos = e;
      ends.push(pos);
      continue;
    }
    // \p{N}{1,3}
    if (k === CLASS_NUMBER) {
      let e = pos + 1;
      while (e - pos < 3 && cls[e] === CLASS_NUMBER) e++;
      pos = e;
      ends.push(pos);
      continue;
    }
    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    const k2 = c === SPACE ? cls[pos + 1]! : k;
    if (k2 === CLASS_OTHER) {
      let e = c === SPACE ? pos + 1 : pos;
      while (cls[e] === CLASS_OTHER) e++;
      while (e < n && isCrLf(cps[e]!)) e++;
      pos = e;
      ends.push(pos);
      continue;
    }
    // Here cps[pos] is whitespace. Measure the whole whitespace run.
    let e = pos;
    let lastNewlineEnd = -1;
    while (cls[e] === CLASS_WHITESPACE) {
      if (isCrLf(cps[e]!)) lastNewlineEnd = e + 1;
      e++;
    }
    if (lastNewlineEnd > 0) {
      // \s*[\r\n]+ : greedy \s* backtracks to the last newline of the run
      pos = lastNewlineEnd;
    } else if (e - pos > 1 && e < n) {
      // \s+(?!\S) : leave the run's last char to prefix the following non-space
      pos = e - 1;
    } else {
      // \s+
      pos = e > pos ? e : pos + 1;
    }
    ends.push(pos);
  }
}

/** Ends (exclusive code point indices) of the GPT-2 pre-tokens. */
function splitGpt2(s: Scan, ends: number[]): void {
  const { n, cps, cls } = s;
  let pos = 0;
  while (pos < n) {
    const c = cps[pos]!;
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive)
    if (c === APOS) {
      const m = contractionLength(s, pos, false);
      if (m > 0) {
        pos += m;
        ends.push(pos);
        continue;
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class
    const k2 = c === SPACE ? cls[pos + 1]! : cls[pos]!;
    if (k2 === CLASS_LETTER || k2 === CLASS_NUMBER || k2 === CLASS_OTHER) {
      let e = c === SPACE ? pos + 1 : pos;
      while (cls[e] === k2) e++;
      pos = e;
      ends.push(pos);
      continue;
    }
    // \s+(?!\S)|\s+
    let e = pos;
    while (cls[e] === CLASS_WHITESPACE) e++;
    if (e - pos > 1 && e < n) pos = e - 1;
    else pos = e > pos ? e : pos + 1;
    ends.push(pos);
  }
}

/** Splits `text` into pre-tokens (substrings of `text`, in order, concatenating to `text`). */
export function preTokenize(text: string, kind: PreTokenizerName): string[] {
  if (text.length === 0) return [];
  const s = scan(text);
  const ends: number[] = [];
  if (kind === 'llama3') splitLlama3(s, ends);
  else splitGpt2(s, ends);
  const out: string[] = new Array<string>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = s.offs[ends[i]!]!;
    out[i] = text.slice(start, end);
    start = end;
  }
  return out;
}

/** Resolution of a `tokenizer.ggml.pre` value. */
export interface PreTokenizerChoice {
  readonly name: PreTokenizerName;
  /** llama.cpp sets `ignore_merges` for the LLaMA-3 pre-tokenizer (FORMATS §6.3, §6.5 step 1). */
  readonly ignoreMerges: boolean;
  /** Set when the value was not recognised. */
  readonly unknown?: boolean;
}

/**
 * Maps a `tokenizer.ggml.pre` value to a pattern.
 * - `llama-bpe`, `llama3`, `llama-v3` → llama3 pattern with ignore_merges.
 * - `gpt2` → gpt2 pattern.
 * - `default` → gpt2 pattern. Note: llama.cpp's `default` is a degraded fallback that applies four
 *   regexes in sequence (`[\p{P}\$\+<=>\^~\|]+`, a GPT-2-like pattern without the trailing `\s+`,
 *   `\p{N}+`, `[0-9][0-9][0-9]`) and logs "GENERATION QUALITY WILL BE DEGRADED". We do not reproduce
 *   that degradation; the plain GPT-2 pattern is the closest faithful reading of the model's tokenizer.
 * - anything else → gpt2 pattern, flagged `unknown` so the caller can warn.
 */
export function resolvePreTokenizer(pre: string): PreTokenizerChoice {
  switch (pre) {
    case 'llama-bpe':
    case 'llama3':
    case 'llama-v3':
      return { name: 'llama3', ignoreMerges: true };
    case 'gpt2':
    case 'default':
      return { name: 'gpt2', ignoreMerges: false };
    default:
      return { name: 'gpt2', ignoreMerges: false, unknown: true };
  }
}

