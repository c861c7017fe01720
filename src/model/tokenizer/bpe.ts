/**
 * Byte-level BPE over pre-tokens (FORMATS §6.4–6.5), the `tokenizer.ggml.model = "gpt2"` tokenizer.
 *
 * Loading: `merges[rank]` is `"left right"` split at the first space after position 0. Both sides
 * must be vocabulary entries (else BAD_TOKENIZER). Pairs of ids map to ranks in a typed-array hash
 * table; the id of a merge's result is looked up the first time that merge is applied.
 *
 * Encoding one pre-token:
 * 1. `ignoreMerges` (LLaMA-3): if the pre-token, written in the byte alphabet, is a vocabulary entry
 *    (not a control/unknown token) it is emitted as that one id.
 * 2. Otherwise start from one symbol per UTF-8 byte and repeatedly merge the adjacent pair with the
 *    lowest rank, ties → leftmost (a heap of candidate pairs; stale entries are skipped), until no
 *    adjacent pair has a rank.
 * 3. Emit each symbol's id. A merge whose concatenation is not in the vocabulary still merges (as in
 *    llama.cpp) but such a symbol is emitted as its single-byte tokens.
 * Results are cached per pre-token.
 */
import { BitNetError } from '../../errors.js';
import { BYTE_TO_CHAR, bytesToAlphabet, charToByte, utf8 } from './byte-alphabet.js';
import { Heap } from './heap.js';
import { PairTable } from './pair-table.js';
import { TOKEN_CONTROL, TOKEN_UNKNOWN, type Vocab } from './vocab.js';

const CACHE_MAX_ENTRIES = 1 << 15;
const CACHE_MAX_WORD_LENGTH = 128;
const DEAD = -2;

/** A candidate merge of symbols `left` and `right` (indices), valid while their ids are still `lid`, `rid`. */
interface Candidate {
  rank: number;
  left: number;
  right: number;
  lid: number;
  rid: number;
}

function before(a: Candidate, b: Candidate): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.left < b.left);
}

export interface BpeOptions {
  readonly ignoreMerges: boolean;
  /** Emitted for a byte that has no single-byte token; without it such input is BAD_TOKENIZER. */
  readonly unkId: number | undefined;
}

export class BpeEncoder {
  private readonly nVocab: number;
  private readonly pairs: PairTable;
  private readonly merges: readonly string[];
  /** Merged symbol id by rank, -1 until first needed; ids ≥ nVocab index `extraText`. */
  private readonly resultId: Int32Array;
  private readonly extraText: string[] = [];
  private readonly extraIds = new Map<string, number>();
  /** Id of the single-byte token for each byte, -1 if absent. */
  private readonly byteId = new Int32Array(256);
  private readonly cache = new Map<string, readonly number[]>();

  constructor(
    private readonly vocab: Vocab,
    merges: readonly string[],
    private readonly options: BpeOptions,
  ) {
    const n = vocab.tokens.length;
    this.nVocab = n;
    this.merges = merges;
    const t2i = vocab.tokenToId;
    for (let b = 0; b < 256; b++) this.byteId[b] = t2i.get(BYTE_TO_CHAR[b]!) ?? -1;

    this.resultId = new Int32Array(merges.length).fill(-1);
    this.pairs = new PairTable(merges.length);
    for (let rank = 0; rank < merges.length; rank++) {
      const m = merges[rank]!;
      const sp = typeof m === 'string' ? m.indexOf(' ', 1) : -1;
      if (sp < 0) throw mergeError(rank, m, 'is not "left right"');
      const l = t2i.get(m.slice(0, sp));
      if (l === undefined) throw mergeError(rank, m, `references unknown token "${m.slice(0, sp)}"`);
      const r = t2i.get(m.slice(sp + 1));
      if (r === undefined) throw mergeError(rank, m, `references unknown token "${m.slice(sp + 1)}"`);
      this.pairs.setIfAbsent(l, r, rank);
    }
  }

