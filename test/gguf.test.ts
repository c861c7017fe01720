import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { type ByteSource, bufferSource } from '../src/model/byte-source.js';
import {
  getArray, getBool, getNumber, getNumberArray, getString, getStringArray, openGGUF,
} from '../src/model/gguf.js';
import { type GGUFArray, type GGUFEntry, type GGUFMetadata, GGUFValueType as T } from '../src/model/gguf-types.js';
import { writeGGUFToBuffer } from '../src/model/gguf-writer.js';
import { craftGGUF } from './helpers/gguf-craft.js';

const e = (type: T, value: GGUFEntry['value']): GGUFEntry => ({ type, value });
const arr = (elementType: T, values: GGUFArray['values']): GGUFEntry => e(T.ARRAY, { type: T.ARRAY, elementType, values });
const u32 = (v: number): GGUFEntry => e(T.UINT32, v);
const str = (v: string): GGUFEntry => e(T.STRING, v);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BitNetError);
    return (err as BitNetError).code;
  }
  throw new Error('expected a rejection');
}

const open = (bytes: Uint8Array, windowSize?: number) => openGGUF(bufferSource(bytes), windowSize ? { windowSize } : {});

/** A source that records every read. */
function recording(bytes: Uint8Array): ByteSource & { reads: Array<[number, number]> } {
  const inner = bufferSource(bytes);
  const reads: Array<[number, number]> = [];
  return { size: inner.size, reads, read: (o, n) => (reads.push([o, n]), inner.read(o, n)) };
}

const ALL_TYPES: Array<[string, GGUFEntry]> = [
  ['general.architecture', str('llama')],
  ['t.u8', e(T.UINT8, 255)],
  ['t.i8', e(T.INT8, -128)],
  ['t.u16', e(T.UINT16, 65535)],
  ['t.i16', e(T.INT16, -32768)],
  ['t.u32', u32(4294967295)],
  ['t.i32', e(T.INT32, -2147483648)],
  ['t.f32', e(T.FLOAT32, 1.5)],
  ['t.bool', e(T.BOOL, true)],
  ['t.str', str('héllo ✓')],
  ['t.u64', e(T.UINT64, 12345678901234)],
  ['t.u64big', e(T.UINT64, 18446744073709551615n)],
  ['t.i64', e(T.INT64, -9007199254740991)],
  ['t.i64big', e(T.INT64, -9223372036854775808n)],
  ['t.f64', e(T.FLOAT64, Math.PI)],
  ['t.arr.u8', arr(T.UINT8, Uint8Array.of(1, 2, 3))],
  ['t.arr.i16', arr(T.INT16, Int16Array.of(-1, 2))],
  ['t.arr.f32', arr(T.FLOAT32, Float32Array.of(0.5, -2))],
  ['t.arr.u64', arr(T.UINT64, BigUint64Array.of(1n, 2n ** 63n))],
  ['t.arr.i64', arr(T.INT64, BigInt64Array.of(-5n))],
  ['t.arr.bool', arr(T.BOOL, [true, false, true])],
  ['t.arr.str', arr(T.STRING, ['a', '', 'ĠHello'])],
  ['t.arr.empty', arr(T.INT32, new Int32Array(0))],
  ['t.arr.nested', arr(T.ARRAY, [{ type: T.ARRAY, elementType: T.UINT32, values: Uint32Array.of(7, 8) }, { type: T.ARRAY, elementType: T.STRING, values: ['x'] }])],
];

