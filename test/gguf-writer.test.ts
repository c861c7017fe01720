import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { bufferSource } from '../src/model/byte-source.js';
import { makeFixture } from '../src/model/fixtures.js';
import { openGGUF } from '../src/model/gguf.js';
import { type GGUFEntry, GGUFValueType as T } from '../src/model/gguf-types.js';
import { type GGUFWriteInput, planGGUF, writeGGUF, writeGGUFToBuffer, writeGGUFToFile } from '../src/model/gguf-writer.js';
import { concat } from './helpers/gguf-craft.js';

const str = (v: string): GGUFEntry => ({ type: T.STRING, value: v });
const u32 = (v: number): GGUFEntry => ({ type: T.UINT32, value: v });

function hex(s: string): number[] {
  return s.replace(/\s+/g, '').match(/../g)!.map((h) => parseInt(h, 16));
}
const ascii = (s: string): number[] => Array.from(new TextEncoder().encode(s));
const u64le = (n: number): number[] => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff, 0, 0, 0, 0];

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(BitNetError);
    return (err as BitNetError).code;
  }
  throw new Error('expected a throw');
}

describe('GGUF writer', () => {
  it('produces the exact bytes llama.cpp would (golden)', async () => {
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const bytes = await writeGGUFToBuffer({
      metadata: [['general.architecture', str('llama')]],
      tensors: [{ name: 'w', dims: [2], type: 'F32', data }],
    });
    const expected = [
      ...hex('47475546 03000000'), ...u64le(1), ...u64le(1),
      ...u64le(20), ...ascii('general.architecture'), ...hex('08000000'), ...u64le(5), ...ascii('llama'),
      ...u64le(1), ...ascii('w'), ...hex('01000000'), ...u64le(2), ...hex('00000000'), ...u64le(0),
    ];
    expect(expected.length).toBe(102);
    expected.push(...new Array(128 - 102).fill(0));
    expected.push(...hex('0000803f 00000040'), ...new Array(24).fill(0));
    expect(Array.from(bytes)).toEqual(expected);
  });

  it('writes general.architecture first and general.alignment only when it is not 32', async () => {
    const input = (alignment?: number): GGUFWriteInput => ({
      metadata: [['a.b', u32(1)], ['general.architecture', str('bitnet')]],
      tensors: [
        { name: 'x', dims: [3], type: 'F32', data: new Uint8Array(12) },
        { name: 'y', dims: [5], type: 'F16', data: new Uint8Array(10) },
      ],
      ...(alignment ? { alignment } : {}),
    });
    const f32 = await openGGUF(bufferSource(await writeGGUFToBuffer(input())));
    expect([...f32.metadata.keys()]).toEqual(['general.architecture', 'a.b']);
    const bytes64 = await writeGGUFToBuffer(input(64));
    const f64 = await openGGUF(bufferSource(bytes64));
    expect([...f64.metadata.keys()]).toEqual(['general.architecture', 'a.b', 'general.alignment']);
    expect(f64.alignment).toBe(64);
    expect(f64.dataOffset % 64).toBe(0);
    expect(f64.tensors.map((t) => t.offset)).toEqual([0, 64]);
    expect(bytes64.length).toBe(f64.dataOffset + 128);
    expect(planGGUF(input(64)).tensors.map((t) => t.offset)).toEqual([0, 64]);
  });

  it('streams lazy tensor data from sync and async iterables in bounded chunks', async () => {
    const big = 3 << 20;
    const input: GGUFWriteInput = {
      metadata: [['general.architecture', str('llama')]],
      tensors: [
        {
          name: 'big', dims: [big / 4], type: 'F32',
          data: function* () {
            for (let i = 0; i < 3; i++) yield new Uint8Array(1 << 20).fill(i + 1);
          },
        },
        {
          name: 'small', dims: [7], type: 'F16',
          data: async function* () {
            yield Uint8Array.of(1, 2, 3);
            yield Uint8Array.of(4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
          },
        },
        { name: 'fn', dims: [2], type: 'F32', data: async () => new Uint8Array(8).fill(9) },
      ],
    };
    const chunks: Uint8Array[] = [];
    for await (const c of writeGGUF(input)) chunks.push(c.slice());
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(1 << 20);
    const f = await openGGUF(bufferSource(concat(chunks)));
    expect((await f.readTensorBytes('big'))[(2 << 20) + 5]).toBe(3);
    expect(Array.from(await f.readTensorBytes('small'))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(Array.from(await f.readTensorBytes('fn'))).toEqual(new Array(8).fill(9));
  });

  it('re-serialising a parsed fixture reproduces it byte for byte', async () => {
    for (const ternaryType of ['I2_S', 'TQ1_0'] as const) {
      const original = await makeFixture({ arch: 'bitnet-b1.58', ternaryType, nLayer: 1, nFf: 256, vocab: 300, nMerges: 20, projectionScales: true });
      const f = await openGGUF(bufferSource(original));
      const again = await writeGGUFToBuffer({
        metadata: f.metadata,
        tensors: f.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.typeId, data: () => f.readTensorBytes(t) })),
      });
      expect(again.length).toBe(original.length);
      expect(Buffer.compare(Buffer.from(again), Buffer.from(original))).toBe(0);
    }
  });

  it('writes to a file path identically to the buffer form', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gguf-writer-'));
    try {
      const input: GGUFWriteInput = { metadata: [['general.architecture', str('llama')]], tensors: [{ name: 'w', dims: [4], type: 'F32', data: new Uint8Array(16).fill(7) }] };
      const path = join(dir, 'x.gguf');
      const n = await writeGGUFToFile(input, path);
      const onDisk = await readFile(path);
      expect(n).toBe(onDisk.length);
      expect(Array.from(onDisk)).toEqual(Array.from(await writeGGUFToBuffer(input)));
      expect(await codeOf(writeGGUFToFile(input, join(dir, 'missing', 'x.gguf')))).toBe('IO');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects invalid input with BAD_INPUT', async () => {
    const arch: [string, GGUFEntry] = ['general.architecture', str('llama')];
    const w = (over: object) => writeGGUFToBuffer({ metadata: [arch], tensors: [{ name: 'w', dims: [4], type: 'F32', data: new Uint8Array(16), ...over }] });
    expect(await codeOf(w({ data: new Uint8Array(15) }))).toBe('BAD_INPUT');
    expect(await codeOf(w({ data: () => new Uint8Array(17) }))).toBe('BAD_INPUT');
    expect(await codeOf(w({ data: function* () { yield new Uint8Array(8); } }))).toBe('BAD_INPUT');
    expect(await codeOf(w({ type: 'NOPE' }))).toBe('BAD_INPUT');
    expect(await codeOf(w({ type: 'Q8_0' }))).toBe('BAD_INPUT');
    expect(await codeOf(w({ dims: [] }))).toBe('BAD_INPUT');
    expect(await codeOf(w({ dims: [4, 0] }))).toBe('BAD_INPUT');
    const two = { name: 'w', dims: [1], type: 'F32', data: new Uint8Array(4) };
    expect(await codeOf(writeGGUFToBuffer({ metadata: [arch], tensors: [two, two] }))).toBe('BAD_INPUT');
    expect(await codeOf(writeGGUFToBuffer({ metadata: [arch, arch], tensors: [] }))).toBe('BAD_INPUT');
    const kv = (e: GGUFEntry) => writeGGUFToBuffer({ metadata: [arch, ['k', e]], tensors: [] });
    expect(await codeOf(kv({ type: T.UINT8, value: 300 }))).toBe('BAD_INPUT');
    expect(await codeOf(kv({ type: T.INT32, value: 1.5 }))).toBe('BAD_INPUT');
    expect(await codeOf(kv({ type: T.BOOL, value: 1 }))).toBe('BAD_INPUT');
    expect(await codeOf(kv({ type: T.UINT64, value: -1n }))).toBe('BAD_INPUT');
    expect(await codeOf(kv({ type: 13 as T, value: 1 }))).toBe('BAD_INPUT');
    expect(await codeOf(kv({ type: T.ARRAY, value: { type: T.ARRAY, elementType: T.UINT8, values: [1, 256] as unknown as Uint8Array } }))).toBe('BAD_INPUT');
    expect(await codeOf(writeGGUFToBuffer({ metadata: [arch], tensors: [], alignment: 48 }))).toBe('BAD_INPUT');
    expect(await codeOf(writeGGUFToBuffer({ metadata: [arch, ['general.alignment', u32(64)]], tensors: [], alignment: 32 }))).toBe('BAD_INPUT');
  });

  it('accepts plain number arrays for numeric element types', async () => {
    const bytes = await writeGGUFToBuffer({
      metadata: [['general.architecture', str('llama')], ['k', { type: T.ARRAY, value: { type: T.ARRAY, elementType: T.INT16, values: [1, -2, 3] as unknown as Int16Array } }]],
      tensors: [],
    });
    const f = await openGGUF(bufferSource(bytes));
    expect(f.metadata.get('k')!.value).toEqual({ type: T.ARRAY, elementType: T.INT16, values: Int16Array.of(1, -2, 3) });
  });
});
