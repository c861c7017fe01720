/**
 * Typed accessors for GGUF metadata. Each returns `undefined` when the key is absent and throws
 * `BitNetError('BAD_METADATA')` naming the key when it is present with an incompatible type.
 * Numeric getters accept every integer and float type (llama.cpp tools write counts as UINT32 where the
 * spec suggests UINT64, others as INT32 or UINT64).
 */
import { BitNetError } from '../errors.js';
import { type GGUFArray, type GGUFMetadata, GGUFValueType } from './gguf-types.js';
import { valueTypeName } from './gguf-metadata.js';

function wrongType(key: string, type: GGUFValueType, expected: string): BitNetError {
  return new BitNetError('BAD_METADATA', `metadata key "${key}" has type ${valueTypeName(type)}, expected ${expected}`, { details: { key } });
}

const NUMERIC = new Set<number>([
  GGUFValueType.UINT8, GGUFValueType.INT8, GGUFValueType.UINT16, GGUFValueType.INT16, GGUFValueType.UINT32,
  GGUFValueType.INT32, GGUFValueType.FLOAT32, GGUFValueType.UINT64, GGUFValueType.INT64, GGUFValueType.FLOAT64,
]);

export function isNumericValueType(type: number): boolean {
  return NUMERIC.has(type);
}

export function getString(md: GGUFMetadata, key: string): string | undefined {
  const e = md.get(key);
  if (!e) return undefined;
  if (e.type !== GGUFValueType.STRING || typeof e.value !== 'string') throw wrongType(key, e.type, 'STRING');
  return e.value;
}

/** Any numeric type as a JS number; u64/i64 beyond 2^53 throw BAD_METADATA. */
export function getNumber(md: GGUFMetadata, key: string): number | undefined {
  const e = md.get(key);
  if (!e) return undefined;
  if (!NUMERIC.has(e.type)) throw wrongType(key, e.type, 'a number');
  if (typeof e.value === 'bigint') {
    throw new BitNetError('BAD_METADATA', `metadata key "${key}" = ${e.value} does not fit in a JS number`, { details: { key } });
  }
  if (typeof e.value !== 'number') throw wrongType(key, e.type, 'a number');
  return e.value;
}

export function getBool(md: GGUFMetadata, key: string): boolean | undefined {
  const e = md.get(key);
  if (!e) return undefined;
  if (e.type !== GGUFValueType.BOOL || typeof e.value !== 'boolean') throw wrongType(key, e.type, 'BOOL');
  return e.value;
}

export function getArray(md: GGUFMetadata, key: string): GGUFArray | undefined {
  const e = md.get(key);
  if (!e) return undefined;
  if (e.type !== GGUFValueType.ARRAY || typeof e.value !== 'object') throw wrongType(key, e.type, 'ARRAY');
  return e.value;
}

export function getStringArray(md: GGUFMetadata, key: string): readonly string[] | undefined {
  const a = getArray(md, key);
  if (!a) return undefined;
  if (a.elementType !== GGUFValueType.STRING) throw wrongType(key, a.elementType, 'ARRAY of STRING');
  return a.values as string[];
}

/** A numeric array as numbers (any element type; 64-bit elements converted, beyond 2^53 → BAD_METADATA). */
export function getNumberArray(md: GGUFMetadata, key: string): ArrayLike<number> | undefined {
  const a = getArray(md, key);
  if (!a) return undefined;
  if (!NUMERIC.has(a.elementType)) throw wrongType(key, a.elementType, 'ARRAY of numbers');
  const v = a.values;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = Number(v[i]!);
      if (!Number.isSafeInteger(x)) throw new BitNetError('BAD_METADATA', `metadata key "${key}" element ${i} does not fit in a JS number`, { details: { key } });
      out[i] = x;
    }
    return out;
  }
  return v as ArrayLike<number>;
}