describe('openGGUF on valid files', () => {
  it('reads header, all 13 value types, nested arrays, tensors and data', async () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => i);
    const bytes = await writeGGUFToBuffer({
      metadata: ALL_TYPES,
      tensors: [
        { name: 'a', dims: [4, 2], type: 'F32', data: data.subarray(0, 32) },
        { name: 'b', dims: [3], type: 'F16', data: data.subarray(32, 38) },
      ],
    });
    const f = await open(bytes);
    expect(f.version).toBe(3);
    expect(f.architecture).toBe('llama');
    expect(f.alignment).toBe(32);
    expect(f.dataOffset % 32).toBe(0);
    expect([...f.metadata.keys()]).toEqual(ALL_TYPES.map(([k]) => k));
    for (const [k, want] of ALL_TYPES) expect(f.metadata.get(k)).toEqual(want);
    expect(f.tensors.map((t) => [t.name, t.type, t.dims, t.offset, t.nbytes])).toEqual([
      ['a', 'F32', [4, 2], 0, 32],
      ['b', 'F16', [3], 32, 6],
    ]);
    expect(Array.from(await f.readTensorBytes('b'))).toEqual([32, 33, 34, 35, 36, 37]);
    expect(Array.from(await f.readTensorBytes(f.tensor('a')!))).toEqual(Array.from(data.subarray(0, 32)));
    expect(await codeOf(f.readTensorBytes('nope'))).toBe('MISSING_TENSOR');
  });

  it('accepts version 2 and a custom alignment', async () => {
    const bytes = craftGGUF({
      version: 2,
      kv: [['general.alignment', u32(64)]],
      tensors: [{ name: 'x', dims: [16], type: 0, offset: 0 }, { name: 'y', dims: [8], type: 0, offset: 64 }],
      alignment: 64,
      data: new Uint8Array(96),
    });
    const f = await open(bytes);
    expect(f.version).toBe(2);
    expect(f.alignment).toBe(64);
    expect(f.dataOffset % 64).toBe(0);
    expect(f.dataOffset + 96).toBe(bytes.length);
  });

  it('reads metadata through small windows without loading the file', async () => {
    const tokens = Array.from({ length: 3000 }, (_, i) => `tok${i}`);
    const bytes = await writeGGUFToBuffer({
      metadata: [['general.architecture', str('llama')], ['tokenizer.ggml.tokens', arr(T.STRING, tokens)], ['s', arr(T.FLOAT32, new Float32Array(5000))]],
      tensors: [{ name: 'w', dims: [1 << 16], type: 'F32', data: new Uint8Array(1 << 18) }],
    });
    const src = recording(bytes);
    const f = await openGGUF(src, { windowSize: 4096 });
    expect(getStringArray(f.metadata, 'tokenizer.ggml.tokens')).toEqual(tokens);
    expect(Math.max(...src.reads.map(([, n]) => n))).toBeLessThanOrEqual(4096);
    const readTotal = src.reads.reduce((a, [, n]) => a + n, 0);
    expect(readTotal).toBeLessThan(bytes.length - (1 << 18) + 8192);
  });

  it('resolves id 36 as I2_S in BitNet files and 39 as MXFP4 elsewhere', async () => {
    const bitnet = craftGGUF({
      kv: [['general.architecture', str('bitnet-b1.58')]],
      tensors: [{ name: 'w', dims: [128, 2], type: 36, offset: 0 }],
      data: new Uint8Array(64 + 32),
    });
    const f = await open(bitnet);
    expect(f.tensors[0]!.type).toBe('I2_S');
    expect(f.tensors[0]!.nbytes).toBe(64 + 32);
    const byFileType = craftGGUF({
      kv: [['general.architecture', str('llama')], ['general.file_type', u32(40)]],
      tensors: [{ name: 'w', dims: [128], type: 36, offset: 0 }],
      data: new Uint8Array(64),
    });
    expect((await open(byFileType)).tensors[0]!.type).toBe('I2_S');
    const mx = craftGGUF({ kv: [['general.architecture', str('gpt-oss')]], tensors: [{ name: 'w', dims: [64], type: 39, offset: 0 }], data: new Uint8Array(34) });
    expect((await open(mx)).tensors[0]!.type).toBe('MXFP4');
  });

  it('does not require tensors in offset order', async () => {
    const bytes = craftGGUF({
      tensors: [{ name: 'late', dims: [8], type: 0, offset: 32 }, { name: 'early', dims: [8], type: 0, offset: 0 }],
      data: Uint8Array.from({ length: 64 }, (_, i) => i),
    });
    const f = await open(bytes);
    expect((await f.readTensorBytes('late'))[0]).toBe(32);
  });
});

