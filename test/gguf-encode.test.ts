import { describe, expect, it } from 'vitest';
import { ByteBuilder } from '../src/model/gguf-encode.js';

describe('ByteBuilder', () => {
  it('numbers written across a chunk boundary land in the new chunk (regression)', () => {
    const b = new ByteBuilder(6);
    b.u32(0x11223344); // bytes 0..3 of chunk 1
    b.u32(0xaabbccdd); // does not fit in the 2 bytes left: starts a new chunk
    b.u16(0x0102);
    b.u8(0x7f);
    b.flush();
    const all = Uint8Array.from(b.take().flatMap((c) => Array.from(c)));
    const v = new DataView(all.buffer);
    expect(all.length).toBe(11);
    expect(v.getUint32(0, true)).toBe(0x11223344);
    expect(v.getUint32(4, true)).toBe(0xaabbccdd);
    expect(v.getUint16(8, true)).toBe(0x0102);
    expect(all[10]).toBe(0x7f);
  });
});
