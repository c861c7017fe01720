/**
 * safetensors container (Hugging Face checkpoints, FORMATS.md §5): reading over a `ByteSource`
 * (tensor bytes fetched lazily by range — a multi-GB file is never read whole), the shard index
 * `model.safetensors.index.json`, and a small encoder for fixtures and tests.
 *
 * Layout: `u64 LE N`, then N bytes of UTF-8 JSON (padded with spaces), then the data buffer. The JSON
 * maps each tensor name to `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the
 * data buffer, row-major C order, little-endian) plus an optional `__metadata__` string→string map.
 *
 * Validation (every failure is `BitNetError('BAD_CHECKPOINT')` naming the file): N larger than
 * 100 MB (the reference implementation's limit) or than the file, JSON that is not an object,
 * unknown dtypes, shapes that are not non-negative integers, element-count overflow, byte ranges
 * that disagree with dtype × shape, run past the end of the file (truncated download) or overlap.
 */
import { BitNetError } from '../errors.js';
import type { ByteSource } from './byte-source.js';

export type SafetensorsDtype =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'I64' | 'U64' | 'F64';

/** Bytes per element of each dtype. */
export const SAFETENSORS_DTYPE_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

/** Largest accepted JSON header (the safetensors reference implementation's MAX_HEADER_SIZE). */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

export interface SafetensorsTensor {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  /** PyTorch order (outermost first), e.g. `[out, in]` for a linear weight. */
  readonly shape: readonly number[];
  /** Absolute byte offset of the tensor's data in its file. */
  readonly offset: number;
  readonly nbytes: number;
  /** The file it lives in (label given to `openSafetensors`). */
  readonly file: string;
}

