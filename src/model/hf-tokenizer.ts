/**
 * Hugging Face fast tokenizer (`tokenizer.json` + `tokenizer_config.json`) → GGUF tokenizer metadata
 * (FORMATS.md §6.1–6.3), for byte-level BPE vocabularies such as LLaMA-3's (2B-4T).
 *
 * - `model.type` must be `BPE` without `byte_fallback` (SentencePiece-style BPE is BAD_TOKENIZER).
 * - Tokens: `model.vocab` plus `added_tokens` (an added token takes its id even when the vocabulary
 *   has another text there). Ids missing up to `max(vocabSize, max id + 1)` become `[PAD<id>]` tokens of
 *   type 5 (unused), so the table matches config.json's `vocab_size`. More tokens than `vocab_size` is
 *   VOCAB_MISMATCH.
 * - token_type: 3 (control) for added tokens with `special: true`, 4 (user-defined) for other added
 *   tokens, 1 otherwise. Scores are all 0.
 * - Merges: `"a b"` strings or `["a", "b"]` pairs, written as `"a b"`; both sides must be tokens.
 * - `tokenizer.ggml.pre`: `llama-bpe` for the LLaMA-3 split pattern, `gpt2` for the GPT-2 byte-level
 *   pattern; anything else falls back to `llama-bpe` with a warning.
 * - BOS / EOS / PAD: config.json ids (passed in) first, else the names in tokenizer_config.json;
 *   padding defaults to EOS (as in the official 2B-4T GGUF). EOT = `<|eot_id|>` when present.
 *   `add_bos_token` = tokenizer_config's boolean, else true (when a BOS exists).
 * - `tokenizer.chat_template` from tokenizer_config.json's `chat_template` when it is a string.
 */
import { BitNetError } from '../errors.js';
import { type GGUFEntry, GGUFValueType } from './gguf-types.js';

export const LLAMA3_SPLIT_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
export const GPT2_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export interface HFTokenizerOptions {
  /** config.json `vocab_size`: the token table is padded to this length. */
  readonly vocabSize?: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  readonly onWarning?: (message: string) => void;
}

export interface ConvertedTokenizer {
  /** GGUF `tokenizer.*` KV records. */
  readonly entries: Array<[string, GGUFEntry]>;
  readonly tokens: readonly string[];
  readonly pre: 'llama-bpe' | 'gpt2';
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly eotId: number | undefined;
  readonly padId: number | undefined;
}

function bad(msg: string, file = 'tokenizer.json'): BitNetError {
  return new BitNetError('BAD_TOKENIZER', `${file}: ${msg}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects Split regexes and ByteLevel(use_regex) flags from a (possibly nested Sequence) pre-tokenizer. */
function detectPre(pre: unknown, warn: (m: string) => void): 'llama-bpe' | 'gpt2' {
  const patterns: string[] = [];
  let byteLevelRegex = false;
  const walk = (p: unknown): void => {
    if (!isRecord(p)) return;
    if (p['type'] === 'Sequence' && Array.isArray(p['pretokenizers'])) p['pretokenizers'].forEach(walk);
    if (p['type'] === 'Split' && isRecord(p['pattern']) && typeof p['pattern']['Regex'] === 'string') patterns.push(p['pattern']['Regex']);
    if (p['type'] === 'ByteLevel' && p['use_regex'] !== false) byteLevelRegex = true;
  };
  walk(pre);
  if (patterns.length === 1 && patterns[0] === LLAMA3_SPLIT_PATTERN) return 'llama-bpe';
  if ((patterns.length === 0 && byteLevelRegex) || (patterns.length === 1 && patterns[0] === GPT2_SPLIT_PATTERN)) return 'gpt2';
  warn(`tokenizer.json: unrecognised pre-tokenizer (${patterns.length} split pattern(s)); writing tokenizer.ggml.pre = "llama-bpe"`);
  return 'llama-bpe';
}

/** A special-token name in tokenizer_config.json: a string or `{ content }`. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v['content'] === 'string') return v['content'];
  return undefined;
}

function mergeText(m: unknown, i: number): string {
  if (typeof m === 'string') {
    if (m.indexOf(' ', 1) < 0) throw bad(`merge #${i} ${JSON.stringify(m)} is not of the form "left right"`);
    return m;
  }
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
    if (m[0].length === 0 || m[0].includes(' ') || m[1].includes(' ')) throw bad(`merge #${i} ${JSON.stringify(m)} cannot be written as "left right"`);
    return `${m[0]} ${m[1]}`;
  }
  throw bad(`merge #${i} is neither a string nor a pair of strings`);
}