describe('openGGUF on malformed files', () => {
  const validKv: Array<[string, GGUFEntry]> = [['general.architecture', str('llama')]];

  it('BAD_MAGIC and UNSUPPORTED_VERSION', async () => {
    expect(await codeOf(open(new Uint8Array(0)))).toBe('BAD_MAGIC');
    expect(await codeOf(open(new TextEncoder().encode('GGU')))).toBe('BAD_MAGIC');
    expect(await codeOf(open(craftGGUF({ magic: 0x4c4d4747 })))).toBe('BAD_MAGIC');
    for (const version of [1, 4, 0, 0x03000000, 0x02000000]) {
      const err = await open(craftGGUF({ version })).catch((x: unknown) => x as BitNetError);
      expect((err as BitNetError).code).toBe('UNSUPPORTED_VERSION');
      if (version === 0x03000000) expect((err as Error).message).toMatch(/big-endian/);
      if (version === 1) expect((err as Error).message).toMatch(/obsolete/);
    }
  });

  it('TRUNCATED when fixed-size fields run past the end', async () => {
    const full = craftGGUF({ kv: [['k', str('x'.repeat(100))], ['k2', u32(5)]] });
    expect(await codeOf(open(full.subarray(0, 10)))).toBe('TRUNCATED');
    expect(await codeOf(open(full.subarray(0, 24 + 121 + 14 + 2)))).toBe('TRUNCATED');
    expect(await codeOf(open(full.subarray(0, 24 + 121 + 6)))).toBe('TRUNCATED');
  });

  it('BAD_METADATA for duplicate keys, bad types, bad bools, absurd lengths and counts', async () => {
    const dup = craftGGUF({ kv: [['a', u32(1)], ['a', u32(2)]] });
    expect(await codeOf(open(dup))).toBe('BAD_METADATA');
    const badType = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string('k'), b.u32(13), b.u32(0)) });
    expect(await codeOf(open(badType))).toBe('BAD_METADATA');
    const badElem = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string('k'), b.u32(9), b.u32(99), b.u64(0)) });
    expect(await codeOf(open(badElem))).toBe('BAD_METADATA');
    const badBool = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string('k'), b.u32(7), b.u8(2)) });
    expect(await codeOf(open(badBool))).toBe('BAD_METADATA');
    const badBoolArr = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string('k'), b.u32(9), b.u32(7), b.u64(2), b.u8(1), b.u8(5)) });
    expect(await codeOf(open(badBoolArr))).toBe('BAD_METADATA');
    const hugeString = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string('k'), b.u32(8), b.u64(2n ** 40n)) });
    expect(await codeOf(open(hugeString))).toBe('BAD_METADATA');
    const hugeKey = craftGGUF({ rawKvRecords: 1, rawKv: (b) => b.u64(2n ** 63n) });
    expect(await codeOf(open(hugeKey))).toBe('BAD_METADATA');
    const hugeArray = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string('k'), b.u32(9), b.u32(4), b.u64(2n ** 50n)) });
    expect(await codeOf(open(hugeArray))).toBe('BAD_METADATA');
    const hugeStrArray = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string('k'), b.u32(9), b.u32(8), b.u64(1_000_000)) });
    expect(await codeOf(open(hugeStrArray))).toBe('BAD_METADATA');
    expect(await codeOf(open(craftGGUF({ kvCount: 2n ** 60n })))).toBe('BAD_METADATA');
    expect(await codeOf(open(craftGGUF({ kvCount: 1000 })))).toBe('BAD_METADATA');
    const deep = craftGGUF({
      rawKvRecords: 1,
      rawKv: (b) => {
        b.string('k');
        b.u32(9);
        for (let i = 0; i < 20; i++) (b.u32(9), b.u64(1));
        b.u32(4);
        b.u64(0);
      },
    });
    expect(await codeOf(open(deep))).toBe('BAD_METADATA');
    const emptyKey = craftGGUF({ rawKvRecords: 1, rawKv: (b) => (b.string(''), b.u32(4), b.u32(1)) });
    expect(await codeOf(open(emptyKey))).toBe('BAD_METADATA');
    const archNotString = craftGGUF({ kv: [['general.architecture', u32(1)]] });
    expect(await codeOf(open(archNotString))).toBe('BAD_METADATA');
  });

  it('BAD_TENSOR_INFO / TOO_LARGE for bad dims, names and counts', async () => {
    const t = (over: Partial<{ name: string; dims: Array<number | bigint>; type: number; offset: number; nDims: number }>) =>
      craftGGUF({ kv: validKv, tensors: [{ name: 'w', dims: [32], type: 0, offset: 0, ...over }], data: new Uint8Array(128) });
    expect(await codeOf(open(t({ nDims: 0, dims: [] })))).toBe('BAD_TENSOR_INFO');
    expect(await codeOf(open(t({ dims: [1, 1, 1, 1, 1] })))).toBe('BAD_TENSOR_INFO');
    expect(await codeOf(open(t({ dims: [32, 0] })))).toBe('BAD_TENSOR_INFO');
    expect(await codeOf(open(t({ dims: [2n ** 60n] })))).toBe('BAD_TENSOR_INFO');
    expect(await codeOf(open(t({ dims: [2 ** 30, 2 ** 30, 2 ** 30] })))).toBe('TOO_LARGE');
    expect(await codeOf(open(t({ type: 8, dims: [33] })))).toBe('BAD_TENSOR_INFO');
    expect(await codeOf(open(t({ type: 35, dims: [128] })))).toBe('BAD_TENSOR_INFO');
    const dup = craftGGUF({ tensors: [{ name: 'w', dims: [8], type: 0, offset: 0 }, { name: 'w', dims: [8], type: 0, offset: 32 }], data: new Uint8Array(64) });
    expect(await codeOf(open(dup))).toBe('BAD_TENSOR_INFO');
    expect(await codeOf(open(craftGGUF({ tensorCount: 2n ** 62n })))).toBe('BAD_TENSOR_INFO');
    expect(await codeOf(open(craftGGUF({ tensorCount: 100 })))).toBe('BAD_TENSOR_INFO');
  });

  it('UNKNOWN_TENSOR_TYPE for unknown and context-dependent ids', async () => {
    const t = (type: number, arch: string) =>
      craftGGUF({ kv: [['general.architecture', str(arch)]], tensors: [{ name: 'w', dims: [256], type, offset: 0 }], data: new Uint8Array(1024) });
    expect(await codeOf(open(t(99, 'llama')))).toBe('UNKNOWN_TENSOR_TYPE');
    expect(await codeOf(open(t(36, 'llama')))).toBe('UNKNOWN_TENSOR_TYPE');
    expect(await codeOf(open(t(39, 'bitnet')))).toBe('UNKNOWN_TENSOR_TYPE');
    expect(await codeOf(open(t(31, 'bitnet')))).toBe('UNKNOWN_TENSOR_TYPE');
  });

  it('BAD_ALIGNMENT for bad general.alignment values and unaligned offsets', async () => {
    for (const a of [0, 4, 12, 48, 2 ** 31]) {
      expect(await codeOf(open(craftGGUF({ kv: [['general.alignment', u32(a)]] })))).toBe('BAD_ALIGNMENT');
    }
    expect(await codeOf(open(craftGGUF({ kv: [['general.alignment', str('32')]] })))).toBe('BAD_ALIGNMENT');
    const unaligned = craftGGUF({ tensors: [{ name: 'w', dims: [8], type: 0, offset: 8 }], data: new Uint8Array(64) });
    expect(await codeOf(open(unaligned))).toBe('BAD_ALIGNMENT');
  });

  it('OUT_OF_BOUNDS when tensor data extends past the file', async () => {
    const bytes = craftGGUF({ tensors: [{ name: 'w', dims: [64], type: 0, offset: 0 }], data: new Uint8Array(255) });
    expect(await codeOf(open(bytes))).toBe('OUT_OF_BOUNDS');
    const far = craftGGUF({ tensors: [{ name: 'w', dims: [8], type: 0, offset: 2 ** 40 }], data: new Uint8Array(32) });
    expect(await codeOf(open(far))).toBe('OUT_OF_BOUNDS');
    const huge = craftGGUF({ tensors: [{ name: 'w', dims: [8], type: 0, offset: 2n ** 62n }], data: new Uint8Array(32) });
    expect(await codeOf(open(huge))).toBe('OUT_OF_BOUNDS');
  });
});

