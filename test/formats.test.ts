import { describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import {
  bf16ToF32, decodeFloatRow, decodeI2_S, decodeTQ1_0, decodeTQ2_0, encodeFloats, encodeI2_S, encodeQ8_0, encodeTQ1_0,
  encodeTQ2_0, f16ToF32, f32ToBf16, f32ToF16, makeFloatMatrix, packTernary, packTrits5, tritAt, unpackTernary, ternaryValue,
} from '../src/model/formats/index.js';
import type { TernaryMatrix } from '../src/model/tensor.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomTernary(rows: number, cols: number, seed: number): Int8Array {
  const r = rng(seed);
  return Int8Array.from({ length: rows * cols }, () => Math.floor(r() * 3) - 1);
}

function matrix(rows: number, cols: number, values: Int8Array, scale: number): TernaryMatrix {
  return { kind: 'ternary', rows, cols, packed: packTernary(rows, cols, values), scale, blockScales: null, scaleBlock: cols, sourceType: 'test' };
}

function code(e: unknown): string {
  expect(e).toBeInstanceOf(BitNetError);
  return (e as BitNetError).code;
}

function catchCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return code(e);
  }
  throw new Error('expected a throw');
}

describe('f16 / bf16', () => {
  it('encodes known values with round-to-nearest-even', () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(0.5)).toBe(0x3800);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // tie between 65504 and 65536 → even → inf
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie → even (0)
    expect(f32ToF16(3 * 2 ** -26)).toBe(0x0001);
    expect(f32ToF16(2 ** -14)).toBe(0x0400);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(Infinity)).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x3ff).not.toBe(0);
  });

  it('round-trips every non-NaN f16 bit pattern', () => {
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const x = f16ToF32(h);
      if (!Number.isNaN(x) && f32ToF16(x) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('bf16 rounds to nearest even and round-trips', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    const bits = (b: number): number => {
      u[0] = b;
      return f[0]!;
    };
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(bits(0x3f808000))).toBe(0x3f80);
    expect(f32ToBf16(bits(0x3f818000))).toBe(0x3f82);
    expect(f32ToBf16(bits(0x3f808001))).toBe(0x3f81);
    expect(Number.isNaN(bf16ToF32(f32ToBf16(NaN)))).toBe(true);
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const x = bf16ToF32(h);
      if (!Number.isNaN(x) && f32ToBf16(x) !== h) bad.push(h);
    }
    expect(bad).toEqual([]);
  });
});