  private mergedId(rank: number): number {
    let id = this.resultId[rank]!;
    if (id >= 0) return id;
    const m = this.merges[rank]!;
    const sp = m.indexOf(' ', 1);
    const joined = m.slice(0, sp) + m.slice(sp + 1);
    id = this.vocab.tokenToId.get(joined) ?? this.extraIds.get(joined) ?? -1;
    if (id < 0) {
      id = this.nVocab + this.extraText.length;
      this.extraText.push(joined);
      this.extraIds.set(joined, id);
    }
    this.resultId[rank] = id;
    return id;
  }

  /** Appends the ids of one pre-token (raw text, not yet byte-mapped) to `out`. */
  encodeWord(word: string, out: number[]): void {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this.computeWord(word);
      if (word.length <= CACHE_MAX_WORD_LENGTH) {
        if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
        this.cache.set(word, ids);
      }
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  }

  private computeWord(word: string): number[] {
    const bytes = utf8(word);
    if (this.options.ignoreMerges) {
      const id = this.vocab.tokenToId.get(bytesToAlphabet(bytes));
      if (id !== undefined) {
        const t = this.vocab.types[id];
        if (t !== TOKEN_CONTROL && t !== TOKEN_UNKNOWN) return [id];
      }
    }
    const len = bytes.length;
    const sym = new Int32Array(len);
    const next = new Int32Array(len);
    const prev = new Int32Array(len);
    for (let i = 0; i < len; i++) {
      sym[i] = this.byteId[bytes[i]!]!;
      prev[i] = i - 1;
      next[i] = i + 1 < len ? i + 1 : -1;
    }
    const heap = new Heap<Candidate>(before);
    const nV = this.nVocab;
    const tryPair = (l: number, r: number): void => {
      const a = sym[l]!;
      const b = sym[r]!;
      if (a < 0 || b < 0 || a >= nV || b >= nV) return;
      const rank = this.pairs.get(a, b);
      if (rank >= 0) heap.push({ rank, left: l, right: r, lid: a, rid: b });
    };
    for (let i = 0; i + 1 < len; i++) tryPair(i, i + 1);
    while (heap.size > 0) {
      const c = heap.pop();
      if (sym[c.left] !== c.lid || sym[c.right] !== c.rid || next[c.left] !== c.right) continue;
      sym[c.left] = this.mergedId(c.rank);
      sym[c.right] = DEAD;
      const after = next[c.right]!;
      next[c.left] = after;
      if (after >= 0) prev[after] = c.left;
      if (prev[c.left]! >= 0) tryPair(prev[c.left]!, c.left);
      if (after >= 0) tryPair(c.left, after);
    }
    const out: number[] = [];
    for (let i = len > 0 ? 0 : -1; i >= 0; i = next[i]!) this.emitSymbol(sym[i]!, bytes, i, out);
    return out;
  }

  private emitSymbol(id: number, bytes: Uint8Array, index: number, out: number[]): void {
    if (id >= 0 && id < this.nVocab) {
      out.push(id);
    } else if (id >= this.nVocab) {
      // Merged text that is not a token: fall back to its single bytes.
      const text = this.extraText[id - this.nVocab]!;
      for (let j = 0; j < text.length; j++) out.push(this.byteToken(charToByte(text.charCodeAt(j))));
    } else {
      out.push(this.byteToken(bytes[index]!));
    }
  }

  private byteToken(b: number): number {
    const id = b >= 0 ? this.byteId[b]! : -1;
    if (id >= 0) return id;
    if (this.options.unkId !== undefined) return this.options.unkId;
    throw new BitNetError('BAD_TOKENIZER', `the vocabulary has no token for byte 0x${b.toString(16).padStart(2, '0')} and no unknown token`);
  }
}

function mergeError(rank: number, merge: unknown, what: string): BitNetError {
  return new BitNetError('BAD_TOKENIZER', `tokenizer.ggml.merges[${rank}] ${JSON.stringify(merge)} ${what}`, {
    details: { key: 'tokenizer.ggml.merges', rank },
  });
}
