/**
 * Deterministic Hugging Face checkpoints in the microsoft/bitnet-b1.58-2B-4T layout (FORMATS.md §5),
 * for tests of the converter: `config.json`, `model.safetensors` (or N shards + index),
 * `tokenizer.json` and `tokenizer_config.json`.
 *
 * - `weights: 'packed'` (2B-4T): each projection is uint8 `[out/4, in]` (§5.3 packing: byte (r, c)
 *   holds rows r + kR of column c in bits 2k..2k+1, code = T + 1) plus a bf16 `weight_scale` `[1]`.
 *   `linearClass: 'autobitlinear'` stores the multiplier m; `'bitlinear'` stores bf16(1/m).
 * - `weights: 'bf16'` (-bf16 repo): bf16 master weights `[out, in]`, `quantization_mode: "online"`.
 * - Embedding, norms: bf16. Ternary codes: P(−1) = P(+1) = 1/4, P(0) = 1/2. All content depends only on
 *   (seed, tensor name).
 * - Tokenizer: the byte-level BPE vocabulary of fixture-tokenizer.ts ('small' layout: the last three
 *   ids are `<|begin_of_text|>`, `<|end_of_text|>`, `<|eot_id|>`, added as special tokens) with the
 *   LLaMA-3 pre-tokenizer, plus one non-special added token `<|user_token|>` in a filler slot.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BitNetError } from '../errors.js';
import { buildFixtureVocab } from './fixture-tokenizer.js';
import { fixtureRng } from './fixtures.js';
import { bf16ToF32, f32ToBf16 } from './formats/f16.js';
import { LLAMA3_SPLIT_PATTERN } from './hf-tokenizer.js';
import { encodeSafetensors, type SafetensorsInput } from './safetensors.js';

export interface HFFixtureOptions {
  readonly seed?: number;
  readonly nLayer?: number;
  readonly nEmbd?: number;
  readonly nHead?: number;
  readonly nHeadKv?: number;
  readonly nFf?: number;
  /** Tokenizer size (≥ 260). */
  readonly vocab?: number;
  /** config.json `vocab_size` (default = tokenizer size; larger pads the vocabulary). */
  readonly configVocab?: number;
  readonly nMerges?: number;
  readonly contextLength?: number;
  readonly hiddenAct?: 'relu2' | 'silu';
  readonly linearClass?: 'autobitlinear' | 'bitlinear';
  readonly weights?: 'packed' | 'bf16';
  /** Number of safetensors shards (default 1: a single model.safetensors). */
  readonly shards?: number;
  /** Write merges as `["a", "b"]` pairs instead of `"a b"` strings. */
  readonly mergesAsPairs?: boolean;
  /** 1bitLLM sub-norm names (`inner_attn_ln`, `ffn_layernorm`) instead of the 2B-4T ones. */
  readonly legacyNames?: boolean;
}

export interface HFFixtureProjection {
  readonly hf: string;
  readonly gguf: string;
  readonly rows: number;
  readonly cols: number;
  /** Packed mode: T row-major (rows × cols). Empty in bf16 mode. */
  readonly codes: Int8Array;
  /** Packed mode: the value stored in `weight_scale` (bf16-exact) and the real multiplier (f32). */
  readonly weightScale: number;
  readonly scale: number;
  /** bf16 mode: the master weights (bf16-exact values), row-major. Empty in packed mode. */
  readonly master: Float32Array;
}

export interface HFFixture {
  readonly dir: string;
  readonly config: Record<string, unknown>;
  readonly projections: readonly HFFixtureProjection[];
  /** HF name → decoded bf16 values, for the embedding and every norm. */
  readonly floats: ReadonlyMap<string, Float32Array>;
  /** Token table as the GGUF should hold it, merges as "a b" strings. */
  readonly tokens: readonly string[];
  readonly merges: readonly string[];
  readonly bosId: number;
  readonly eosId: number;
  readonly eotId: number;
  readonly userTokenId: number | undefined;
}

/** §5.3 packing (reference form): `codes` rows × cols (rows % 4 == 0) → `[rows/4, cols]` bytes. */
export function packHFTernary(codes: Int8Array, rows: number, cols: number): Uint8Array {
  const R = rows / 4;
  const out = new Uint8Array(R * cols);
  for (let k = 0; k < 4; k++) {
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < cols; c++) out[r * cols + c]! |= (codes[(k * R + r) * cols + c]! + 1) << (2 * k);
    }
  }
  return out;
}

function bf16Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const h = f32ToBf16(values[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >> 8;
  }
  return out;
}

