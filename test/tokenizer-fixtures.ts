/**
 * Small hand-made tokenizer vocabularies (as GGUF metadata) for the tokenizer tests. Ids are listed
 * explicitly so expected outputs can be worked out by hand.
 */
import { GGUFValueType, type GGUFEntry, type GGUFMetadata } from '../src/model/gguf-types.js';

export const str = (value: string): GGUFEntry => ({ type: GGUFValueType.STRING, value });
export const u32 = (value: number): GGUFEntry => ({ type: GGUFValueType.UINT32, value });
export const i32 = (value: number): GGUFEntry => ({ type: GGUFValueType.INT32, value });
export const bool = (value: boolean): GGUFEntry => ({ type: GGUFValueType.BOOL, value });
export const strArr = (values: string[]): GGUFEntry => ({
  type: GGUFValueType.ARRAY,
  value: { type: GGUFValueType.ARRAY, elementType: GGUFValueType.STRING, values },
});
export const i32Arr = (values: ArrayLike<number>): GGUFEntry => ({
  type: GGUFValueType.ARRAY,
  value: { type: GGUFValueType.ARRAY, elementType: GGUFValueType.INT32, values: Int32Array.from(values) },
});
export const f32Arr = (values: ArrayLike<number>): GGUFEntry => ({
  type: GGUFValueType.ARRAY,
  value: { type: GGUFValueType.ARRAY, elementType: GGUFValueType.FLOAT32, values: Float32Array.from(values) },
});

/** GPT-2 bytes_to_unicode written out independently of the implementation (FORMATS §6.4). */
export function byteChar(b: number): string {
  const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  if (printable) return String.fromCharCode(b);
  let k = 0;
  for (let x = 0; x < b; x++) if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) k++;
  return String.fromCharCode(0x100 + k);
}

/**
 * Byte-level BPE fixture. Ids 0–255 are the single bytes (id = byte value), then:
 * 256 "Ġt" 257 "he" 258 "Ġthe" 259 "12" 260 "123" 261 "ll" 262 "'m" 263 "ĠĠ" 264 "bc" 265 "ab"
 * 266 "aa" 267 "Ã©" (é) 268 "ĊĊ" — each produced by the merge of the same rank (rank = id − 256) —
 * 269 "hello" (no merge reaches it), 270 <|begin_of_text|> 271 <|end_of_text|> 272 <|eot_id|>
 * 273 <|start_header_id|> 274 <|end_header_id|> (all control), 275 "<tool>" (user-defined), 276 "<|eot" (control).
 */
export const BPE_MERGES = ['Ġ t', 'h e', 'Ġt he', '1 2', '12 3', 'l l', "' m", 'Ġ Ġ', 'b c', 'a b', 'a a', 'Ã ©', 'Ċ Ċ'];
export const BPE_IDS = {
  Gt: 256, he: 257, Gthe: 258, n12: 259, n123: 260, ll: 261, aposM: 262, GG: 263, bc: 264, ab: 265, aa: 266,
  eAcute: 267, NLNL: 268, hello: 269, BOS: 270, EOS: 271, EOT: 272, SH: 273, EH: 274, TOOL: 275, EOT_PREFIX: 276,
} as const;

export function bpeTokens(): { tokens: string[]; types: number[] } {
  const tokens: string[] = [];
  for (let b = 0; b < 256; b++) tokens.push(byteChar(b));
  for (const m of BPE_MERGES) tokens.push(m.replace(' ', ''));
  tokens.push('hello', '<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<tool>', '<|eot');
  const types = tokens.map((_, id) => (id >= 270 && id !== 275 ? 3 : id === 275 ? 4 : 1));
  return { tokens, types };
}

export function bpeMetadata(extra: Record<string, GGUFEntry | undefined> = {}): GGUFMetadata {
  const { tokens, types } = bpeTokens();
  const md: GGUFMetadata = new Map<string, GGUFEntry>([
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str('llama-bpe')],
    ['tokenizer.ggml.tokens', strArr(tokens)],
    ['tokenizer.ggml.token_type', i32Arr(types)],
    ['tokenizer.ggml.merges', strArr([...BPE_MERGES])],
    ['tokenizer.ggml.bos_token_id', u32(270)],
    ['tokenizer.ggml.eos_token_id', u32(271)],
  ]);
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) md.delete(k);
    else md.set(k, v);
  }
  return md;
}

/**
 * SentencePiece fixture: 0 <unk> (type 2), 1 <s>, 2 </s> (type 3), 3–258 <0x00>…<0xFF> (type 6,
 * id = 3 + byte), then normal pieces with scores:
 * 259 "▁" −10, 260 "h" −20, 261 "e" −20, 262 "l" −20, 263 "o" −20, 264 "a" −20, 265 "i" −20,
 * 266 "▁h" −5, 267 "he" −1, 268 "ll" −2, 269 "llo" −3, 270 "▁he" −4, 271 "aa" −1.
 */
export const SPM_PIECES: Array<[string, number]> = [
  ['▁', -10], ['h', -20], ['e', -20], ['l', -20], ['o', -20], ['a', -20], ['i', -20],
  ['▁h', -5], ['he', -1], ['ll', -2], ['llo', -3], ['▁he', -4], ['aa', -1],
];

export function spmMetadata(opts: { byteTokens?: boolean; extra?: Record<string, GGUFEntry | undefined> } = {}): GGUFMetadata {
  const withBytes = opts.byteTokens ?? true;
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  const scores = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    // Without byte fallback keep the ids stable with harmless unused filler pieces.
    tokens.push(withBytes ? `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>` : `[unused${b}]`);
    types.push(withBytes ? 6 : 5);
    scores.push(0);
  }
  for (const [p, s] of SPM_PIECES) {
    tokens.push(p);
    types.push(1);
    scores.push(s);
  }
  const md: GGUFMetadata = new Map<string, GGUFEntry>([
    ['tokenizer.ggml.model', str('llama')],
    ['tokenizer.ggml.tokens', strArr(tokens)],
    ['tokenizer.ggml.token_type', i32Arr(types)],
    ['tokenizer.ggml.scores', f32Arr(scores)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(2)],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
  ]);
  for (const [k, v] of Object.entries(opts.extra ?? {})) {
    if (v === undefined) md.delete(k);
    else md.set(k, v);
  }
  return md;
}

/** Deterministic 32-bit LCG for fuzz inputs. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}