/** Converts parsed tokenizer.json / tokenizer_config.json content. */
export function convertHFTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, options: HFTokenizerOptions = {}): ConvertedTokenizer {
  const warn = options.onWarning ?? ((): void => {});
  if (!isRecord(tokenizerJson) || !isRecord(tokenizerJson['model'])) throw bad('missing the "model" object');
  const model = tokenizerJson['model'];
  const type = model['type'] ?? (Array.isArray(model['merges']) ? 'BPE' : undefined);
  if (type !== 'BPE') throw bad(`model.type ${JSON.stringify(type)} is not supported (only byte-level BPE)`);
  if (model['byte_fallback'] === true) throw bad('SentencePiece-style BPE (byte_fallback) is not supported; only byte-level BPE vocabularies convert');
  const vocab = model['vocab'];
  if (!isRecord(vocab)) throw bad('model.vocab is not an object');
  if (!Array.isArray(model['merges'])) throw bad('model.merges is not an array');
  const added = tokenizerJson['added_tokens'] ?? [];
  if (!Array.isArray(added)) throw bad('added_tokens is not an array');

  const byId = new Map<number, string>();
  const types = new Map<number, number>();
  let maxId = -1;
  for (const [text, id] of Object.entries(vocab)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw bad(`vocab entry ${JSON.stringify(text)} has invalid id ${JSON.stringify(id)}`);
    if (byId.has(id)) throw bad(`vocab ids collide: ${JSON.stringify(byId.get(id))} and ${JSON.stringify(text)} are both ${id}`);
    byId.set(id, text);
    maxId = Math.max(maxId, id);
  }
  for (const a of added) {
    if (!isRecord(a) || typeof a['content'] !== 'string' || typeof a['id'] !== 'number' || !Number.isSafeInteger(a['id']) || a['id'] < 0) {
      throw bad(`added_tokens entry ${JSON.stringify(a)} needs an integer "id" and a string "content"`);
    }
    byId.set(a['id'], a['content']);
    types.set(a['id'], a['special'] === true ? 3 : 4);
    maxId = Math.max(maxId, a['id']);
  }
  const target = options.vocabSize ?? maxId + 1;
  if (maxId + 1 > target) {
    throw new BitNetError('VOCAB_MISMATCH', `tokenizer.json has token id ${maxId} but config.json vocab_size is ${target}`, { details: { key: 'vocab_size' } });
  }
  const tokens = new Array<string>(target);
  const tokenTypes = new Int32Array(target).fill(1);
  let padded = 0;
  for (let i = 0; i < target; i++) {
    const t = byId.get(i);
    if (t === undefined) {
      tokens[i] = `[PAD${i}]`;
      tokenTypes[i] = 5;
      padded++;
    } else {
      tokens[i] = t;
      tokenTypes[i] = types.get(i) ?? 1;
    }
  }
  if (padded > 0) warn(`tokenizer.json: ${padded} ids without a token were filled with [PAD<id>] placeholders`);
  const known = new Set(tokens);
  const merges = (model['merges'] as unknown[]).map((m, i) => {
    const s = mergeText(m, i);
    const cut = s.indexOf(' ', 1);
    const left = s.slice(0, cut);
    const right = s.slice(cut + 1);
    if (!known.has(left) || !known.has(right)) throw bad(`merge #${i} "${s}" uses a token that is not in the vocabulary`);
    return s;
  });

  const cfg = isRecord(tokenizerConfig) ? tokenizerConfig : {};
  const idOf = (v: unknown, field: string): number | undefined => {
    const name = tokenName(v);
    if (name === undefined) return undefined;
    const i = tokens.indexOf(name);
    if (i < 0) throw bad(`${field} ${JSON.stringify(name)} is not a token`, 'tokenizer_config.json');
    return i;
  };
  const checkId = (id: number | undefined, field: string): number | undefined => {
    if (id !== undefined && (id < 0 || id >= target)) throw bad(`${field} ${id} is outside the vocabulary (0..${target - 1})`, 'config.json');
    return id;
  };
  const bosId = checkId(options.bosTokenId, 'bos_token_id') ?? idOf(cfg['bos_token'], 'bos_token');
  const eosId = checkId(options.eosTokenId, 'eos_token_id') ?? idOf(cfg['eos_token'], 'eos_token');
  const padId = checkId(options.padTokenId, 'pad_token_id') ?? idOf(cfg['pad_token'], 'pad_token') ?? eosId;
  const eotIndex = tokens.indexOf('<|eot_id|>');
  const eotId = eotIndex >= 0 ? eotIndex : undefined;
  const addBos = typeof cfg['add_bos_token'] === 'boolean' ? cfg['add_bos_token'] : true;
  const pre = detectPre(tokenizerJson['pre_tokenizer'], warn);

  const str = (value: string): GGUFEntry => ({ type: GGUFValueType.STRING, value });
  const u32 = (value: number): GGUFEntry => ({ type: GGUFValueType.UINT32, value });
  const arr = (elementType: GGUFValueType, values: string[] | Int32Array | Float32Array): GGUFEntry => ({
    type: GGUFValueType.ARRAY, value: { type: GGUFValueType.ARRAY, elementType, values },
  });
  const entries: Array<[string, GGUFEntry]> = [
    ['tokenizer.ggml.add_bos_token', { type: GGUFValueType.BOOL, value: addBos && bosId !== undefined }],
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str(pre)],
    ['tokenizer.ggml.tokens', arr(GGUFValueType.STRING, tokens)],
    ['tokenizer.ggml.scores', arr(GGUFValueType.FLOAT32, new Float32Array(target))],
    ['tokenizer.ggml.token_type', arr(GGUFValueType.INT32, tokenTypes)],
    ['tokenizer.ggml.merges', arr(GGUFValueType.STRING, merges)],
  ];
  if (bosId !== undefined) entries.push(['tokenizer.ggml.bos_token_id', u32(bosId)]);
  if (eosId !== undefined) entries.push(['tokenizer.ggml.eos_token_id', u32(eosId)]);
  if (eotId !== undefined) entries.push(['tokenizer.ggml.eot_token_id', u32(eotId)]);
  if (padId !== undefined) entries.push(['tokenizer.ggml.padding_token_id', u32(padId)]);
  if (typeof cfg['chat_template'] === 'string') entries.push(['tokenizer.chat_template', str(cfg['chat_template'])]);
  return { entries, tokens, pre, bosId, eosId, eotId, padId };
}