describe('TQ2_0', () => {
  it('decodes the FORMATS.md §2.3 worked example', () => {
    const block = new Uint8Array(66).fill(0x55);
    block[37] = 0x26;
    block[64] = 0x00;
    block[65] = 0x38; // d = 0.5
    const m = decodeTQ2_0(block, 1, 256);
    expect(m.blockScales).toBeNull();
    expect(m.scale).toBe(0.5);
    const expected = new Map([[133, 0.5], [165, 0], [197, 0.5], [229, -0.5]]);
    expect(Array.from({ length: 256 }, (_, c) => ternaryValue(m, 0, c))).toEqual(Array.from({ length: 256 }, (_, c) => expected.get(c) ?? 0));
  });

  it('matches an element-by-element oracle of the spec layout', () => {
    const rows = 3;
    const cols = 512;
    const t = randomTernary(rows, cols, 7);
    const bytes = encodeTQ2_0(matrix(rows, cols, t, 0.75));
    const got: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let b = 0; b < 2; b++) {
        const blk = (r * 2 + b) * 66;
        expect(f16ToF32(bytes[blk + 64]! | (bytes[blk + 65]! << 8))).toBe(0.75);
        for (let e = 0; e < 256; e++) {
          const h = e >> 7;
          const n = (e >> 5) & 3;
          const m = e & 31;
          got.push(((bytes[blk + 32 * h + m]! >> (2 * n)) & 3) - 1);
        }
      }
    }
    expect(got).toEqual(Array.from(t));
  });

  it('round-trips, keeps differing block scales and collapses uniform ones', () => {
    const t = randomTernary(2, 512, 3);
    const m = matrix(2, 512, t, 1.25);
    const back = decodeTQ2_0(encodeTQ2_0(m), 2, 512);
    expect(back.blockScales).toBeNull();
    expect(back.scale).toBe(1.25);
    expect(Array.from(back.packed)).toEqual(Array.from(m.packed));

    const scaled: TernaryMatrix = { ...m, blockScales: Float32Array.from([0.5, 1, 2, 0.25]), scaleBlock: 256 };
    const back2 = decodeTQ2_0(encodeTQ2_0(scaled), 2, 512);
    expect(Array.from(back2.blockScales!)).toEqual([0.5, 1, 2, 0.25]);
    for (let c = 0; c < 512; c += 37) expect(ternaryValue(back2, 1, c)).toBe(ternaryValue(scaled, 1, c));
  });

  it('treats zero-scale blocks as zero when collapsing', () => {
    const block = new Uint8Array(132);
    block.fill(0x99, 0, 64); // codes 1,2,1,2: non-zero codes but d = 0
    block[64] = 0;
    block[65] = 0;
    block.fill(0x66, 66, 130); // codes 2,1,2,1
    block[130] = 0x00;
    block[131] = 0x3c; // d = 1
    const m = decodeTQ2_0(block, 1, 512);
    expect(m.blockScales).toBeNull();
    expect(m.scale).toBe(1);
    expect(Array.from({ length: 256 }, (_, c) => ternaryValue(m, 0, c))).toEqual(new Array(256).fill(0));
    expect(ternaryValue(m, 0, 256)).toBe(1);
    expect(ternaryValue(m, 0, 257)).toBe(1); // qs[1] bit pair 0
    expect(ternaryValue(m, 0, 256 + 32)).toBe(0); // qs[0] bit pair 1
  });

  it('writes d = 0 for all-zero blocks like the reference quantizer', () => {
    const t = new Int8Array(512);
    t[300] = 1;
    const bytes = encodeTQ2_0(matrix(1, 512, t, 2));
    expect([bytes[64], bytes[65]]).toEqual([0, 0]);
    expect(f16ToF32(bytes[130]! | (bytes[131]! << 8))).toBe(2);
  });

  it('rejects code 3, bad lengths and bad shapes', () => {
    const block = new Uint8Array(66).fill(0x55);
    block[3] = 0x57;
    block[65] = 0x3c;
    expect(catchCode(() => decodeTQ2_0(block, 1, 256))).toBe('BAD_TENSOR_DATA');
    expect(catchCode(() => decodeTQ2_0(new Uint8Array(65), 1, 256))).toBe('BAD_TENSOR_DATA');
    expect(catchCode(() => decodeTQ2_0(new Uint8Array(66), 1, 128))).toBe('BAD_TENSOR_SHAPE');
    const nan = new Uint8Array(66).fill(0x55);
    nan[64] = 0x00;
    nan[65] = 0x7e;
    expect(catchCode(() => decodeTQ2_0(nan, 1, 256))).toBe('BAD_TENSOR_DATA');
  });
});

