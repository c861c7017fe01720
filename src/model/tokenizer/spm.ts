/**
 * SentencePiece-style BPE by piece score (`tokenizer.ggml.model = "llama"`, FORMATS §6.7), following
 * llama.cpp's `llm_tokenizer_spm`:
 * - The caller has already replaced spaces by "▁" (U+2581) and prepended the space prefix.
 * - Start from one symbol per code point. Every adjacent pair whose concatenation is a piece is a
 *   candidate with that piece's score; repeatedly merge the candidate with the HIGHEST score, ties →
 *   leftmost, skipping candidates whose symbols changed meanwhile.
 * - Emit each final symbol's id. A symbol that is not a piece (only single code points can be) falls
 *   back to its UTF-8 bytes as `<0xXX>` tokens; a vocabulary without byte tokens gives the unknown
 *   token instead (one per symbol, as SentencePiece does without byte fallback).
 * Only normal and user-defined pieces take part in merging; control, unknown, unused and byte pieces
 * are never produced from text (SentencePiece semantics; llama.cpp would match any piece text).
 */
import { BitNetError } from '../../errors.js';
import { utf8 } from './byte-alphabet.js';
import { Heap } from './heap.js';
import { TOKEN_BYTE, TOKEN_CONTROL, TOKEN_UNKNOWN, TOKEN_UNUSED, type Vocab } from './vocab.js';

/** A candidate merge; valid while both symbols still have the lengths they had (llama.cpp's check). */
interface Bigram {
  score: number;
  left: number;
  right: number;
  size: number;
}

function before(a: Bigram, b: Bigram): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

const HEX = '0123456789ABCDEF';

/** The `<0xXX>` text of a byte (upper-case hex, as llama.cpp and SentencePiece write it). */
export function byteTokenText(b: number): string {
  return `<0x${HEX[b >> 4]}${HEX[b & 15]}>`;
}

/** Parses `<0xXX>` (either hex case); -1 when the text is not a byte token. */
export function parseByteToken(text: string): number {
  const m = /^<0x([0-9a-fA-F]{2})>$/.exec(text);
  return m ? parseInt(m[1]!, 16) : -1;
}

export class SpmEncoder {
  /** `<0xXX>` token id per byte, -1 when absent. */
  private readonly byteId = new Int32Array(256);
  private readonly hasByteTokens: boolean;

  constructor(
    private readonly vocab: Vocab,
    private readonly unkId: number | undefined,
  ) {
    let any = false;
    for (let b = 0; b < 256; b++) {
      const id = vocab.tokenToId.get(byteTokenText(b)) ?? -1;
      this.byteId[b] = id;
      if (id >= 0) any = true;
    }
    this.hasByteTokens = any;
  }

  /** Id of `text` if it is a piece that text may be segmented into, else undefined. */
  private pieceId(text: string): number | undefined {
    const id = this.vocab.tokenToId.get(text);
    if (id === undefined) return undefined;
    const t = this.vocab.types[id];
    if (t === TOKEN_CONTROL || t === TOKEN_UNKNOWN || t === TOKEN_UNUSED || t === TOKEN_BYTE) return undefined;
    return id;
  }

  /** Appends the ids of an escaped fragment ("▁" for spaces) to `out`. */
  encode(text: string, out: number[]): void {
    if (text.length === 0) return;
    // Symbols are code points: start offset and length in UTF-16 units, doubly linked.
    const cap = text.length;
    const start = new Int32Array(cap);
    const size = new Int32Array(cap);
    const prev = new Int32Array(cap);
    const next = new Int32Array(cap);
    let n = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const w = cp > 0xffff ? 2 : 1;
      start[n] = i;
      size[n] = w;
      prev[n] = n - 1;
      next[n] = -1;
      if (n > 0) next[n - 1] = n;
      n++;
      i += w;
    }
    const heap = new Heap<Bigram>(before);
    const tryAdd = (l: number, r: number): void => {
      if (l < 0 || r < 0) return;
      const piece = text.slice(start[l]!, start[l]! + size[l]! + size[r]!);
      const id = this.pieceId(piece);
      if (id === undefined) return;
      heap.push({ score: this.vocab.scores[id]!, left: l, right: r, size: piece.length });
    };
    for (let i = 1; i < n; i++) tryAdd(i - 1, i);
    while (heap.size > 0) {
      const b = heap.pop();
      const ls = size[b.left]!;
      const rs = size[b.right]!;
      if (ls === 0 || rs === 0 || ls + rs !== b.size) continue;
      size[b.left] = ls + rs;
      size[b.right] = 0;
      const after = next[b.right]!;
      next[b.left] = after;
      if (after >= 0) prev[after] = b.left;
      tryAdd(prev[b.left]!, b.left);
      tryAdd(b.left, after);
    }
    for (let i = 0; i >= 0; i = next[i]!) {
      const piece = text.slice(start[i]!, start[i]! + size[i]!);
      const id = this.pieceId(piece);
      if (id !== undefined) out.push(id);
      else this.fallback(piece, out);
    }
  }

  private fallback(piece: string, out: number[]): void {
    if (!this.hasByteTokens) {
      out.push(this.unk(piece));
      return;
    }
    for (const b of utf8(piece)) {
      const id = this.byteId[b]!;
      out.push(id >= 0 ? id : this.unk(piece));
    }
  }

  private unk(piece: string): number {
    if (this.unkId !== undefined) return this.unkId;
    throw new BitNetError('BAD_TOKENIZER', `cannot encode ${JSON.stringify(piece)}: no piece, byte token or unknown token for it`);
  }
}
