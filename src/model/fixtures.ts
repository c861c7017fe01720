/**
 * Deterministic random BitNet GGUF fixtures for every architecture (bitnet-b1.58, bitnet-25, bitnet,
 * llama) and ternary type (TQ1_0, TQ2_0, I2_S), with a small byte-level BPE tokenizer
 * (fixture-tokenizer.ts). Each tensor's content depends only on (seed, tensor name), so tests can
 * regenerate the expected values with `fixtureTernary` / `fixtureFloats`.
 *
 * - Ternary projections: codes P(−1) = P(+1) = 1/4, P(0) = 1/2; one f16-representable scale per tensor
 *   in [0.25, 1.75), so every ternary type decodes to identical values.
 * - Embeddings: uniform [−1, 1) snapped to f16 values, stored as F16/F32/BF16/Q8_0.
 * - Norms: F32 gains in [0.9, 1.1).
 * - `shape: '2b4t'` uses the microsoft/bitnet-b1.58-2B-4T shapes (30 layers, 2560, 20/5 heads, 6912,
 *   vocab 128256 with the LLaMA-3 control-token layout); that file (~1.1 GB) can only be written with
 *   `writeFixtureFile`, which streams it tensor by tensor (embedding in row chunks).
 * - The Q4_0 comparison copy of any fixture file (llama.cpp's WebGPU path has no ternary kernels) is
 *   written by `ensureWllamaTwin(src, dst, log, 'q4_0')` in bench/browser/wllama-model.ts.
 */
import { BitNetError } from '../errors.js';
import { buildFixtureVocab } from './fixture-tokenizer.js';
import { encodeFloats, encodeTernary, f16ToF32, f32ToF16, isTernaryType, type TernaryType } from './formats/index.js';
import { type GGUFArray, type GGUFEntry, GGUFValueType } from './gguf-types.js';
import { type GGUFWriteInput, type GGUFWriterTensor, writeGGUFToBuffer, writeGGUFToFile } from './gguf-writer.js';
import type { Architecture, FloatStorage, TernaryMatrix } from './tensor.js';

export type EmbeddingType = 'F16' | 'F32' | 'BF16' | 'Q8_0';

export interface FixtureOptions {
  readonly arch?: Architecture;
  readonly ternaryType?: TernaryType;
  readonly embeddingType?: EmbeddingType;
  readonly seed?: number;
  readonly nLayer?: number;
  readonly nEmbd?: number;
  readonly nHead?: number;
  readonly nHeadKv?: number;
  readonly nFf?: number;
  readonly vocab?: number;
  /** BPE merges to learn (default 300, fewer when the vocabulary is small). */
  readonly nMerges?: number;
  readonly contextLength?: number;
  /** Write a separate `output.weight` (default false: tied). */
  readonly untiedOutput?: boolean;
  /** Write `blk.N.<proj>.scale` tensors. */
  readonly projectionScales?: boolean;
  /** Value for `{arch}.hidden_activation` (omitted by default). */
  readonly hiddenActivation?: string;
  /** Full 2B-4T shapes (overrides the size options). */
  readonly shape?: '2b4t';
}

interface Resolved {
  arch: Architecture; tt: TernaryType; et: EmbeddingType; seed: number; nLayer: number; nEmbd: number; nHead: number;
  nHeadKv: number; nFf: number; vocab: number; nMerges: number; ctx: number; untied: boolean; scales: boolean;
  hiddenActivation?: string; llama3: boolean;
}

