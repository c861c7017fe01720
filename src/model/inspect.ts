/**
 * `inspectGGUF`: a JSON-safe summary of an opened GGUF for `bitnet inspect` — container facts,
 * architecture hyperparameters (every `{arch}.*` key), tokenizer summary, the parsed `ModelConfig` (or
 * the reason it cannot be parsed), per-type tensor counts/bytes, and the tensor list. Long arrays are
 * summarised as `{ array: elementType, length }`; u64 values beyond 2^53 become decimal strings.
 */
import { isBitNetError } from '../errors.js';
import { parseModelConfig } from './config.js';
import type { GGUFFile } from './gguf.js';
import { valueTypeName } from './gguf-metadata.js';
import { type GGUFEntry, GGUFValueType } from './gguf-types.js';
import type { ModelConfig } from './tensor.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface TensorSummary {
  readonly name: string;
  readonly type: string;
  readonly dims: number[];
  readonly elements: number;
  readonly bytes: number;
  readonly offset: number;
}

export interface GGUFInspection {
  readonly version: number;
  readonly fileSize: number;
  readonly alignment: number;
  readonly dataOffset: number;
  readonly architecture: string | null;
  readonly name: string | null;
  readonly metadataCount: number;
  readonly hyperparameters: Record<string, JsonValue>;
  readonly general: Record<string, JsonValue>;
  readonly tokenizer: Record<string, JsonValue>;
  readonly config: ModelConfig | null;
  readonly configError: { code: string; message: string } | null;
  readonly tensorCount: number;
  readonly parameterCount: number;
  readonly tensorBytes: number;
  readonly types: Record<string, { count: number; bytes: number; elements: number }>;
  readonly tensors: TensorSummary[];
}

/** JSON form of a metadata value; arrays longer than `maxArray` are summarised. */
export function metadataToJson(e: GGUFEntry, maxArray = 16): JsonValue {
  const v = e.value;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v !== 'object') return v;
  if (v.values.length > maxArray) return { array: valueTypeName(v.elementType), length: v.values.length };
  const out: JsonValue[] = [];
  for (let i = 0; i < v.values.length; i++) {
    const x = v.values[i]!;
    out.push(typeof x === 'object' ? metadataToJson({ type: GGUFValueType.ARRAY, value: x }, maxArray) : metadataToJson({ type: v.elementType, value: x }, maxArray));
  }
  return out;
}

export function inspectGGUF(file: GGUFFile): GGUFInspection {
  const arch = file.architecture;
  const hyperparameters: Record<string, JsonValue> = {};
  const general: Record<string, JsonValue> = {};
  const tokenizer: Record<string, JsonValue> = {};
  for (const [key, entry] of file.metadata) {
    if (arch && key.startsWith(`${arch}.`)) hyperparameters[key.slice(arch.length + 1)] = metadataToJson(entry);
    else if (key.startsWith('general.')) general[key.slice(8)] = metadataToJson(entry);
    else if (key.startsWith('tokenizer.')) tokenizer[key.slice(10)] = metadataToJson(entry, 0);
  }
  let config: ModelConfig | null = null;
  let configError: GGUFInspection['configError'] = null;
  try {
    config = parseModelConfig(file.metadata, file.tensors);
  } catch (e) {
    if (!isBitNetError(e)) throw e;
    configError = { code: e.code, message: e.message };
  }
  const types: GGUFInspection['types'] = {};
  const tensors: TensorSummary[] = [];
  let parameterCount = 0;
  let tensorBytes = 0;
  for (const t of file.tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    const agg = (types[t.type] ??= { count: 0, bytes: 0, elements: 0 });
    agg.count++;
    agg.bytes += t.nbytes;
    agg.elements += elements;
    parameterCount += elements;
    tensorBytes += t.nbytes;
    tensors.push({ name: t.name, type: t.type, dims: [...t.dims], elements, bytes: t.nbytes, offset: file.dataOffset + t.offset });
  }
  const name = file.metadata.get('general.name');
  return {
    version: file.version,
    fileSize: file.source.size,
    alignment: file.alignment,
    dataOffset: file.dataOffset,
    architecture: arch,
    name: name && typeof name.value === 'string' ? name.value : null,
    metadataCount: file.metadata.size,
    hyperparameters,
    general,
    tokenizer,
    config,
    configError,
    tensorCount: file.tensors.length,
    parameterCount,
    tensorBytes,
    types,
    tensors,
  };
}
