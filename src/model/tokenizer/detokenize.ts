/**
 * Token ids → bytes → text, whole or streaming.
 *
 * Piece bytes per token:
 * - control (3) / unknown (2): the token text itself, or nothing when `skipSpecial` is set;
 * - user-defined (4): the token text itself, always;
 * - byte-level BPE, other types: the text read back through the GPT-2 byte alphabet;
 * - SPM: `<0xXX>` byte tokens give that byte; other pieces have "▁" turned back into spaces.
 * Bytes are joined before UTF-8 decoding, so a character split over several tokens (emoji, CJK,
 * byte fallback) decodes whole; invalid or unfinished sequences become U+FFFD. A leading U+FEFF is
 * kept (the decoder is created with `ignoreBOM`).
 *
 * SPM space prefix: encoding put a "▁" before the text and after every special token, so
 * `decode` removes one leading space from the first piece at the start and after each special token
 * (SentencePiece `decode` semantics; encode→decode round-trips). The streaming decoder does the same
 * only when asked (`stripLeadingSpace`), because generated text usually continues a prompt.
 */
import { BitNetError } from '../../errors.js';
import { alphabetToBytes, utf8 } from './byte-alphabet.js';
import { parseByteToken } from './spm.js';
import { TOKEN_BYTE, TOKEN_CONTROL, TOKEN_UNKNOWN, TOKEN_USER_DEFINED, type Vocab } from './vocab.js';

export interface DecodeOptions {
  /** Drop control and unknown tokens (e.g. `<|begin_of_text|>`, `<|eot_id|>`). Default false. */
  readonly skipSpecial?: boolean;
}

export interface StreamDecoderOptions extends DecodeOptions {
  /** SPM only: drop the space prefix at the start and after special tokens. Default false. */
  readonly stripLeadingSpace?: boolean;
}

export interface StreamDecoder {
  /** Adds one token; returns the text that is now complete (possibly ""). */
  push(id: number): string;
  /** Returns what is still buffered (an unfinished UTF-8 sequence becomes U+FFFD) and resets. */
  flush(): string;
}

const EMPTY = new Uint8Array(0);
const SPACE = 0x20;

export class PieceTable {
  private readonly cache: (Uint8Array | undefined)[];

  constructor(
    private readonly vocab: Vocab,
    private readonly kind: 'bpe' | 'spm',
    /** SPM `add_space_prefix`. */
    readonly addSpacePrefix: boolean,
  ) {
    this.cache = new Array<Uint8Array | undefined>(vocab.tokens.length);
  }

  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.tokens.length) {
      throw new BitNetError('BAD_INPUT', `token id ${String(id)} is outside the vocabulary (0..${this.vocab.tokens.length - 1})`);
    }
  }

  /** Control and unknown tokens: dropped by `skipSpecial`. */
  isSpecial(id: number): boolean {
    const t = this.vocab.types[id];
    return t === TOKEN_CONTROL || t === TOKEN_UNKNOWN;
  }

  /** Tokens after which SPM encoding re-adds the space prefix (any matched special token). */
  private resetsPrefix(id: number): boolean {
    return this.isSpecial(id) || this.vocab.types[id] === TOKEN_USER_DEFINED;
  }

  /** Bytes of one token (ids must be valid). */
  bytes(id: number): Uint8Array {
    let b = this.cache[id];
    if (b === undefined) {
      b = this.computeBytes(id);
      this.cache[id] = b;
    }
    return b;
  }

  private computeBytes(id: number): Uint8Array {
    const text = this.vocab.tokens[id]!;
    const t = this.vocab.types[id];
    if (t === TOKEN_CONTROL || t === TOKEN_UNKNOWN || t === TOKEN_USER_DEFINED) return utf8(text);
    if (this.kind === 'bpe') return alphabetToBytes(text);
    if (t === TOKEN_BYTE) {
      const b = parseByteToken(text);
      if (b >= 0) return Uint8Array.of(b);
    }
    return utf8(text.replaceAll('\u2581', ' '));
  }

  /**
   * Bytes contributed by `id` given the decoding state; `state.atPrefix` is true at the start and
   * after special tokens (SPM space-prefix stripping), and is updated.
   */
  piece(id: number, skipSpecial: boolean, strip: boolean, state: { atPrefix: boolean }): Uint8Array {
    this.checkId(id);
    if (this.resetsPrefix(id)) {
      state.atPrefix = true;
      return skipSpecial && this.isSpecial(id) ? EMPTY : this.bytes(id);
    }
    let b = this.bytes(id);
    if (strip && state.atPrefix && this.kind === 'spm' && this.addSpacePrefix && b.length > 0 && b[0] === SPACE) {
      b = b.subarray(1);
    }
    state.atPrefix = false;
    return b;
  }
}

function newUtf8Decoder(): TextDecoder {
  return new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
}

/** Decodes a whole id sequence. */
export function decodeIds(table: PieceTable, ids: ArrayLike<number>, options: DecodeOptions = {}): string {
  const skip = options.skipSpecial ?? false;
  const state = { atPrefix: true };
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let i = 0; i < ids.length; i++) {
    const b = table.piece(ids[i]!, skip, true, state);
    parts.push(b);
    total += b.length;
  }
  const all = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return newUtf8Decoder().decode(all);
}

/** A decoder for token-by-token output that holds back incomplete UTF-8 sequences. */
export function createStreamDecoder(table: PieceTable, options: StreamDecoderOptions = {}): StreamDecoder {
  const skip = options.skipSpecial ?? false;
  const strip = options.stripLeadingSpace ?? false;
  let decoder = newUtf8Decoder();
  let state = { atPrefix: true };
  return {
    push(id: number): string {
      const b = table.piece(id, skip, strip, state);
      return b.length > 0 ? decoder.decode(b, { stream: true }) : '';
    },
    flush(): string {
      const rest = decoder.decode();
      decoder = newUtf8Decoder();
      state = { atPrefix: true };
      return rest;
    },
  };
}
