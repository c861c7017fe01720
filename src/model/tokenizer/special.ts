/**
 * Special tokens: matching them as whole tokens inside input text, and resolving BOS / EOS / EOT /
 * UNK / PAD ids and the stop set.
 *
 * Matching follows llama.cpp's `tokenizer_st_partition`: the candidate tokens are the control (3),
 * user-defined (4) and unknown (2) tokens; they are tried longest text first (ties: lower id first),
 * each splitting every remaining raw-text fragment at all of its non-overlapping occurrences.
 * Control and unknown tokens are only matched when `parseSpecial` is set; user-defined tokens are
 * always matched (like llama.cpp and Hugging Face's non-special added tokens), so plain user text
 * can never produce a control token such as `<|eot_id|>`.
 */
import type { GGUFMetadata } from '../gguf-types.js';
import { TOKEN_CONTROL, TOKEN_UNKNOWN, TOKEN_USER_DEFINED, readTokenId, type Vocab } from './vocab.js';

/** A piece of input: raw text to tokenize, or an already matched token id. */
export type Fragment = string | number;

interface Candidate {
  readonly id: number;
  readonly text: string;
  /** false for user-defined tokens, which are matched regardless of `parseSpecial`. */
  readonly gated: boolean;
}

export class SpecialMatcher {
  private readonly candidates: readonly Candidate[];

  constructor(vocab: Vocab) {
    const list: Candidate[] = [];
    for (let id = 0; id < vocab.tokens.length; id++) {
      const t = vocab.types[id];
      const text = vocab.tokens[id]!;
      if (text.length === 0) continue;
      if (t === TOKEN_CONTROL || t === TOKEN_UNKNOWN) list.push({ id, text, gated: true });
      else if (t === TOKEN_USER_DEFINED) list.push({ id, text, gated: false });
    }
    list.sort((a, b) => b.text.length - a.text.length || a.id - b.id);
    this.candidates = list;
  }

  /** Splits `text` into raw-text fragments (never empty) and matched special-token ids, in order. */
  partition(text: string, parseSpecial: boolean): Fragment[] {
    if (text.length === 0) return [];
    let frags: Fragment[] = [text];
    for (const c of this.candidates) {
      if (c.gated && !parseSpecial) continue;
      if (!text.includes(c.text)) continue;
      const nextFrags: Fragment[] = [];
      for (const f of frags) {
        if (typeof f === 'number' || !f.includes(c.text)) {
          nextFrags.push(f);
          continue;
        }
        const parts = f.split(c.text);
        for (let i = 0; i < parts.length; i++) {
          if (i > 0) nextFrags.push(c.id);
          if (parts[i]!.length > 0) nextFrags.push(parts[i]!);
        }
      }
      frags = nextFrags;
    }
    return frags;
  }
}

export interface SpecialIds {
  readonly bos: number | undefined;
  readonly eos: number | undefined;
  /** End of turn (`<|eot_id|>` for LLaMA-3 / 2B-4T: 128009). */
  readonly eot: number | undefined;
  readonly unk: number | undefined;
  readonly pad: number | undefined;
  /** Ids that end generation: EOS and EOT (for 2B-4T 128001 and 128009). */
  readonly stop: Set<number>;
}

function firstPresent(vocab: Vocab, texts: readonly string[]): number | undefined {
  for (const t of texts) {
    const id = vocab.tokenToId.get(t);
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * Reads `tokenizer.ggml.{bos,eos,eot,unknown,padding}_token_id`; ids outside the vocabulary are
 * BAD_TOKENIZER. Missing keys fall back to well-known token texts (`<|begin_of_text|>`, `<s>`,
 * `<|end_of_text|>`, `</s>`, `<|endoftext|>`, `<|eot_id|>`, `<|im_end|>`, `<|end|>`, `<end_of_turn>`,
 * `<unk>`), like llama.cpp's end-of-generation detection.
 */
export function resolveSpecialIds(md: GGUFMetadata, vocab: Vocab): SpecialIds {
  const n = vocab.tokens.length;
  const bos = readTokenId(md, 'tokenizer.ggml.bos_token_id', n) ?? firstPresent(vocab, ['<|begin_of_text|>', '<s>']);
  const eos =
    readTokenId(md, 'tokenizer.ggml.eos_token_id', n) ?? firstPresent(vocab, ['<|end_of_text|>', '</s>', '<|endoftext|>']);
  const eot =
    readTokenId(md, 'tokenizer.ggml.eot_token_id', n) ??
    firstPresent(vocab, ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>']);
  const unk = readTokenId(md, 'tokenizer.ggml.unknown_token_id', n) ?? firstPresent(vocab, ['<unk>']);
  const pad = readTokenId(md, 'tokenizer.ggml.padding_token_id', n);
  const stop = new Set<number>();
  if (eos !== undefined) stop.add(eos);
  if (eot !== undefined) stop.add(eot);
  return { bos, eos, eot, unk, pad, stop };
}
