/**
 * Hugging Face BitNet checkpoints (FORMATS.md §5): a directory with `config.json` and
 * `model.safetensors` (or shards listed in `model.safetensors.index.json`). This module parses
 * config.json into GGUF hyperparameters, opens the tensors (headers only; data is read lazily) and maps
 * HF tensor names to GGUF names with validated dtypes and shapes. Node only.
 *
 * config.json rules:
 * - `architectures` must contain `BitNetForCausalLM` or `BitnetForCausalLM` (else UNSUPPORTED_ARCHITECTURE).
 * - `hidden_act` `relu2` (2B-4T) → GGUF arch `bitnet-b1.58`; `silu` (1bitLLM style) → `bitnet`.
 * - `quantization_config.linear_class`: `autobitlinear` → real weight = T · weight_scale (multiply);
 *   `bitlinear` → weight_scale stores 1/m (divide). Absent: `bitlinear` (the transformers default),
 *   except for the pre-release 2B-4T schema `{quant_method: "bitnet", offline_quantization: …}`, which
 *   is `autobitlinear`. `quant_method` other than `bitnet` is BAD_CONFIG.
 * Other malformed or missing values are BAD_CONFIG naming the field.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BitNetError } from '../errors.js';
import { fileSource } from './byte-source.js';
import { openSafetensors, parseSafetensorsIndex, type SafetensorsDtype, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';

export type HFArchitecture = 'bitnet-b1.58' | 'bitnet';
export type LinearClass = 'autobitlinear' | 'bitlinear';
/** How `weight_scale` turns into the per-tensor multiplier: `multiply` = as is, `divide` = 1 / weight_scale. */
export type WeightScaleMode = 'multiply' | 'divide';

export interface HFModelConfig {
  readonly hfArchitecture: string;
  readonly architecture: HFArchitecture;
  readonly activation: 'relu2' | 'silu';
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nFf: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
  readonly ropeTheta: number;
  readonly rmsEps: number;
  /** `tie_word_embeddings` (undefined when absent: tied unless `lm_head.weight` exists). */
  readonly tieEmbeddings: boolean | undefined;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  /** `quantization_config` summary; `mode: 'none'` when the config has none (float master weights). */
  readonly quant: { readonly linearClass: LinearClass; readonly mode: 'offline' | 'online' | 'none' };
  readonly weightScale: WeightScaleMode;
}

const ARCHS = new Set(['BitNetForCausalLM', 'BitnetForCausalLM']);
const ACTS: Readonly<Record<string, 'relu2' | 'silu'>> = { relu2: 'relu2', relu_squared: 'relu2', silu: 'silu', swish: 'silu' };