function resolve(o: FixtureOptions): Resolved {
  const big = o.shape === '2b4t';
  const r: Resolved = {
    arch: o.arch ?? 'bitnet-b1.58', tt: o.ternaryType ?? 'I2_S', et: o.embeddingType ?? 'F16', seed: o.seed ?? 1,
    nLayer: big ? 30 : o.nLayer ?? 2, nEmbd: big ? 2560 : o.nEmbd ?? 256, nHead: big ? 20 : o.nHead ?? 4,
    nHeadKv: big ? 5 : o.nHeadKv ?? 2, nFf: big ? 6912 : o.nFf ?? 512, vocab: big ? 128256 : o.vocab ?? 512,
    nMerges: o.nMerges ?? 300, ctx: big ? 4096 : o.contextLength ?? 256, untied: o.untiedOutput ?? false,
    scales: o.projectionScales ?? false, llama3: big,
  };
  if (o.hiddenActivation !== undefined) r.hiddenActivation = o.hiddenActivation;
  const bad = (m: string): BitNetError => new BitNetError('BAD_OPTION', `fixture: ${m}`);
  for (const k of ['nLayer', 'nEmbd', 'nHead', 'nHeadKv', 'nFf', 'vocab', 'ctx'] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] <= 0) throw bad(`${k} must be a positive integer`);
  }
  if (r.nEmbd % r.nHead !== 0 || r.nHead % r.nHeadKv !== 0) throw bad('heads must divide nEmbd and nHeadKv must divide nHead');
  if ((r.nEmbd / r.nHead) % 2 !== 0) throw bad('head dimension must be even');
  if (r.nEmbd % 4 !== 0 || r.nFf % 4 !== 0) throw bad('nEmbd and nFf must be multiples of 4');
  const kvDim = (r.nEmbd / r.nHead) * r.nHeadKv;
  if (r.tt !== 'I2_S' && (r.nEmbd % 256 !== 0 || r.nFf % 256 !== 0)) throw bad(`${r.tt} needs nEmbd and nFf multiples of 256`);
  if (r.tt === 'I2_S' && ((r.nEmbd * kvDim) % 128 !== 0 || (r.nEmbd * r.nFf) % 128 !== 0 || (r.nEmbd * r.nEmbd) % 128 !== 0)) {
    throw bad('I2_S needs every projection element count to be a multiple of 128');
  }
  if (r.et === 'Q8_0' && r.nEmbd % 32 !== 0) throw bad('Q8_0 embeddings need nEmbd % 32 == 0');
  return r;
}

/** mulberry32 stream seeded from (seed, name) via FNV-1a. */
export function fixtureRng(seed: number, name: string): () => number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  let s = h >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Canonical byte with each 2-bit code 3 replaced by 1 (zero). */
const CODE_MAP = new Uint8Array(256).map((_, b) => {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = (b >> (2 * k)) & 3;
    v |= (c === 3 ? 1 : c) << (2 * k);
  }
  return v;
});

/** The ternary matrix a fixture stores under `name` (rows = ne1, cols = ne0; cols % 4 == 0). */
export function fixtureTernary(seed: number, name: string, rows: number, cols: number): TernaryMatrix {
  const rnd = fixtureRng(seed, name);
  const scale = f16ToF32(f32ToF16(0.25 + (rnd() / 2 ** 32) * 1.5));
  const packed = new Uint8Array((rows * cols) / 4);
  for (let i = 0; i < packed.length; i += 4) {
    const w = rnd();
    packed[i] = CODE_MAP[w & 0xff]!;
    if (i + 1 < packed.length) packed[i + 1] = CODE_MAP[(w >>> 8) & 0xff]!;
    if (i + 2 < packed.length) packed[i + 2] = CODE_MAP[(w >>> 16) & 0xff]!;
    if (i + 3 < packed.length) packed[i + 3] = CODE_MAP[w >>> 24]!;
  }
  return { kind: 'ternary', rows, cols, packed, scale, blockScales: null, scaleBlock: cols, sourceType: 'fixture' };
}

const EMBD_VALUES = new Float32Array(4096).map((_, i) => f16ToF32(f32ToF16((i - 2048) / 2048)));

