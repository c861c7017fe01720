/**
 * Hugging Face BitNet checkpoint → GGUF (FORMATS.md §3, §5, §6). Node only.
 *
 * `convertHFCheckpoint(dir, outPath, { type })` reads `config.json`, `tokenizer.json`
 * (+ `tokenizer_config.json`) and `model.safetensors` (or its shards) from `dir` and writes a GGUF:
 * - `general.architecture` `bitnet-b1.58` for ReLU² checkpoints (2B-4T), `bitnet` for SiLU ones, with the
 *   hyperparameter keys of §3.2 in the official file's order, `general.file_type` 40 / 37 / 36 for
 *   I2_S / TQ2_0 / TQ1_0, and the tokenizer keys of hf-tokenizer.ts (`tokenizer.ggml.pre = "llama-bpe"`).
 * - `token_embd.weight` (and an untied `output.weight`) as F16, norms as F32, the seven projections per
 *   layer in the chosen ternary type. Packed uint8 weights are unpacked (§5.3) and scaled by
 *   `weight_scale` (or its inverse for `linear_class: bitlinear`); float master weights are ternarized
 *   with absmean (§4.1). I2_S stores the scale as f32 (§5.3 byte-exact recipe); TQ types round it to f16.
 * - Streaming: tensors are read, converted and written one at a time (the embedding in row chunks), so
 *   memory stays around one projection, never the whole model. The file is written to
 *   `<outPath>.partial` and renamed at the end; on failure or abort the partial file is removed.
 *
 * Errors: BAD_OPTION (type, or shapes the type cannot hold), BAD_CHECKPOINT (missing files, broken
 * safetensors), BAD_CONFIG, UNSUPPORTED_ARCHITECTURE, BAD_TOKENIZER, VOCAB_MISMATCH, MISSING_TENSOR,
 * BAD_TENSOR_TYPE, BAD_TENSOR_SHAPE, BAD_TENSOR_DATA, IO; AbortError when `signal` fires.
 */
