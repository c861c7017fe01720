/**
 * Decoding of GGUF metadata key/value records (FORMATS.md §1.3) from a `GGUFCursor`.
 * All 13 value types are supported, including nested arrays (depth ≤ 8). Malformed input throws
 * `BitNetError('BAD_METADATA')` (bad value type, bool not 0/1, duplicate key, absurd lengths/counts —
 * always checked against the remaining file size before allocating) or `TRUNCATED`.
 */
import { BitNetError } from '../errors.js';
import { type GGUFArray, type GGUFEntry, type GGUFMetadata, type GGUFScalar, GGUFValueType } from './gguf-types.js';
import type { GGUFCursor } from './gguf-cursor.js';

const MAX_KEY_LENGTH = 65535;
const MAX_ARRAY_DEPTH = 8;
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Fixed byte size of a scalar numeric/bool type, 0 for string/array, -1 for an invalid id. */
export function scalarSize(type: number): number {
  switch (type) {
    case GGUFValueType.UINT8: case GGUFValueType.INT8: case GGUFValueType.BOOL: return 1;
    case GGUFValueType.UINT16: case GGUFValueType.INT16: return 2;
    case GGUFValueType.UINT32: case GGUFValueType.INT32: case GGUFValueType.FLOAT32: return 4;
    case GGUFValueType.UINT64: case GGUFValueType.INT64: case GGUFValueType.FLOAT64: return 8;
    case GGUFValueType.STRING: case GGUFValueType.ARRAY: return 0;
    default: return -1;
  }
}

/** Smallest encoded size of one value of a type (used to bound counts). */
function minValueSize(type: number): number {
  if (type === GGUFValueType.STRING) return 8;
  if (type === GGUFValueType.ARRAY) return 12;
  return scalarSize(type);
}

const TYPE_NAMES = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64'];

export function valueTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

function bad(msg: string, offset: number): BitNetError {
  return new BitNetError('BAD_METADATA', msg, { details: { offset } });
}

function bigToValue(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/** Reads one scalar (non-string, non-array) value; the caller ensured the bytes are in the window. */
function readScalarSync(c: GGUFCursor, type: number, what: string): number | bigint | boolean {
  switch (type) {
    case GGUFValueType.UINT8: return c.u8();
    case GGUFValueType.INT8: return c.i8();
    case GGUFValueType.UINT16: return c.u16();
    case GGUFValueType.INT16: return c.i16();
    case GGUFValueType.UINT32: return c.u32();
    case GGUFValueType.INT32: return c.i32();
    case GGUFValueType.FLOAT32: return c.f32();
    case GGUFValueType.UINT64: return bigToValue(c.u64big());
    case GGUFValueType.INT64: return bigToValue(c.i64big());
    case GGUFValueType.FLOAT64: return c.f64();
    case GGUFValueType.BOOL: {
      const at = c.pos;
      const b = c.u8();
      if (b > 1) throw bad(`${what}: bool byte ${b} at offset ${at} is not 0 or 1`, at);
      return b === 1;
    }
    default: throw bad(`${what}: invalid value type ${type}`, c.pos);
  }
}

async function readValue(c: GGUFCursor, type: number, what: string, depth: number): Promise<GGUFScalar | GGUFArray> {
  if (type === GGUFValueType.STRING) return c.string(what, 'BAD_METADATA');
  if (type === GGUFValueType.ARRAY) return readArray(c, what, depth + 1);
  const size = scalarSize(type);
  if (size < 0) throw bad(`${what}: invalid value type ${type}`, c.pos);
  await c.need(size, what);
  return readScalarSync(c, type, what);
}

function newTypedArray(type: number, n: number): Exclude<GGUFArray['values'], string[] | boolean[] | GGUFArray[]> {
  switch (type) {
    case GGUFValueType.UINT8: return new Uint8Array(n);
    case GGUFValueType.INT8: return new Int8Array(n);
    case GGUFValueType.UINT16: return new Uint16Array(n);
    case GGUFValueType.INT16: return new Int16Array(n);
    case GGUFValueType.UINT32: return new Uint32Array(n);
    case GGUFValueType.INT32: return new Int32Array(n);
    case GGUFValueType.FLOAT32: return new Float32Array(n);
    case GGUFValueType.UINT64: return new BigUint64Array(n);
    case GGUFValueType.INT64: return new BigInt64Array(n);
    default: return new Float64Array(n);
  }
}

function byteSwap(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

async function readArray(c: GGUFCursor, what: string, depth: number): Promise<GGUFArray> {
  if (depth > MAX_ARRAY_DEPTH) throw bad(`${what}: arrays nested deeper than ${MAX_ARRAY_DEPTH}`, c.pos);
  await c.need(12, what);
  const at = c.pos;
  const elementType = c.u32();
  const count = c.u64();
  if (elementType >= TYPE_NAMES.length) throw bad(`${what}: invalid array element type ${elementType} at offset ${at}`, at);
  const minSize = minValueSize(elementType);
  if (count < 0 || count * minSize > c.remaining) {
    throw bad(`${what}: array count ${count < 0 ? '>= 2^53' : count} of ${valueTypeName(elementType)} at offset ${at} exceeds the remaining ${c.remaining} bytes`, at);
  }
  if (elementType === GGUFValueType.STRING) {
    const values: string[] = new Array<string>(count);
    for (let i = 0; i < count; i++) values[i] = await c.string(what, 'BAD_METADATA');
    return { type: GGUFValueType.ARRAY, elementType, values };
  }
  if (elementType === GGUFValueType.ARRAY) {
    const values: GGUFArray[] = [];
    for (let i = 0; i < count; i++) values.push(await readArray(c, what, depth + 1));
    return { type: GGUFValueType.ARRAY, elementType, values };
  }
  if (elementType === GGUFValueType.BOOL) {
    const raw = new Uint8Array(count);
    await c.readInto(raw, what);
    const values: boolean[] = new Array<boolean>(count);
    for (let i = 0; i < count; i++) {
      if (raw[i]! > 1) throw bad(`${what}: bool array element ${i} is ${raw[i]}, not 0 or 1`, at);
      values[i] = raw[i] === 1;
    }
    return { type: GGUFValueType.ARRAY, elementType, values };
  }
  const values = newTypedArray(elementType, count);
  const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  await c.readInto(raw, what);
  if (!HOST_LE && minSize > 1) byteSwap(raw, minSize);
  return { type: GGUFValueType.ARRAY, elementType, values };
}

/**
 * Reads `count` key/value records at the cursor into a Map (insertion order = file order).
 * `count` must already be bounded by the caller against the file size.
 */
export async function readMetadata(c: GGUFCursor, count: number): Promise<GGUFMetadata> {
  const md: GGUFMetadata = new Map();
  for (let i = 0; i < count; i++) {
    const at = c.pos;
    const key = await c.string(`metadata key #${i}`, 'BAD_METADATA', MAX_KEY_LENGTH);
    if (key.length === 0) throw bad(`metadata key #${i} at offset ${at} is empty`, at);
    if (md.has(key)) throw bad(`duplicate metadata key "${key}" at offset ${at}`, at);
    await c.need(4, `type of metadata key "${key}"`);
    const type = c.u32();
    if (type >= TYPE_NAMES.length) throw bad(`metadata key "${key}" has invalid value type ${type}`, at);
    const value = await readValue(c, type, `metadata key "${key}"`, 0);
    const entry: GGUFEntry = { type: type as GGUFValueType, value };
    md.set(key, entry);
  }
  return md;
}