describe('metadata accessors', () => {
  const md: GGUFMetadata = new Map(ALL_TYPES);

  it('getNumber accepts every numeric type and rejects others', () => {
    expect(getNumber(md, 't.u8')).toBe(255);
    expect(getNumber(md, 't.i16')).toBe(-32768);
    expect(getNumber(md, 't.u32')).toBe(4294967295);
    expect(getNumber(md, 't.u64')).toBe(12345678901234);
    expect(getNumber(md, 't.f32')).toBe(1.5);
    expect(getNumber(md, 'absent')).toBeUndefined();
    expect(() => getNumber(md, 't.str')).toThrow(BitNetError);
    expect(() => getNumber(md, 't.bool')).toThrow(/expected a number/);
    expect(() => getNumber(md, 't.u64big')).toThrow(/does not fit/);
  });

  it('typed getters check types', () => {
    expect(getString(md, 't.str')).toBe('héllo ✓');
    expect(getBool(md, 't.bool')).toBe(true);
    expect(getArray(md, 't.arr.u8')!.values).toEqual(Uint8Array.of(1, 2, 3));
    expect(getStringArray(md, 't.arr.str')).toEqual(['a', '', 'ĠHello']);
    expect(Array.from(getNumberArray(md, 't.arr.i64')!)).toEqual([-5]);
    expect(() => getNumberArray(md, 't.arr.u64')).toThrow(BitNetError);
    expect(() => getString(md, 't.u8')).toThrow(BitNetError);
    expect(() => getBool(md, 't.u8')).toThrow(BitNetError);
    expect(() => getStringArray(md, 't.arr.u8')).toThrow(BitNetError);
    expect(() => getArray(md, 't.u8')).toThrow(BitNetError);
  });
});
