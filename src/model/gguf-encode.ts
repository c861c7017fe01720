/**
 * Little-endian byte builder for the GGUF header/metadata/tensor-info part, emitting fixed-size
 * chunks, plus the encoding of metadata values (FORMATS.md §1.3). Invalid values throw
 * `BitNetError('BAD_INPUT')` naming the key.
 */
import { BitNetError } from '../errors.js';
import { type GGUFArray, type GGUFEntry, type GGUFScalar, GGUFValueType } from './gguf-types.js';

const utf8 = new TextEncoder();
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class ByteBuilder {
  readonly chunks: Uint8Array[] = [];
  private cur: Uint8Array;
  private view: DataView;
  private at = 0;
  /** Total bytes written so far. */
  length = 0;

  constructor(private readonly chunkSize = 1 << 20) {
    this.cur = new Uint8Array(chunkSize);
    this.view = new DataView(this.cur.buffer);
  }

  private room(n: number): number {
    if (this.at + n > this.cur.length) {
      this.flush();
      if (n > this.cur.length) {
        this.cur = new Uint8Array(n);
        this.view = new DataView(this.cur.buffer);
      }
    }
    const o = this.at;
    this.at += n;
    this.length += n;
    return o;
  }

  /** Moves the bytes written so far into `chunks`. */
  flush(): void {
    if (this.at > 0) this.chunks.push(this.cur.subarray(0, this.at));
    this.cur = new Uint8Array(this.chunkSize);
    this.view = new DataView(this.cur.buffer);
    this.at = 0;
  }

  /** Takes the completed chunks (after flush) and clears the list. */
  take(): Uint8Array[] {
    return this.chunks.splice(0, this.chunks.length);
  }

  // room() may start a new chunk: take the offset first, then index the (possibly new) buffer.
  u8(v: number): void { const o = this.room(1); this.cur[o] = v; }
  i8(v: number): void { const o = this.room(1); this.view.setInt8(o, v); }
  u16(v: number): void { const o = this.room(2); this.view.setUint16(o, v, true); }
  i16(v: number): void { const o = this.room(2); this.view.setInt16(o, v, true); }
  u32(v: number): void { const o = this.room(4); this.view.setUint32(o, v, true); }
  i32(v: number): void { const o = this.room(4); this.view.setInt32(o, v, true); }
  f32(v: number): void { const o = this.room(4); this.view.setFloat32(o, v, true); }
  f64(v: number): void { const o = this.room(8); this.view.setFloat64(o, v, true); }
  u64(v: number | bigint): void { const o = this.room(8); this.view.setBigUint64(o, BigInt(v), true); }
  i64(v: number | bigint): void { const o = this.room(8); this.view.setBigInt64(o, BigInt(v), true); }
  bytes(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) {
      if (this.at === this.cur.length) this.flush();
      const n = Math.min(b.length - done, this.cur.length - this.at);
      this.cur.set(b.subarray(done, done + n), this.at);
      this.at += n;
      this.length += n;
      done += n;
    }
  }
  string(s: string): void {
    const b = utf8.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  zeros(n: number): void {
    for (let i = 0; i < n; i++) this.u8(0);
  }
}

const INT_RANGE: Record<number, [number, number]> = {
  [GGUFValueType.UINT8]: [0, 0xff], [GGUFValueType.INT8]: [-0x80, 0x7f],
  [GGUFValueType.UINT16]: [0, 0xffff], [GGUFValueType.INT16]: [-0x8000, 0x7fff],
  [GGUFValueType.UINT32]: [0, 0xffffffff], [GGUFValueType.INT32]: [-0x80000000, 0x7fffffff],
};

const TYPED_CTOR: Record<number, abstract new (...args: never[]) => unknown> = {
  [GGUFValueType.UINT8]: Uint8Array, [GGUFValueType.INT8]: Int8Array, [GGUFValueType.UINT16]: Uint16Array,
  [GGUFValueType.INT16]: Int16Array, [GGUFValueType.UINT32]: Uint32Array, [GGUFValueType.INT32]: Int32Array,
  [GGUFValueType.FLOAT32]: Float32Array, [GGUFValueType.UINT64]: BigUint64Array, [GGUFValueType.INT64]: BigInt64Array,
  [GGUFValueType.FLOAT64]: Float64Array,
};

function bad(key: string, msg: string): BitNetError {
  return new BitNetError('BAD_INPUT', `metadata "${key}": ${msg}`, { details: { key } });
}

function writeScalar(b: ByteBuilder, type: number, v: unknown, key: string): void {
  const range = INT_RANGE[type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) throw bad(key, `${String(v)} is not a valid value of type ${type}`);
  }
  switch (type) {
    case GGUFValueType.UINT8: return b.u8(v as number);
    case GGUFValueType.INT8: return b.i8(v as number);
    case GGUFValueType.UINT16: return b.u16(v as number);
    case GGUFValueType.INT16: return b.i16(v as number);
    case GGUFValueType.UINT32: return b.u32(v as number);
    case GGUFValueType.INT32: return b.i32(v as number);
    case GGUFValueType.FLOAT32:
    case GGUFValueType.FLOAT64:
      if (typeof v !== 'number') throw bad(key, `${String(v)} is not a number`);
      return type === GGUFValueType.FLOAT32 ? b.f32(v) : b.f64(v);
    case GGUFValueType.UINT64:
    case GGUFValueType.INT64: {
      if (!(typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v)))) throw bad(key, `${String(v)} is not an integer`);
      const big = BigInt(v);
      const ok = type === GGUFValueType.UINT64 ? big >= 0n && big < 1n << 64n : big >= -(1n << 63n) && big < 1n << 63n;
      if (!ok) throw bad(key, `${String(v)} out of range`);
      return type === GGUFValueType.UINT64 ? b.u64(big) : b.i64(big);
    }
    case GGUFValueType.BOOL:
      if (typeof v !== 'boolean') throw bad(key, `${String(v)} is not a boolean`);
      return b.u8(v ? 1 : 0);
    case GGUFValueType.STRING:
      if (typeof v !== 'string') throw bad(key, `${String(v)} is not a string`);
      return b.string(v);
    default:
      throw bad(key, `invalid value type ${type}`);
  }
}

function writeArray(b: ByteBuilder, a: GGUFArray, key: string, depth: number): void {
  if (typeof a !== 'object' || a === null || !a.values || typeof a.values.length !== 'number') throw bad(key, 'array value expected');
  if (depth > 8) throw bad(key, 'arrays nested too deeply');
  const et = a.elementType;
  b.u32(et);
  b.u64(a.values.length);
  const ctor = TYPED_CTOR[et];
  if (ctor && a.values instanceof ctor && HOST_LE) {
    // Typed array of exactly the element type: its bytes are the encoding.
    const v = a.values as Uint8Array;
    b.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  const values = a.values as ArrayLike<unknown>;
  for (let i = 0; i < values.length; i++) {
    if (et === GGUFValueType.ARRAY) writeArray(b, values[i] as GGUFArray, key, depth + 1);
    else writeScalar(b, et, values[i], key);
  }
}

/** Appends one key/value record. */
export function writeKV(b: ByteBuilder, key: string, entry: GGUFEntry): void {
  if (typeof key !== 'string' || key.length === 0) throw bad(String(key), 'keys must be non-empty strings');
  b.string(key);
  b.u32(entry.type);
  if (entry.type === GGUFValueType.ARRAY) writeArray(b, entry.value as GGUFArray, key, 0);
  else writeScalar(b, entry.type, entry.value as GGUFScalar, key);
}