/** Float values a fixture stores under `name`: 'embd' uniform in [−1, 1), 'norm' in [0.9, 1.1). */
export function fixtureFloats(seed: number, name: string, n: number, kind: 'embd' | 'norm', start = 0): Float32Array {
  const rnd = fixtureRng(seed, name);
  for (let i = 0; i < start; i++) rnd();
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = kind === 'embd' ? EMBD_VALUES[rnd() & 4095]! : Math.fround(0.9 + (rnd() / 2 ** 32) * 0.2);
  return out;
}

const STORAGE: Record<EmbeddingType, FloatStorage> = { F16: 'f16', F32: 'f32', BF16: 'bf16', Q8_0: 'q8_0' };
const FILE_TYPE: Record<TernaryType, number> = { TQ1_0: 36, TQ2_0: 37, I2_S: 40 };

/** Embedding-like tensor produced in row chunks (one RNG stream per tensor, so chunking is invisible). */
function* embeddingChunks(seed: number, name: string, rows: number, cols: number, et: EmbeddingType): Generator<Uint8Array> {
  const rnd = fixtureRng(seed, name);
  const rowsPerChunk = Math.max(1, Math.floor((1 << 20) / (cols * 4)));
  for (let r0 = 0; r0 < rows; r0 += rowsPerChunk) {
    const n = Math.min(rowsPerChunk, rows - r0) * cols;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = EMBD_VALUES[rnd() & 4095]!;
    yield encodeFloats(STORAGE[et], v);
  }
}

function meta(r: Resolved): Array<[string, GGUFEntry]> {
  const a = r.arch;
  const u32 = (value: number): GGUFEntry => ({ type: GGUFValueType.UINT32, value });
  const f32 = (value: number): GGUFEntry => ({ type: GGUFValueType.FLOAT32, value });
  const str = (value: string): GGUFEntry => ({ type: GGUFValueType.STRING, value });
  const vocab = buildFixtureVocab(r.vocab, r.nMerges, r.llama3 ? 'llama3' : 'small');
  const kv: Array<[string, GGUFEntry]> = [
    ['general.architecture', str(a)],
    ['general.name', str(`fixture-${a}-${r.tt}`)],
    [`${a}.vocab_size`, u32(r.vocab)],
    [`${a}.context_length`, u32(r.ctx)],
    [`${a}.embedding_length`, u32(r.nEmbd)],
    [`${a}.block_count`, u32(r.nLayer)],
    [`${a}.feed_forward_length`, u32(r.nFf)],
    [`${a}.rope.dimension_count`, u32(r.nEmbd / r.nHead)],
    [`${a}.attention.head_count`, u32(r.nHead)],
    [`${a}.attention.head_count_kv`, u32(r.nHeadKv)],
    ['tokenizer.ggml.add_bos_token', { type: GGUFValueType.BOOL, value: true }],
    [`${a}.attention.layer_norm_rms_epsilon`, f32(1e-5)],
    [`${a}.rope.freq_base`, f32(a === 'bitnet' ? 10000 : 500000)],
    ['general.file_type', u32(FILE_TYPE[r.tt])],
  ];
  if (r.hiddenActivation !== undefined) kv.push([`${a}.hidden_activation`, str(r.hiddenActivation)]);
  const arr = (elementType: GGUFValueType, values: GGUFArray['values']): GGUFEntry => ({
    type: GGUFValueType.ARRAY, value: { type: GGUFValueType.ARRAY, elementType, values },
  });
  kv.push(
    ['tokenizer.ggml.model', str('gpt2')],
    ['tokenizer.ggml.pre', str('llama-bpe')],
    ['tokenizer.ggml.tokens', arr(GGUFValueType.STRING, vocab.tokens)],
    ['tokenizer.ggml.scores', arr(GGUFValueType.FLOAT32, new Float32Array(r.vocab))],
    ['tokenizer.ggml.token_type', arr(GGUFValueType.INT32, vocab.tokenTypes)],
    ['tokenizer.ggml.merges', arr(GGUFValueType.STRING, vocab.merges)],
    ['tokenizer.ggml.bos_token_id', u32(vocab.bosId)],
    ['tokenizer.ggml.eos_token_id', u32(vocab.eosId)],
    ['tokenizer.ggml.eot_token_id', u32(vocab.eotId)],
    ['tokenizer.ggml.padding_token_id', u32(vocab.eosId)],
    ['general.quantization_version', u32(2)],
  );
  return kv;
}