describe('TQ1_0', () => {
  it('packs and unpacks the FORMATS.md §2.4 worked example (202)', () => {
    expect(packTrits5(2, 1, 0, 0, 2)).toBe(202);
    expect([0, 1, 2, 3, 4].map((n) => tritAt(202, n))).toEqual([2, 1, 0, 0, 2]);
  });

  it('decodes 202 in qs[0] as elements 0, 32, 64, 96, 128 = +1, 0, −1, −1, +1', () => {
    const block = new Uint8Array(54);
    block.fill(packTrits5(1, 1, 1, 1, 1), 0, 48);
    block.fill(packTrits5(1, 1, 1, 1, 0), 48, 52);
    block[0] = 202;
    block[52] = 0x00;
    block[53] = 0x3c;
    const m = decodeTQ1_0(block, 1, 256);
    const expected = new Map([[0, 1], [32, 0], [64, -1], [96, -1], [128, 1]]);
    expect(Array.from({ length: 256 }, (_, c) => ternaryValue(m, 0, c))).toEqual(Array.from({ length: 256 }, (_, c) => expected.get(c) ?? 0));
  });

  it('every 5-trit combination round-trips through the byte transform', () => {
    for (let v = 0; v < 243; v++) {
      const t = [Math.floor(v / 81) % 3, Math.floor(v / 27) % 3, Math.floor(v / 9) % 3, Math.floor(v / 3) % 3, v % 3];
      const b = packTrits5(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!);
      expect([0, 1, 2, 3, 4].map((n) => tritAt(b, n))).toEqual(t);
    }
  });

  it('matches an element-by-element oracle and round-trips', () => {
    const rows = 2;
    const cols = 512;
    const t = randomTernary(rows, cols, 11);
    const m = matrix(rows, cols, t, 0.5);
    const bytes = encodeTQ1_0(m);
    expect(bytes.length).toBe(rows * 2 * 54);
    const trit = (b: number, n: number): number => Math.floor((((b * 3 ** n) % 256) * 3) / 256);
    for (let blk = 0; blk < 4; blk++) {
      const o = blk * 54;
      const vals: number[] = new Array(256);
      for (let m2 = 0; m2 < 32; m2++) for (let n = 0; n < 5; n++) vals[32 * n + m2] = trit(bytes[o + m2]!, n) - 1;
      for (let m2 = 0; m2 < 16; m2++) for (let n = 0; n < 5; n++) vals[160 + 16 * n + m2] = trit(bytes[o + 32 + m2]!, n) - 1;
      for (let m2 = 0; m2 < 4; m2++) for (let n = 0; n < 4; n++) vals[240 + 4 * n + m2] = trit(bytes[o + 48 + m2]!, n) - 1;
      expect(vals).toEqual(Array.from(t.subarray(blk * 256, blk * 256 + 256)));
    }
    const back = decodeTQ1_0(bytes, rows, cols);
    expect(back.scale).toBe(0.5);
    expect(Array.from(unpackTernary(back))).toEqual(Array.from(t));
  });
});

describe('I2_S', () => {
  it('decodes the FORMATS.md §2.5 worked example (0x96)', () => {
    const bytes = new Uint8Array(128 / 4 + 32).fill(0x55, 0, 32);
    bytes[5] = 0x96;
    new DataView(bytes.buffer).setFloat32(32, 2, true);
    const m = decodeI2_S(bytes, 1, 128);
    expect(m.scale).toBe(2);
    const expected = new Map([[5, 2], [37, 0], [69, 0], [101, 2]]);
    expect(Array.from({ length: 128 }, (_, c) => ternaryValue(m, 0, c))).toEqual(Array.from({ length: 128 }, (_, c) => expected.get(c) ?? 0));
  });

  it('matches an element-by-element oracle of the flattened layout, with scale tail', () => {
    const rows = 6;
    const cols = 256;
    const t = randomTernary(rows, cols, 5);
    const bytes = encodeI2_S(matrix(rows, cols, t, 1.5));
    const n = rows * cols;
    expect(bytes.length).toBe(n / 4 + 32);
    const got = Array.from({ length: n }, (_, i) => {
      const k = i >> 7;
      const j = i & 127;
      return ((bytes[32 * k + (j & 31)]! >> (6 - 2 * (j >> 5))) & 3) - 1;
    });
    expect(got).toEqual(Array.from(t));
    expect(new DataView(bytes.buffer).getFloat32(n / 4, true)).toBe(1.5);
    expect(Array.from(bytes.subarray(n / 4 + 4))).toEqual(new Array(28).fill(0));
  });

  it('round-trips, including rows shorter than 4 elements (flattened packing)', () => {
    for (const [rows, cols] of [[4, 128], [3, 384], [64, 2], [128, 3]] as const) {
      const t = randomTernary(rows, cols, rows + cols);
      const back = decodeI2_S(encodeI2_S(matrix(rows, cols, t, 0.3)), rows, cols);
      expect(back.scale).toBe(Math.fround(0.3));
      expect(Array.from(unpackTernary(back))).toEqual(Array.from(t));
    }
  });

  it('rejects code 3, block scales, bad sizes and element counts', () => {
    const bytes = new Uint8Array(64).fill(0x55, 0, 32);
    bytes[31] = 0xd5;
    expect(catchCode(() => decodeI2_S(bytes, 1, 128))).toBe('BAD_TENSOR_DATA');
    expect(catchCode(() => decodeI2_S(new Uint8Array(63), 1, 128))).toBe('BAD_TENSOR_DATA');
    expect(catchCode(() => decodeI2_S(new Uint8Array(64), 1, 100))).toBe('BAD_TENSOR_SHAPE');
    const m = { ...matrix(1, 256, new Int8Array(256), 1), blockScales: new Float32Array([1]), scaleBlock: 256 };
    expect(catchCode(() => encodeI2_S(m))).toBe('BAD_INPUT');
  });
});