export interface SafetensorsFile {
  readonly label: string;
  readonly size: number;
  /** `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: ReadonlyMap<string, SafetensorsTensor>;
  /**
   * Bytes `[start, start + length)` of a tensor's data (default: all of it).
   * @throws BitNetError MISSING_TENSOR for an unknown name, BAD_INPUT for a range outside the tensor.
   */
  read(name: string, start?: number, length?: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

function bad(label: string, msg: string, details?: Record<string, unknown>): BitNetError {
  return new BitNetError('BAD_CHECKPOINT', `${label}: ${msg}`, { details: { file: label, ...details } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDtype(v: unknown): v is SafetensorsDtype {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPE_SIZE, v);
}

/** Element count of a shape (1 for a scalar `[]`); null on invalid dims or overflow past 2^53. */
export function shapeNumel(shape: readonly number[]): number | null {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) return null;
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/**
 * Parses and validates a header JSON. `dataStart` = 8 + N, `fileSize` bounds every tensor.
 * Exposed for tests; `openSafetensors` is the usual entry.
 */
export function parseSafetensorsHeader(
  json: Uint8Array, dataStart: number, fileSize: number, label: string,
): { metadata: Record<string, string>; tensors: Map<string, SafetensorsTensor> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw bad(label, `header is not valid UTF-8 JSON (${(e as Error).message}); not a safetensors file?`);
  }
  if (!isRecord(parsed)) throw bad(label, 'header JSON is not an object');
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const dataSize = fileSize - dataStart;
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isRecord(entry)) throw bad(label, '__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw bad(label, `__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const where = (msg: string): BitNetError => bad(label, `tensor "${name}": ${msg}`, { tensor: name });
    if (!isRecord(entry)) throw where('entry is not an object');
    const { dtype, shape, data_offsets: offs } = entry;
    if (!isDtype(dtype)) throw where(`unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number')) throw where('shape is not an array of integers');
    const numel = shapeNumel(shape as number[]);
    if (numel === null) throw where(`shape [${shape.join(', ')}] has invalid dimensions or too many elements`);
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
      throw where('data_offsets is not a pair of non-negative integers');
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) throw where(`data_offsets [${begin}, ${end}] end before they begin`);
    const nbytes = numel * SAFETENSORS_DTYPE_SIZE[dtype];
    if (!Number.isSafeInteger(nbytes) || end - begin !== nbytes) {
      throw where(`data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} [${shape.join(', ')}] needs ${nbytes}`);
    }
    if (end > dataSize) {
      throw where(`data [${begin}, ${end}) extends past the end of the data buffer (${dataSize} bytes): the file is truncated`);
    }
    tensors.set(name, { name, dtype, shape: [...(shape as number[])], offset: dataStart + begin, nbytes, file: label });
  }
  const sorted = [...tensors.values()].filter((t) => t.nbytes > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const p = sorted[i - 1]!;
    if (sorted[i]!.offset < p.offset + p.nbytes) throw bad(label, `tensors "${p.name}" and "${sorted[i]!.name}" overlap`);
  }
  return { metadata, tensors };
}

/**
 * Opens a safetensors file: reads the 8-byte length and the header (nothing else).
 * `label` names the file in errors (a path or file name). The source is closed by `close()`.
 */
export async function openSafetensors(source: ByteSource, label: string): Promise<SafetensorsFile> {
  const size = source.size;
  if (size < 8) throw bad(label, `file has ${size} bytes, too short for a safetensors header`);
  const head = await source.read(0, 8);
  const n = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_SAFETENSORS_HEADER)) {
    throw bad(label, `header length ${n} is absurd (limit ${MAX_SAFETENSORS_HEADER} bytes); not a safetensors file?`, { headerLength: n.toString() });
  }
  const headerLen = Number(n);
  if (headerLen < 2) throw bad(label, `header length ${headerLen} is too small for a JSON object`);
  if (8 + headerLen > size) throw bad(label, `header of ${headerLen} bytes extends past the end of the file (${size} bytes): truncated?`);
  const json = await source.read(8, headerLen);
  const { metadata, tensors } = parseSafetensorsHeader(json, 8 + headerLen, size, label);
  return {
    label,
    size,
    metadata,
    tensors,
    async read(name: string, start = 0, length?: number): Promise<Uint8Array> {
      const t = tensors.get(name);
      if (!t) throw new BitNetError('MISSING_TENSOR', `${label}: no tensor "${name}"`, { details: { tensor: name, file: label } });
      const len = length ?? t.nbytes - start;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(len) || start < 0 || len < 0 || start + len > t.nbytes) {
        throw new BitNetError('BAD_INPUT', `${label}: range [${start}, ${start + len}) outside tensor "${name}" (${t.nbytes} bytes)`);
      }
      return source.read(t.offset + start, len);
    },
    async close(): Promise<void> {
      await source.close?.();
    },
  };
}

/**
 * Parses `model.safetensors.index.json`: returns tensor name → shard file name. Shard names must be
 * plain file names in the same directory (no paths), else BAD_CHECKPOINT.
 */
export function parseSafetensorsIndex(text: string, label = 'model.safetensors.index.json'): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw bad(label, `not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(parsed) || !isRecord(parsed['weight_map'])) throw bad(label, 'missing the "weight_map" object');
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(parsed['weight_map'])) {
    if (typeof file !== 'string' || file.length === 0 || /[/\\]/.test(file) || file === '.' || file === '..') {
      throw bad(label, `weight_map["${name}"] = ${JSON.stringify(file)} is not a plain file name`, { tensor: name });
    }
    map.set(name, file);
  }
  if (map.size === 0) throw bad(label, 'weight_map is empty');
  return map;
}

export interface SafetensorsInput {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Raw little-endian bytes, `numel × dtype size` long. */
  readonly data: Uint8Array;
}

/**
 * Encodes tensors as one safetensors buffer (data in the given order, header padded with spaces to a
 * multiple of 8 as the reference writer does). For fixtures and tests; throws BAD_INPUT on a size mismatch.
 */
export function encodeSafetensors(tensors: readonly SafetensorsInput[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = { ...metadata };
  let at = 0;
  for (const t of tensors) {
    const want = (shapeNumel(t.shape) ?? -1) * SAFETENSORS_DTYPE_SIZE[t.dtype];
    if (t.data.length !== want) throw new BitNetError('BAD_INPUT', `safetensors encoder: "${t.name}" has ${t.data.length} bytes, expected ${want}`);
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [at, at + t.data.length] };
    at += t.data.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  while (enc.encode(json).length % 8 !== 0) json += ' ';
  const hj = enc.encode(json);
  const out = new Uint8Array(8 + hj.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(hj.length), true);
  out.set(hj, 8);
  let o = 8 + hj.length;
  for (const t of tensors) {
    out.set(t.data, o);
    o += t.data.length;
  }
  return out;
}