/** Tensor list (lazy data) in llama.cpp order: embeddings, output norm, [output], then per layer. */
function tensors(r: Resolved): GGUFWriterTensor[] {
  const list: GGUFWriterTensor[] = [];
  const seed = r.seed;
  const embd = (name: string): GGUFWriterTensor => ({
    name, dims: [r.nEmbd, r.vocab], type: r.et, data: () => embeddingChunks(seed, name, r.vocab, r.nEmbd, r.et),
  });
  const norm = (name: string, n: number): GGUFWriterTensor => ({
    name, dims: [n], type: 'F32', data: () => encodeFloats('f32', fixtureFloats(seed, name, n, 'norm')),
  });
  const tern = (name: string, cols: number, rows: number): GGUFWriterTensor => ({
    name, dims: [cols, rows], type: r.tt, data: () => encodeTernary(r.tt, fixtureTernary(seed, name, rows, cols)),
  });
  const qDim = r.nEmbd;
  const kvDim = (r.nEmbd / r.nHead) * r.nHeadKv;
  list.push(embd('token_embd.weight'), norm('output_norm.weight', r.nEmbd));
  if (r.untied) list.push(embd('output.weight'));
  const sub = r.arch !== 'llama';
  for (let l = 0; l < r.nLayer; l++) {
    const p = `blk.${l}.`;
    list.push(norm(`${p}attn_norm.weight`, r.nEmbd));
    const projs: Array<[string, number, number]> = [
      ['attn_q', r.nEmbd, qDim], ['attn_k', r.nEmbd, kvDim], ['attn_v', r.nEmbd, kvDim], ['attn_output', qDim, r.nEmbd],
      ['ffn_gate', r.nEmbd, r.nFf], ['ffn_up', r.nEmbd, r.nFf], ['ffn_down', r.nFf, r.nEmbd],
    ];
    for (const [proj, cols, rows] of projs) {
      if (proj === 'attn_output' && sub) list.push(norm(`${p}attn_sub_norm.weight`, qDim));
      if (proj === 'ffn_gate') list.push(norm(`${p}ffn_norm.weight`, r.nEmbd));
      if (proj === 'ffn_down' && sub) list.push(norm(`${p}ffn_sub_norm.weight`, r.nFf));
      list.push(tern(`${p}${proj}.weight`, cols, rows));
      if (r.scales) {
        const name = `${p}${proj}.scale`;
        list.push({ name, dims: [1], type: 'F32', data: () => encodeFloats('f32', fixtureFloats(seed, name, 1, 'norm')) });
      }
    }
  }
  return list;
}

/** The writer input of a fixture (tensor data produced lazily). */
export function fixtureInput(options: FixtureOptions = {}): GGUFWriteInput {
  const r = resolve(options);
  return { metadata: meta(r), tensors: tensors(r) };
}

/** A small fixture as one buffer. @throws BAD_OPTION for shape '2b4t' (use writeFixtureFile). */
export async function makeFixture(options: FixtureOptions = {}): Promise<Uint8Array> {
  if (options.shape === '2b4t') throw new BitNetError('BAD_OPTION', "fixture shape '2b4t' (~1.1 GB) must be streamed with writeFixtureFile");
  return writeGGUFToBuffer(fixtureInput(options));
}

/** Streams a fixture to a file (Node); returns the byte count. */
export async function writeFixtureFile(options: FixtureOptions, path: string): Promise<number> {
  return writeGGUFToFile(fixtureInput(options), path);
}
