/**
 * GPT-2 `bytes_to_unicode` alphabet (FORMATS §6.4): every UTF-8 byte is written as one code point so
 * byte-level BPE vocabularies and merges are plain strings.
 * - bytes 33–126, 161–172, 174–255 → the code point with the same value;
 * - the other 68 bytes (0–32, 127–160, 173), in increasing order → U+0100 … U+0143.
 * Examples: space → "Ġ" (U+0120), "\n" → "Ċ" (U+010A), "\t" → "ĉ" (U+0109), 0xAD → "Ń" (U+0143).
 */

/** BYTE_TO_CHAR[b] = the one-character string standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    out[b] = String.fromCharCode(printable ? b : 0x100 + extra++);
  }
  return out;
})();

/** CHAR_TO_BYTE[cp] = byte for alphabet code points (all ≤ U+0143), -1 elsewhere. */
const CHAR_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(0x144).fill(-1);
  for (let b = 0; b < 256; b++) t[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b;
  return t;
})();

/** The byte a code point stands for, or -1 when it is not in the alphabet. */
export function charToByte(cp: number): number {
  return cp < 0x144 ? CHAR_TO_BYTE[cp]! : -1;
}

/** Writes bytes in the alphabet: one character per byte. */
export function bytesToAlphabet(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

const utf8Encoder = new TextEncoder();

/** UTF-8 of a string (lone surrogates become EF BF BD, as TextEncoder does). */
export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Reverses the alphabet: each character of `text` gives its byte. Characters outside the alphabet
 * (possible only in hand-made vocabularies) are kept as their own UTF-8 bytes rather than dropped.
 */
export function alphabetToBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    const b = charToByte(cp);
    if (b >= 0) out.push(b);
    else for (const x of utf8(String.fromCodePoint(cp))) out.push(x);
  }
  return Uint8Array.from(out);
}
