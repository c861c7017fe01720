/**
 * BERT text preparation as Hugging Face `tokenizers` defines it for `BertNormalizer` and
 * `BertPreTokenizer` (the normaliser and pre-tokenizer of all-MiniLM, BERT, DistilBERT, BGE ...):
 *
 * normalise (in this order, each step optional):
 * 1. clean text: drop NUL, U+FFFD and other control / format characters (except tab, CR, LF); turn
 *    every whitespace character into a plain space;
 * 2. Chinese characters: put a space on each side of every CJK ideograph, so each becomes a word;
 * 3. strip accents: NFD-decompose and drop combining marks (é → e);
 * 4. lowercase.
 *
 * pre-tokenize: split on whitespace, then split every punctuation character (ASCII punctuation and
 * symbols, or Unicode category P) off as a word of its own: "don't!" → ["don", "'", "t", "!"].
 */

export interface BertNormalizeOptions {
  readonly cleanText: boolean;
  readonly handleChineseChars: boolean;
  readonly stripAccents: boolean;
  readonly lowercase: boolean;
}

const CONTROL = /\p{C}/u;
const WHITESPACE = /\s/u;
const MARK = /\p{Mn}/gu;
const UNICODE_PUNCT = /\p{P}/u;

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** BERT's punctuation test: any ASCII non-alphanumeric printable character, or Unicode category P. */
export function isBertPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return UNICODE_PUNCT.test(ch);
}

export function bertNormalize(text: string, o: BertNormalizeOptions): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (o.cleanText) {
      if (WHITESPACE.test(ch)) {
        out += ' ';
        continue;
      }
      if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    }
    if (o.handleChineseChars && isCjk(cp)) out += ` ${ch} `;
    else out += ch;
  }
  if (o.stripAccents) out = out.normalize('NFD').replace(MARK, '');
  if (o.lowercase) out = out.toLowerCase();
  return out;
}

/** Splits normalised text into words: whitespace separates, punctuation characters stand alone. */
export function bertPreTokenize(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (const ch of text) {
    if (WHITESPACE.test(ch)) {
      if (cur) words.push(cur);
      cur = '';
    } else if (isBertPunctuation(ch)) {
      if (cur) words.push(cur);
      words.push(ch);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) words.push(cur);
  return words;
}