import { open, rename, rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { BitNetError, throwIfAborted } from '../errors.js';
import { encodeFloats, encodeTernary, f32ToF16, type TernaryType } from './formats/index.js';
import { type GGUFEntry, GGUFValueType } from './gguf-types.js';
import { type GGUFWriteInput, type GGUFWriterTensor, planGGUF, writeGGUF } from './gguf-writer.js';
import {
  type CheckpointTensors, type HFModelConfig, type PlannedTensor, type WeightScaleMode,
  openCheckpointTensors, parseHFConfig, planCheckpointTensors, readCheckpointText,
} from './hf-checkpoint.js';
import { floatsFromBytes, ternarizeAbsmean, toF16Bytes, unpackHFTernary, weightScaleValue } from './hf-tensors.js';
import { convertHFTokenizer } from './hf-tokenizer.js';

export type HFConvertType = 'i2_s' | 'tq2_0' | 'tq1_0';

export interface ConvertProgress {
  /** Fraction of the tensor bytes written, in [0, 1] (reaches 1 with the last tensor). */
  readonly fraction: number;
  readonly message: string;
  /** GGUF name of the tensor being written (the embedding reports once per row chunk). */
  readonly tensor: string;
  /** Its index among the `count` tensors. */
  readonly index: number;
  readonly count: number;
}

export interface ConvertHFOptions {
  readonly type: HFConvertType;
  readonly onProgress?: (progress: ConvertProgress) => void;
  readonly signal?: AbortSignal;
  /** `general.name` (default: the checkpoint directory's name). */
  readonly name?: string;
  /** Overrides the `weight_scale` rule derived from `quantization_config.linear_class`. */
  readonly weightScale?: WeightScaleMode;
  /** Non-fatal findings (padded vocabulary, unknown pre-tokenizer). */
  readonly onWarning?: (message: string) => void;
}

export interface ConvertHFResult {
  readonly path: string;
  readonly bytes: number;
  readonly architecture: HFModelConfig['architecture'];
  readonly type: HFConvertType;
  readonly tensorCount: number;
  readonly config: HFModelConfig;
  readonly warnings: readonly string[];
}

const GGML: Readonly<Record<HFConvertType, TernaryType>> = { i2_s: 'I2_S', tq2_0: 'TQ2_0', tq1_0: 'TQ1_0' };
const FILE_TYPE: Readonly<Record<HFConvertType, number>> = { i2_s: 40, tq2_0: 37, tq1_0: 36 };
const EMBD_CHUNK_BYTES = 4 << 20;

function parseJson(text: string, file: string, code: 'BAD_CONFIG' | 'BAD_TOKENIZER'): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BitNetError(code, `${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function checkType(type: unknown): HFConvertType {
  const t = typeof type === 'string' ? type.toLowerCase() : type;
  if (t !== 'i2_s' && t !== 'tq2_0' && t !== 'tq1_0') {
    throw new BitNetError('BAD_OPTION', `type: expected 'i2_s' | 'tq2_0' | 'tq1_0', got ${JSON.stringify(type)}`, { details: { option: 'type' } });
  }
  return t;
}

/** Every projection must fit the chosen type: TQ rows in 256-element blocks, I2_S in 128-element blocks. */
function checkShapes(plan: readonly PlannedTensor[], type: HFConvertType): void {
  for (const t of plan) {
    if (t.role !== 'projection') continue;
    const ok = type === 'i2_s' ? (t.rows * t.cols) % 128 === 0 : t.cols % 256 === 0;
    if (!ok) {
      const need = type === 'i2_s' ? 'an element count that is a multiple of 128' : 'an input size that is a multiple of 256';
      throw new BitNetError('BAD_OPTION', `type ${type}: ${t.gguf} (${t.rows}×${t.cols}) needs ${need}; choose another --type`, {
        details: { option: 'type', tensor: t.gguf },
      });
    }
  }
}

function metadata(c: HFModelConfig, type: HFConvertType, name: string, tok: Array<[string, GGUFEntry]>): Array<[string, GGUFEntry]> {
  const a = c.architecture;
  const u32 = (value: number): GGUFEntry => ({ type: GGUFValueType.UINT32, value });
  const f32 = (value: number): GGUFEntry => ({ type: GGUFValueType.FLOAT32, value });
  const str = (value: string): GGUFEntry => ({ type: GGUFValueType.STRING, value });
  const kv: Array<[string, GGUFEntry]> = [
    ['general.architecture', str(a)],
    ['general.name', str(name)],
    [`${a}.vocab_size`, u32(c.vocabSize)],
    [`${a}.context_length`, u32(c.contextLength)],
    [`${a}.embedding_length`, u32(c.nEmbd)],
    [`${a}.block_count`, u32(c.nLayer)],
    [`${a}.feed_forward_length`, u32(c.nFf)],
    [`${a}.rope.dimension_count`, u32(c.headDim)],
    [`${a}.attention.head_count`, u32(c.nHead)],
    [`${a}.attention.head_count_kv`, u32(c.nHeadKv)],
  ];
  if (c.headDim * c.nHead !== c.nEmbd) kv.push([`${a}.attention.key_length`, u32(c.headDim)], [`${a}.attention.value_length`, u32(c.headDim)]);
  const addBos = tok.find(([k]) => k === 'tokenizer.ggml.add_bos_token')!;
  kv.push(
    addBos,
    [`${a}.attention.layer_norm_rms_epsilon`, f32(c.rmsEps)],
    [`${a}.rope.freq_base`, f32(c.ropeTheta)],
    ['general.file_type', u32(FILE_TYPE[type])],
    ...tok.filter(([k]) => k !== 'tokenizer.ggml.add_bos_token'),
    ['general.quantization_version', u32(2)],
  );
  return kv;
}

/** The GGUF payload of one planned tensor, produced on demand. */
type Producer = () => Promise<Uint8Array> | AsyncGenerator<Uint8Array>;

function tensorData(t: PlannedTensor, st: CheckpointTensors, c: HFModelConfig, tt: TernaryType, signal?: AbortSignal): Producer {
  const src = t.source;
  if (t.role === 'embedding') {
    return async function* () {
      const rowBytes = src.nbytes / t.rows;
      const step = Math.max(1, Math.floor(EMBD_CHUNK_BYTES / rowBytes));
      for (let r0 = 0; r0 < t.rows; r0 += step) {
        throwIfAborted(signal);
        const n = Math.min(step, t.rows - r0);
        yield toF16Bytes(await st.read(src.name, r0 * rowBytes, n * rowBytes), src.dtype);
      }
    };
  }
  if (t.role === 'norm') return async () => encodeFloats('f32', floatsFromBytes(await st.read(src.name), src.dtype));
  return async () => {
    throwIfAborted(signal);
    const bytes = await st.read(src.name);
    let m;
    if (t.encoding === 'packed') {
      const s = t.scale!;
      const scale = weightScaleValue(await st.read(s.name), s.dtype, c.weightScale, s.name);
      m = unpackHFTernary(bytes, t.rows, t.cols, scale, src.name);
    } else {
      m = ternarizeAbsmean(bytes, src.dtype, t.rows, t.cols, src.name);
    }
    if (tt !== 'I2_S' && (f32ToF16(m.scale) & 0x7fff) >= 0x7c00) {
      throw new BitNetError('BAD_TENSOR_DATA', `tensor "${src.name}": scale ${m.scale} does not fit in f16 (${tt}); use --type i2_s`, { details: { tensor: src.name } });
    }
    return encodeTernary(tt, m);
  };
}

export interface HFConversion {
  readonly input: GGUFWriteInput;
  readonly config: HFModelConfig;
  readonly warnings: readonly string[];
  /** Closes the checkpoint files (after writing). */
  close(): Promise<void>;
}

/**
 * Reads and validates everything but the tensor data and returns the GGUF writer input (tensor data
 * produced lazily from the open checkpoint). `convertHFCheckpoint` is the usual entry point.
 */
export async function prepareHFConversion(dir: string, options: ConvertHFOptions): Promise<HFConversion> {
  const type = checkType(options.type);
  const warnings: string[] = [];
  const warn = (m: string): void => {
    warnings.push(m);
    options.onWarning?.(m);
  };
  const configText = await readCheckpointText(dir, 'config.json');
  if (configText === undefined) throw new BitNetError('BAD_CHECKPOINT', `${dir}: config.json not found`, { details: { path: dir } });
  const config = parseHFConfig(parseJson(configText, 'config.json', 'BAD_CONFIG'), options.weightScale ? { weightScale: options.weightScale } : {});
  const tokText = await readCheckpointText(dir, 'tokenizer.json');
  if (tokText === undefined) throw new BitNetError('BAD_CHECKPOINT', `${dir}: tokenizer.json not found (a Hugging Face fast tokenizer is required)`, { details: { path: dir } });
  const tokCfgText = await readCheckpointText(dir, 'tokenizer_config.json');
  const tok = convertHFTokenizer(parseJson(tokText, 'tokenizer.json', 'BAD_TOKENIZER'), tokCfgText === undefined ? undefined : parseJson(tokCfgText, 'tokenizer_config.json', 'BAD_TOKENIZER'), {
    vocabSize: config.vocabSize,
    ...(config.bosTokenId !== undefined ? { bosTokenId: config.bosTokenId } : {}),
    ...(config.eosTokenId !== undefined ? { eosTokenId: config.eosTokenId } : {}),
    ...(config.padTokenId !== undefined ? { padTokenId: config.padTokenId } : {}),
    onWarning: warn,
  });
  const st = await openCheckpointTensors(dir);
  try {
    const plan = planCheckpointTensors(config, st);
    checkShapes(plan, type);
    const tt = GGML[type];
    // Progress is weighted by output bytes (the embedding is about half of a 2B-4T file and reports per chunk).
    let doneBytes = 0;
    let totalBytes = 1;
    let index = -1;
    const report = (t: PlannedTensor, i: number, bytes: number): void => {
      doneBytes += bytes;
      index = i;
      const fraction = Math.min(1, doneBytes / totalBytes);
      options.onProgress?.({ fraction, message: `converting ${t.gguf}`, tensor: t.gguf, index, count: plan.length });
    };
    const tensors: GGUFWriterTensor[] = plan.map((t, i) => {
      const make = tensorData(t, st, config, tt, options.signal);
      const data: GGUFWriterTensor['data'] = t.role === 'embedding'
        ? async function* () {
          for await (const chunk of make() as AsyncGenerator<Uint8Array>) {
            yield chunk;
            report(t, i, chunk.length);
          }
        }
        : async () => {
          throwIfAborted(options.signal);
          const b = await (make() as Promise<Uint8Array>);
          report(t, i, b.length);
          return b;
        };
      const ggmlType = t.role === 'projection' ? tt : t.role === 'embedding' ? 'F16' : 'F32';
      return { name: t.gguf, dims: t.role === 'norm' ? [t.cols] : [t.cols, t.rows], type: ggmlType, data };
    });
    const name = options.name ?? basename(resolve(dir));
    const input: GGUFWriteInput = { metadata: metadata(config, type, name, tok.entries), tensors };
    totalBytes = Math.max(1, planGGUF(input).tensors.reduce((sum, t) => sum + t.nbytes, 0));
    return { input, config, warnings, close: () => st.close() };
  } catch (e) {
    await st.close();
    throw e;
  }
}

/** Converts the checkpoint in `dir` to a GGUF at `outPath` (see the module comment). */
export async function convertHFCheckpoint(dir: string, outPath: string, options: ConvertHFOptions): Promise<ConvertHFResult> {
  throwIfAborted(options.signal);
  const conv = await prepareHFConversion(dir, options);
  const tmp = `${outPath}.partial`;
  let bytes = 0;
  try {
    let fh;
    try {
      fh = await open(tmp, 'w');
    } catch (e) {
      throw new BitNetError('IO', `cannot create ${tmp}: ${(e as Error).message}`, { cause: e, details: { path: tmp } });
    }
    try {
      for await (const chunk of writeGGUF(conv.input)) {
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        bytes += chunk.length;
      }
    } finally {
      await fh.close();
    }
    await rename(tmp, outPath);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    if (e instanceof BitNetError || (e as { name?: string })?.name === 'AbortError') throw e;
    throw new BitNetError('IO', `writing ${outPath} failed: ${(e as Error).message}`, { cause: e, details: { path: outPath } });
  } finally {
    await conv.close();
  }
  return {
    path: outPath, bytes, architecture: conv.config.architecture, type: checkType(options.type),
    tensorCount: conv.input.tensors.length, config: conv.config, warnings: conv.warnings,
  };
}