function badConfig(field: string, msg: string): BitNetError {
  return new BitNetError('BAD_CONFIG', `config.json: ${field}: ${msg}`, { details: { key: field } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function posInt(c: Record<string, unknown>, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (v === undefined) throw badConfig(key, 'required field is missing');
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw badConfig(key, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function posFloat(c: Record<string, unknown>, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw badConfig(key, `must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/** A token id field: a non-negative integer, or the first of a list (newer configs list several EOS ids). */
function tokenId(c: Record<string, unknown>, key: string): number | undefined {
  let v = c[key];
  if (Array.isArray(v)) v = v[0];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw badConfig(key, `must be a token id, got ${JSON.stringify(c[key])}`);
  return v;
}

function parseQuant(c: Record<string, unknown>): HFModelConfig['quant'] {
  const q = c['quantization_config'];
  if (q === undefined || q === null) return { linearClass: 'bitlinear', mode: 'none' };
  if (!isRecord(q)) throw badConfig('quantization_config', 'must be an object');
  if (q['quant_method'] !== undefined && q['quant_method'] !== 'bitnet') {
    throw badConfig('quantization_config.quant_method', `"${String(q['quant_method'])}" is not supported (expected "bitnet")`);
  }
  const legacy = typeof q['offline_quantization'] === 'boolean';
  const lc = q['linear_class'] ?? (legacy ? 'autobitlinear' : 'bitlinear');
  if (lc !== 'autobitlinear' && lc !== 'bitlinear') throw badConfig('quantization_config.linear_class', `unknown value ${JSON.stringify(lc)}`);
  const mode = q['quantization_mode'] ?? (legacy && q['offline_quantization'] === false ? 'online' : 'offline');
  if (mode !== 'offline' && mode !== 'online') throw badConfig('quantization_config.quantization_mode', `unknown value ${JSON.stringify(mode)}`);
  return { linearClass: lc, mode };
}

/** Parses config.json content. `weightScale` overrides the linear-class rule. */
export function parseHFConfig(json: unknown, options: { weightScale?: WeightScaleMode } = {}): HFModelConfig {
  if (!isRecord(json)) throw badConfig('(root)', 'must be a JSON object');
  const archs = json['architectures'];
  const list = Array.isArray(archs) ? archs.filter((a): a is string => typeof a === 'string') : [];
  const hfArchitecture = list.find((a) => ARCHS.has(a));
  if (!hfArchitecture) {
    throw new BitNetError('UNSUPPORTED_ARCHITECTURE', `config.json: architectures ${JSON.stringify(archs)} is not a BitNet checkpoint (expected BitNetForCausalLM)`, {
      details: { architecture: archs },
    });
  }
  const actName = json['hidden_act'];
  if (typeof actName !== 'string') throw badConfig('hidden_act', 'required string field is missing (relu2 or silu)');
  const activation = ACTS[actName.toLowerCase()];
  if (!activation) throw badConfig('hidden_act', `activation "${actName}" is not supported (expected relu2 or silu)`);

  const nEmbd = posInt(json, 'hidden_size');
  const nHead = posInt(json, 'num_attention_heads');
  const nHeadKv = posInt(json, 'num_key_value_heads', nHead);
  if (nHead % nHeadKv !== 0) throw badConfig('num_key_value_heads', `${nHeadKv} does not divide num_attention_heads ${nHead}`);
  if (json['head_dim'] === undefined && nEmbd % nHead !== 0) throw badConfig('num_attention_heads', `${nHead} does not divide hidden_size ${nEmbd}`);
  const headDim = posInt(json, 'head_dim', nEmbd / nHead);
  if (headDim % 2 !== 0) throw badConfig('head_dim', `${headDim} must be even for RoPE`);
  const rs = json['rope_scaling'];
  if (rs !== undefined && rs !== null) {
    const ok = isRecord(rs) && (rs['type'] ?? rs['rope_type']) === 'linear' && (rs['factor'] === undefined || rs['factor'] === 1);
    if (!ok) throw badConfig('rope_scaling', `${JSON.stringify(rs)} is not supported`);
  }
  const tie = json['tie_word_embeddings'];
  if (tie !== undefined && typeof tie !== 'boolean') throw badConfig('tie_word_embeddings', 'must be a boolean');
  const quant = parseQuant(json);
  return {
    hfArchitecture,
    architecture: activation === 'relu2' ? 'bitnet-b1.58' : 'bitnet',
    activation,
    vocabSize: posInt(json, 'vocab_size'),
    contextLength: posInt(json, 'max_position_embeddings', 2048),
    nEmbd,
    nLayer: posInt(json, 'num_hidden_layers'),
    nFf: posInt(json, 'intermediate_size'),
    nHead,
    nHeadKv,
    headDim,
    ropeTheta: posFloat(json, 'rope_theta', 10000),
    rmsEps: posFloat(json, 'rms_norm_eps', 1e-5),
    tieEmbeddings: tie as boolean | undefined,
    bosTokenId: tokenId(json, 'bos_token_id'),
    eosTokenId: tokenId(json, 'eos_token_id'),
    padTokenId: tokenId(json, 'pad_token_id'),
    quant,
    weightScale: options.weightScale ?? (quant.linearClass === 'autobitlinear' ? 'multiply' : 'divide'),
  };
}

/** The checkpoint's tensors across one or more safetensors files. */
export interface CheckpointTensors {
  readonly files: readonly string[];
  get(name: string): SafetensorsTensor | undefined;
  names(): string[];
  /** Bytes `[start, start + length)` of a tensor (default: all). */
  read(name: string, start?: number, length?: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/** Reads a text file of the checkpoint; `undefined` when it does not exist, IO on other failures. */
export async function readCheckpointText(dir: string, file: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new BitNetError('IO', `cannot read ${join(dir, file)}: ${(e as Error).message}`, { cause: e, details: { path: join(dir, file) } });
  }
}

/** Opens `model.safetensors`, or every shard named by `model.safetensors.index.json` (headers only). */
export async function openCheckpointTensors(dir: string): Promise<CheckpointTensors> {
  const indexText = await readCheckpointText(dir, 'model.safetensors.index.json');
  let weightMap: Map<string, string> | null = null;
  let fileNames: string[];
  if (indexText !== undefined) {
    weightMap = parseSafetensorsIndex(indexText);
    fileNames = [...new Set(weightMap.values())];
  } else {
    fileNames = ['model.safetensors'];
    if (!(await exists(join(dir, 'model.safetensors')))) {
      throw new BitNetError('BAD_CHECKPOINT', `${dir}: neither model.safetensors nor model.safetensors.index.json exists`, { details: { path: dir } });
    }
  }
  const files: SafetensorsFile[] = [];
  const byName = new Map<string, SafetensorsFile>();
  try {
    for (const f of fileNames) {
      const src = await fileSource(join(dir, f));
      let st: SafetensorsFile;
      try {
        st = await openSafetensors(src, f);
      } catch (e) {
        await src.close?.();
        throw e;
      }
      files.push(st);
      for (const name of st.tensors.keys()) {
        if (byName.has(name)) throw new BitNetError('BAD_CHECKPOINT', `tensor "${name}" is stored in both ${byName.get(name)!.label} and ${f}`, { details: { tensor: name } });
        byName.set(name, st);
      }
    }
    for (const [name, f] of weightMap ?? []) {
      if (byName.get(name)?.label !== f) {
        throw new BitNetError('BAD_CHECKPOINT', `model.safetensors.index.json places "${name}" in ${f}, but that file has no such tensor`, { details: { tensor: name, file: f } });
      }
    }
  } catch (e) {
    await Promise.all(files.map((f) => f.close()));
    throw e;
  }
  return {
    files: fileNames,
    get: (name) => byName.get(name)?.tensors.get(name),
    names: () => [...byName.keys()],
    read(name, start, length) {
      const f = byName.get(name);
      if (!f) return Promise.reject(new BitNetError('MISSING_TENSOR', `checkpoint has no tensor "${name}"`, { details: { tensor: name } }));
      return f.read(name, start, length);
    },
    async close() {
      await Promise.all(files.map((f) => f.close()));
    },
  };
}

export type TensorRole = 'embedding' | 'norm' | 'projection';

/** One GGUF tensor and where it comes from. */
export interface PlannedTensor {
  readonly gguf: string;
  readonly role: TensorRole;
  /** HF tensor holding the data. */
  readonly source: SafetensorsTensor;
  /** `<name>.weight_scale` of a packed projection, else null. */
  readonly scale: SafetensorsTensor | null;
  /** Matrix rows (output features / vocabulary) and columns; rows = 1 for norms. */
  readonly rows: number;
  readonly cols: number;
  /** Projections: `packed` (uint8 [out/4, in] + weight_scale) or `float` (master weights, absmean). */
  readonly encoding: 'packed' | 'float' | 'plain';
}

const FLOATS: readonly SafetensorsDtype[] = ['BF16', 'F16', 'F32'];

function missing(name: string, alts: readonly string[] = []): BitNetError {
  const also = alts.length > 1 ? ` (also looked for ${alts.slice(1).map((a) => `"${a}"`).join(', ')})` : '';
  return new BitNetError('MISSING_TENSOR', `checkpoint is missing tensor "${alts[0] ?? name}"${also}`, { details: { tensor: alts[0] ?? name } });
}

function wrongDtype(t: SafetensorsTensor, want: string): BitNetError {
  return new BitNetError('BAD_TENSOR_TYPE', `${t.file}: tensor "${t.name}" has dtype ${t.dtype}, expected ${want}`, { details: { tensor: t.name, dtype: t.dtype } });
}

function wrongShape(t: SafetensorsTensor, want: readonly number[]): BitNetError {
  return new BitNetError('BAD_TENSOR_SHAPE', `${t.file}: tensor "${t.name}" has shape [${t.shape.join(', ')}], expected [${want.join(', ')}]`, {
    details: { tensor: t.name, shape: [...t.shape], expected: [...want] },
  });
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Maps and validates every tensor the GGUF needs (FORMATS.md §3.3, §5.2), in llama.cpp order.
 * Errors: MISSING_TENSOR, BAD_TENSOR_TYPE (dtype), BAD_TENSOR_SHAPE; nothing is read.
 */
export function planCheckpointTensors(c: HFModelConfig, st: CheckpointTensors): PlannedTensor[] {
  const find = (...names: string[]): SafetensorsTensor => {
    for (const n of names) {
      const t = st.get(n);
      if (t) return t;
    }
    throw missing(names[0]!, names);
  };
  const plain = (gguf: string, role: 'embedding' | 'norm', t: SafetensorsTensor, rows: number, cols: number): PlannedTensor => {
    if (!FLOATS.includes(t.dtype)) throw wrongDtype(t, 'BF16, F16 or F32');
    const want = role === 'norm' ? [cols] : [rows, cols];
    if (!same(t.shape, want)) throw wrongShape(t, want);
    return { gguf, role, source: t, scale: null, rows, cols, encoding: 'plain' };
  };
  const proj = (gguf: string, hf: string, out: number, inF: number): PlannedTensor => {
    const t = find(`${hf}.weight`);
    if (t.dtype === 'U8') {
      if (out % 4 !== 0 || !same(t.shape, [out / 4, inF])) throw wrongShape(t, [out / 4, inF]);
      const s = find(`${hf}.weight_scale`);
      if (!FLOATS.includes(s.dtype)) throw wrongDtype(s, 'BF16, F16 or F32');
      if (s.nbytes !== (s.dtype === 'F32' ? 4 : 2)) throw wrongShape(s, [1]);
      return { gguf, role: 'projection', source: t, scale: s, rows: out, cols: inF, encoding: 'packed' };
    }
    if (!FLOATS.includes(t.dtype)) throw wrongDtype(t, 'U8 (packed ternary) or BF16/F16/F32 (master weights)');
    if (!same(t.shape, [out, inF])) throw wrongShape(t, [out, inF]);
    return { gguf, role: 'projection', source: t, scale: null, rows: out, cols: inF, encoding: 'float' };
  };
  const q = c.nHead * c.headDim;
  const kv = c.nHeadKv * c.headDim;
  const list: PlannedTensor[] = [
    plain('token_embd.weight', 'embedding', find('model.embed_tokens.weight'), c.vocabSize, c.nEmbd),
    plain('output_norm.weight', 'norm', find('model.norm.weight'), 1, c.nEmbd),
  ];
  const lmHead = st.get('lm_head.weight');
  if (c.tieEmbeddings === false && !lmHead) throw missing('lm_head.weight');
  if (lmHead && c.tieEmbeddings !== true) list.push(plain('output.weight', 'embedding', lmHead, c.vocabSize, c.nEmbd));
  for (let l = 0; l < c.nLayer; l++) {
    const h = `model.layers.${l}.`;
    const b = `blk.${l}.`;
    list.push(
      plain(`${b}attn_norm.weight`, 'norm', find(`${h}input_layernorm.weight`), 1, c.nEmbd),
      proj(`${b}attn_q.weight`, `${h}self_attn.q_proj`, q, c.nEmbd),
      proj(`${b}attn_k.weight`, `${h}self_attn.k_proj`, kv, c.nEmbd),
      proj(`${b}attn_v.weight`, `${h}self_attn.v_proj`, kv, c.nEmbd),
      plain(`${b}attn_sub_norm.weight`, 'norm', find(`${h}self_attn.attn_sub_norm.weight`, `${h}self_attn.inner_attn_ln.weight`), 1, q),
      proj(`${b}attn_output.weight`, `${h}self_attn.o_proj`, c.nEmbd, q),
      plain(`${b}ffn_norm.weight`, 'norm', find(`${h}post_attention_layernorm.weight`), 1, c.nEmbd),
      proj(`${b}ffn_gate.weight`, `${h}mlp.gate_proj`, c.nFf, c.nEmbd),
      proj(`${b}ffn_up.weight`, `${h}mlp.up_proj`, c.nFf, c.nEmbd),
      plain(`${b}ffn_sub_norm.weight`, 'norm', find(`${h}mlp.ffn_sub_norm.weight`, `${h}mlp.ffn_layernorm.weight`), 1, c.nFf),
      proj(`${b}ffn_down.weight`, `${h}mlp.down_proj`, c.nEmbd, c.nFf),
    );
  }
  return list;
}