describe('Q8_0 and float rows', () => {
  it('encodes with d = amax/127 and rounds half away from zero', () => {
    const x = new Float32Array(32);
    x.set([127, -127, 63.5, -63.5, 0.49, -0.5, 2.5]);
    const b = encodeQ8_0(x);
    expect(f16ToF32(b[0]! | (b[1]! << 8))).toBe(1);
    expect(Array.from(new Int8Array(b.buffer, 2, 7))).toEqual([127, -127, 64, -64, 0, -1, 3]);
    const zero = encodeQ8_0(new Float32Array(32));
    expect(Array.from(zero)).toEqual(new Array(34).fill(0));
  });

  it('decodes rows of every storage type', () => {
    const rows = 3;
    const cols = 64;
    const r = rng(9);
    const v = Float32Array.from({ length: rows * cols }, () => r() * 4 - 2);
    const out = new Float32Array(cols);
    for (const storage of ['f32', 'f16', 'bf16', 'q8_0'] as const) {
      const m = makeFloatMatrix(storage, rows, cols, encodeFloats(storage, v));
      const tol = { f32: 0, f16: 2e-3, bf16: 1.6e-2, q8_0: 1e-2 }[storage];
      let worst = 0;
      for (let row = 0; row < rows; row++) {
        decodeFloatRow(m, row, out);
        for (let c = 0; c < cols; c++) worst = Math.max(worst, Math.abs(out[c]! - v[row * cols + c]!));
      }
      expect(worst).toBeLessThanOrEqual(tol);
    }
  });

  it('reads f32 rows from unaligned buffers and validates shapes', () => {
    const raw = new Uint8Array(1 + 8);
    new DataView(raw.buffer).setFloat32(1, 1.5, true);
    new DataView(raw.buffer).setFloat32(5, -3, true);
    const m = makeFloatMatrix('f32', 1, 2, raw.subarray(1));
    const out = new Float32Array(2);
    decodeFloatRow(m, 0, out);
    expect(Array.from(out)).toEqual([1.5, -3]);
    expect(catchCode(() => makeFloatMatrix('f16', 2, 2, new Uint8Array(7)))).toBe('BAD_TENSOR_DATA');
    expect(catchCode(() => makeFloatMatrix('q8_0', 1, 16, new Uint8Array(17)))).toBe('BAD_TENSOR_SHAPE');
    expect(catchCode(() => decodeFloatRow(m, 1, out))).toBe('BAD_INPUT');
  });
});