/** Uniform values in [lo, hi) rounded to bf16 (the returned values are exact bf16). */
function bf16Values(seed: number, name: string, n: number, lo: number, hi: number): Float32Array {
  const rnd = fixtureRng(seed, name);
  return Float32Array.from({ length: n }, () => bf16ToF32(f32ToBf16(lo + (rnd() / 2 ** 32) * (hi - lo))));
}

function ternaryCodes(seed: number, name: string, n: number): Int8Array {
  const rnd = fixtureRng(seed, name);
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const x = rnd() & 3;
    out[i] = x === 0 ? -1 : x === 1 ? 1 : 0;
  }
  return out;
}

function tokenizerFiles(o: Required<Pick<HFFixtureOptions, 'vocab' | 'nMerges' | 'mergesAsPairs'>>) {
  const v = buildFixtureVocab(o.vocab, o.nMerges, 'small');
  const tokens = [...v.tokens];
  let fill = tokens.length - 1;
  while (fill >= 0 && !tokens[fill]!.startsWith('\u0100<fill-')) fill--;
  const userTokenId = fill >= 0 ? fill : undefined;
  if (userTokenId !== undefined) tokens[userTokenId] = '<|user_token|>';
  const addedIds = [v.bosId, v.eosId, v.eotId, ...(userTokenId !== undefined ? [userTokenId] : [])].sort((a, b) => a - b);
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    if (!addedIds.includes(id)) vocab[t] = id;
  });
  const added = addedIds.map((id) => ({
    id, content: tokens[id]!, single_word: false, lstrip: false, rstrip: false, normalized: false, special: id !== userTokenId,
  }));
  const tokenizer = {
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|begin_of_text|>': { id: '<|begin_of_text|>', ids: [v.bosId], tokens: ['<|begin_of_text|>'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false,
      byte_fallback: false, ignore_merges: true, vocab,
      merges: o.mergesAsPairs ? v.merges.map((m) => m.split(' ')) : v.merges,
    },
  };
  const tokenizerConfig = {
    add_bos_token: true, add_eos_token: false,
    added_tokens_decoder: Object.fromEntries(added.map((a) => [String(a.id), { ...a, id: undefined }])),
    bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', clean_up_tokenization_spaces: true,
    chat_template: "{% for message in messages %}{% if loop.first %}{{ bos_token }}{% endif %}{{ message['role'] | capitalize }}: {{ message['content'] | trim }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}Assistant: {% endif %}",
    model_max_length: 4096, tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return { tokenizer, tokenizerConfig, tokens, merges: v.merges, bosId: v.bosId, eosId: v.eosId, eotId: v.eotId, userTokenId };
}

