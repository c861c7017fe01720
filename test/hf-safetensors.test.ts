import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { bufferSource, type ByteSource } from '../src/model/byte-source.js';
import { MAX_SAFETENSORS_HEADER, encodeSafetensors, openSafetensors, parseSafetensorsIndex } from '../src/model/safetensors.js';

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<[string, string]> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    expect(err).toBeInstanceOf(BitNetError);
    return [(err as BitNetError).code, (err as BitNetError).message];
  }
  throw new Error('expected a failure');
}

/** A source that records every read, to show tensors are fetched by range. */
function recording(bytes: Uint8Array): { src: ByteSource; reads: Array<[number, number]> } {
  const inner = bufferSource(bytes);
  const reads: Array<[number, number]> = [];
  return { reads, src: { size: inner.size, read: (o, n) => (reads.push([o, n]), inner.read(o, n)) } };
}

const u8 = Uint8Array.from({ length: 24 }, (_, i) => i * 3);
const f32 = new Uint8Array(new Float32Array([1.5, -2, 0.25, 8]).buffer);
const SAMPLE = encodeSafetensors(
  [
    { name: 'a.weight', dtype: 'U8', shape: [6, 4], data: u8 },
    { name: 'b.scale', dtype: 'F32', shape: [2, 2], data: f32 },
    { name: 'scalar', dtype: 'BF16', shape: [], data: Uint8Array.of(0x80, 0x3f) },
  ],
  { format: 'pt' },
);

/** A file with a hand-written header (padded) and `dataLen` data bytes. */
function handMade(header: unknown, dataLen: number, lengthOverride?: bigint): Uint8Array {
  const hj = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + hj.length + dataLen);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(hj.length), true);
  out.set(hj, 8);
  return out;
}

describe('safetensors reader', () => {
  it('parses the header, metadata, dtypes and shapes, and reads tensors lazily by range', async () => {
    const { src, reads } = recording(SAMPLE);
    const st = await openSafetensors(src, 'model.safetensors');
    expect(reads).toEqual([[0, 8], [8, Number(new DataView(SAMPLE.buffer).getBigUint64(0, true))]]);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect([...st.tensors.keys()]).toEqual(['a.weight', 'b.scale', 'scalar']);
    const a = st.tensors.get('a.weight')!;
    expect([a.dtype, a.shape, a.nbytes]).toEqual(['U8', [6, 4], 24]);
    expect(st.tensors.get('scalar')!.shape).toEqual([]);
    reads.length = 0;
    expect(await st.read('b.scale')).toEqual(f32);
    expect(await st.read('a.weight', 4, 8)).toEqual(u8.subarray(4, 12));
    // Exactly the two requested ranges were fetched, nothing else.
    expect(reads).toEqual([[st.tensors.get('b.scale')!.offset, 16], [a.offset + 4, 8]]);
    expect((await codeOf(st.read('nope')))[0]).toBe('MISSING_TENSOR');
    expect((await codeOf(st.read('a.weight', 20, 8)))[0]).toBe('BAD_INPUT');
  });

  it('pads the header to a multiple of 8 bytes', () => {
    const n = Number(new DataView(SAMPLE.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
  });

  it('rejects an absurd header length', async () => {
    const bytes = handMade({}, 0, 1n << 40n);
    const [code, msg] = await codeOf(openSafetensors(bufferSource(bytes), 'x.safetensors'));
    expect(code).toBe('BAD_CHECKPOINT');
    expect(msg).toMatch(/x\.safetensors: header length 1099511627776 is absurd/);
    const justOver = handMade({}, 0, BigInt(MAX_SAFETENSORS_HEADER + 1));
    expect((await codeOf(openSafetensors(bufferSource(justOver), 'x')))[0]).toBe('BAD_CHECKPOINT');
    const all = handMade({}, 0, 0xffffffffffffffffn);
    expect((await codeOf(openSafetensors(bufferSource(all), 'x')))[1]).toMatch(/absurd/);
  });

  it('rejects truncated files: short header, header past EOF, data past EOF', async () => {
    expect((await codeOf(openSafetensors(bufferSource(new Uint8Array(5)), 'x')))[1]).toMatch(/too short/);
    expect((await codeOf(openSafetensors(bufferSource(SAMPLE.subarray(0, 40)), 'x')))[1]).toMatch(/extends past the end of the file/);
    const [code, msg] = await codeOf(openSafetensors(bufferSource(SAMPLE.subarray(0, SAMPLE.length - 1)), 'x'));
    expect(code).toBe('BAD_CHECKPOINT');
    expect(msg).toMatch(/tensor "scalar".*truncated/);
  });

  it('rejects malformed headers', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [[1, 2], 0, /not an object/],
      [{ t: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }, 2, /unknown dtype "Q4"/],
      [{ t: { dtype: 'U8', shape: [2, -1], data_offsets: [0, 2] } }, 2, /invalid dimensions/],
      [{ t: { dtype: 'U8', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 2] } }, 2, /too many elements/],
      [{ t: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4, /span 4 bytes but F32 \[2\] needs 8/],
      [{ t: { dtype: 'U8', shape: [2], data_offsets: [4, 2] } }, 4, /end before they begin/],
      [{ t: { dtype: 'U8', shape: [2], data_offsets: [0] } }, 4, /data_offsets is not a pair/],
      [{ t: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, u: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, 4, /overlap/],
      [{ __metadata__: { a: 1 } }, 0, /__metadata__\.a is not a string/],
      [{ t: 5 }, 0, /entry is not an object/],
    ];
    for (const [header, len, re] of cases) {
      const [code, msg] = await codeOf(openSafetensors(bufferSource(handMade(header, len)), 'bad.safetensors'));
      expect(code, msg).toBe('BAD_CHECKPOINT');
      expect(msg).toMatch(re);
    }
    const notJson = handMade({}, 0);
    notJson[8] = 0x7a;
    expect((await codeOf(openSafetensors(bufferSource(notJson), 'x')))[1]).toMatch(/not valid UTF-8 JSON/);
  });

  it('parses model.safetensors.index.json and rejects paths and missing maps', async () => {
    const map = parseSafetensorsIndex(JSON.stringify({ metadata: { total_size: 3 }, weight_map: { a: 'model-1.safetensors', b: 'model-2.safetensors' } }));
    expect([...map]).toEqual([['a', 'model-1.safetensors'], ['b', 'model-2.safetensors']]);
    for (const bad of ['{', '{}', '{"weight_map": {}}', '{"weight_map": {"a": "../x.safetensors"}}', '{"weight_map": {"a": "/etc/passwd"}}', '{"weight_map": {"a": 3}}']) {
      expect((await codeOf(() => parseSafetensorsIndex(bad)))[0]).toBe('BAD_CHECKPOINT');
    }
  });
});
