/**
 * Character classes for the regex-free pre-tokenizers, following llama.cpp's Unicode tables
 * (`unicode-data.cpp`): a code point is a *letter* (\p{L}), a *number* (\p{N}), *whitespace* (the
 * Unicode White_Space property, llama.cpp's `unicode_set_whitespace`) or *other*.
 *
 * Letters and numbers come from the engine's own Unicode property escapes (`\p{L}`, `\p{N}`), which
 * read the same Unicode Character Database llama.cpp's tables are generated from. Whitespace is an
 * explicit list and deliberately NOT JavaScript's `\s`:
 * - U+0085 NEXT LINE is whitespace here (JS `\s`: no);
 * - U+FEFF ZERO WIDTH NO-BREAK SPACE / BOM is *other* here (JS `\s`: yes);
 * - U+180E MONGOLIAN VOWEL SEPARATOR, U+200B ZERO WIDTH SPACE, U+001C–U+001F are *other*.
 * Combining marks (\p{M}) are neither letters nor numbers, so "e\u0301" is a letter then an other.
 * Lone surrogates (ill-formed UTF-16) classify as *other*.
 */

export const CLASS_OTHER = 0;
export const CLASS_LETTER = 1;
export const CLASS_NUMBER = 2;
export const CLASS_WHITESPACE = 3;
export type CharClass = typeof CLASS_OTHER | typeof CLASS_LETTER | typeof CLASS_NUMBER | typeof CLASS_WHITESPACE;

/** True for the 25 White_Space code points: U+0009–000D, 0020, 0085, 00A0, 1680, 2000–200A, 2028, 2029, 202F, 205F, 3000. */
export function isWhitespace(cp: number): boolean {
  if (cp <= 0x20) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d);
  if (cp < 0x85) return false;
  if (cp === 0x85 || cp === 0xa0 || cp === 0x1680 || cp === 0x3000) return true;
  if (cp < 0x2000) return false;
  return cp <= 0x200a || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f;
}

const LETTER_RE = /^\p{L}$/u;
const NUMBER_RE = /^\p{N}$/u;
const UNKNOWN = 0xff;

/** Lazily filled class table for the BMP (0xff = not yet computed); astral code points go to a Map. */
const bmpTable = new Uint8Array(0x10000).fill(UNKNOWN);
const astralTable = new Map<number, CharClass>();

function computeClass(cp: number): CharClass {
  if (isWhitespace(cp)) return CLASS_WHITESPACE;
  if (cp >= 0xd800 && cp <= 0xdfff) return CLASS_OTHER;
  const s = String.fromCodePoint(cp);
  if (LETTER_RE.test(s)) return CLASS_LETTER;
  if (NUMBER_RE.test(s)) return CLASS_NUMBER;
  return CLASS_OTHER;
}

// ASCII is hot: fill it eagerly.
for (let cp = 0; cp < 0x80; cp++) bmpTable[cp] = computeClass(cp);

/** Class of one code point (0 ≤ cp ≤ 0x10FFFF). */
export function charClass(cp: number): CharClass {
  if (cp < 0x10000) {
    const c = bmpTable[cp]!;
    if (c !== UNKNOWN) return c as CharClass;
    const k = computeClass(cp);
    bmpTable[cp] = k;
    return k;
  }
  let k = astralTable.get(cp);
  if (k === undefined) {
    k = computeClass(cp);
    astralTable.set(cp, k);
  }
  return k;
}

export function isLetter(cp: number): boolean {
  return charClass(cp) === CLASS_LETTER;
}

export function isNumber(cp: number): boolean {
  return charClass(cp) === CLASS_NUMBER;
}

/**
 * Strips leading and trailing characters of Python's `str.isspace()` set (the White_Space list
 * above plus U+001C–U+001F), i.e. what the reference chat templates' `.strip()` / Jinja `trim` remove.
 * Unlike `String.prototype.trim` it keeps U+FEFF and strips U+0085.
 */
export function trimPythonSpace(s: string): string {
  const isSp = (cp: number): boolean => isWhitespace(cp) || (cp >= 0x1c && cp <= 0x1f);
  let start = 0;
  let end = s.length;
  while (start < end && isSp(s.charCodeAt(start))) start++;
  while (end > start && isSp(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}