/** Writes a fixture checkpoint into `dir` (created if needed) and returns what it contains. */
export async function writeHFFixture(dir: string, options: HFFixtureOptions = {}): Promise<HFFixture> {
  const seed = options.seed ?? 1;
  const nLayer = options.nLayer ?? 2;
  const nEmbd = options.nEmbd ?? 256;
  const nHead = options.nHead ?? 4;
  const nHeadKv = options.nHeadKv ?? 2;
  const nFf = options.nFf ?? 512;
  const vocab = options.vocab ?? 384;
  const configVocab = options.configVocab ?? vocab;
  const packed = (options.weights ?? 'packed') === 'packed';
  const linearClass = options.linearClass ?? 'autobitlinear';
  const shards = options.shards ?? 1;
  if (nEmbd % nHead !== 0 || nHead % nHeadKv !== 0 || configVocab < vocab || !Number.isSafeInteger(shards) || shards < 1) {
    throw new BitNetError('BAD_OPTION', 'HF fixture: inconsistent sizes');
  }
  const headDim = nEmbd / nHead;
  const tok = tokenizerFiles({ vocab, nMerges: options.nMerges ?? 100, mergesAsPairs: options.mergesAsPairs ?? false });
  const config: Record<string, unknown> = {
    architectures: ['BitNetForCausalLM'],
    auto_map: { AutoConfig: 'configuration_bitnet.BitNetConfig', AutoModelForCausalLM: 'modeling_bitnet.BitNetForCausalLM' },
    bos_token_id: tok.bosId, eos_token_id: tok.eosId, hidden_act: options.hiddenAct ?? 'relu2', hidden_size: nEmbd,
    initializer_range: 0.02, intermediate_size: nFf, max_position_embeddings: options.contextLength ?? 256, model_type: 'bitnet',
    rms_norm_eps: 1e-5, num_attention_heads: nHead, num_hidden_layers: nLayer, num_key_value_heads: nHeadKv, rope_theta: 500000.0,
    tie_word_embeddings: true, torch_dtype: 'bfloat16', use_cache: true, vocab_size: configVocab,
    quantization_config: { quant_method: 'bitnet', linear_class: linearClass, quantization_mode: packed ? 'offline' : 'online' },
  };
  const tensors: SafetensorsInput[] = [];
  const floats = new Map<string, Float32Array>();
  const projections: HFFixtureProjection[] = [];
  const floatTensor = (name: string, shape: number[], lo: number, hi: number): void => {
    const v = bf16Values(seed, name, shape.reduce((a, b) => a * b, 1), lo, hi);
    floats.set(name, v);
    tensors.push({ name, dtype: 'BF16', shape, data: bf16Bytes(v) });
  };
  const proj = (hf: string, gguf: string, rows: number, cols: number): void => {
    if (packed) {
      const codes = ternaryCodes(seed, `${hf}.weight`, rows * cols);
      const m = bf16ToF32(f32ToBf16(0.5 + (fixtureRng(seed, `${hf}.weight_scale`)() / 2 ** 32) * 2));
      const weightScale = bf16ToF32(f32ToBf16(linearClass === 'autobitlinear' ? m : 1 / m));
      const scale = Math.fround(linearClass === 'autobitlinear' ? weightScale : 1 / weightScale);
      tensors.push({ name: `${hf}.weight`, dtype: 'U8', shape: [rows / 4, cols], data: packHFTernary(codes, rows, cols) });
      tensors.push({ name: `${hf}.weight_scale`, dtype: 'BF16', shape: [1], data: bf16Bytes(Float32Array.of(weightScale)) });
      projections.push({ hf, gguf, rows, cols, codes, weightScale, scale, master: new Float32Array(0) });
    } else {
      const master = bf16Values(seed, `${hf}.weight`, rows * cols, -1.5, 1.5);
      tensors.push({ name: `${hf}.weight`, dtype: 'BF16', shape: [rows, cols], data: bf16Bytes(master) });
      projections.push({ hf, gguf, rows, cols, codes: new Int8Array(0), weightScale: 0, scale: 0, master });
    }
  };
  floatTensor('model.embed_tokens.weight', [configVocab, nEmbd], -1, 1);
  floatTensor('model.norm.weight', [nEmbd], 0.9, 1.1);
  const legacy = options.legacyNames ?? false;
  for (let l = 0; l < nLayer; l++) {
    const h = `model.layers.${l}.`;
    const b = `blk.${l}.`;
    floatTensor(`${h}input_layernorm.weight`, [nEmbd], 0.9, 1.1);
    floatTensor(`${h}post_attention_layernorm.weight`, [nEmbd], 0.9, 1.1);
    floatTensor(`${h}self_attn.${legacy ? 'inner_attn_ln' : 'attn_sub_norm'}.weight`, [nEmbd], 0.9, 1.1);
    floatTensor(`${h}mlp.${legacy ? 'ffn_layernorm' : 'ffn_sub_norm'}.weight`, [nFf], 0.9, 1.1);
    proj(`${h}self_attn.q_proj`, `${b}attn_q.weight`, nHead * headDim, nEmbd);
    proj(`${h}self_attn.k_proj`, `${b}attn_k.weight`, nHeadKv * headDim, nEmbd);
    proj(`${h}self_attn.v_proj`, `${b}attn_v.weight`, nHeadKv * headDim, nEmbd);
    proj(`${h}self_attn.o_proj`, `${b}attn_output.weight`, nEmbd, nHead * headDim);
    proj(`${h}mlp.gate_proj`, `${b}ffn_gate.weight`, nFf, nEmbd);
    proj(`${h}mlp.up_proj`, `${b}ffn_up.weight`, nFf, nEmbd);
    proj(`${h}mlp.down_proj`, `${b}ffn_down.weight`, nEmbd, nFf);
  }
  tensors.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  await mkdir(dir, { recursive: true });
  const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';
  await writeFile(join(dir, 'config.json'), json(config));
  await writeFile(join(dir, 'tokenizer.json'), json(tok.tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), json(tok.tokenizerConfig));
  const meta = { format: 'pt' };
  if (shards === 1) {
    await writeFile(join(dir, 'model.safetensors'), encodeSafetensors(tensors, meta));
  } else {
    const weightMap: Record<string, string> = {};
    const per = Math.ceil(tensors.length / shards);
    let total = 0;
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = tensors.slice(s * per, (s + 1) * per);
      for (const t of part) {
        weightMap[t.name] = file;
        total += t.data.length;
      }
      await writeFile(join(dir, file), encodeSafetensors(part, meta));
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), json({ metadata: { total_size: total }, weight_map: weightMap }));
  }
  const tokens = [...tok.tokens];
  for (let i = vocab; i < configVocab; i++) tokens.push(`[PAD${i}]`);
  return {
    dir, config, projections, floats, tokens, merges: tok.merges, bosId: tok.bosId, eosId: tok.eosId, eotId: tok.eotId, userTokenId: tok.userTokenId,
  };
}
