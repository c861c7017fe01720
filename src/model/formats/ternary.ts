/**
 * Helpers for the canonical in-memory ternary layout (see `TernaryMatrix` in tensor.ts): row-major,
 * `ceil(cols/4)` bytes per row, element `4i+k` of a row in bits `2k..2k+1` of byte `i` (LSB first),
 * code = T + 1. Padding elements are code 1 (zero).
 */
import { BitNetError } from '../../errors.js';
import type { TernaryMatrix } from '../tensor.js';

export function ternaryRowBytes(cols: number): number {
  return (cols + 3) >> 2;
}

/** Spreads the four 2-bit codes of a canonical byte into the low bits of four byte lanes. */
export function spreadCodes(b: number): number {
  return (b & 3) | ((b & 0x0c) << 6) | ((b & 0x30) << 12) | ((b & 0xc0) << 18);
}

/** Inverse of spreadCodes for x = lanes with values 0..3: packs lane k into bits 2k..2k+1. */
export function gatherCodes(x: number): number {
  return (x | (x >>> 6) | (x >>> 12) | (x >>> 18)) & 0xff;
}

/** True when some 2-bit field of the packed word(s) in x is code 3 (x = codes in byte lanes). */
export function lanesHaveCode3(x: number): boolean {
  return (x & (x >>> 1) & 0x01010101) !== 0;
}

export function code3Error(type: string, where: string): BitNetError {
  return new BitNetError('BAD_TENSOR_DATA', `${type} tensor contains the invalid 2-bit code 3 (${where})`);
}

/** Packs ternary values (−1, 0, +1; row-major rows×cols) into the canonical layout. */
export function packTernary(rows: number, cols: number, values: ArrayLike<number>): Uint8Array {
  if (values.length !== rows * cols) {
    throw new BitNetError('SHAPE_MISMATCH', `packTernary: ${values.length} values for ${rows}x${cols}`);
  }
  const rb = ternaryRowBytes(cols);
  const out = new Uint8Array(rows * rb).fill(0x55);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      if (v !== -1 && v !== 0 && v !== 1) throw new BitNetError('BAD_INPUT', `packTernary: value ${v} at (${r}, ${c}) is not -1, 0 or 1`);
      const i = r * rb + (c >> 2);
      const s = (c & 3) * 2;
      out[i] = (out[i]! & ~(3 << s)) | ((v + 1) << s);
    }
  }
  return out;
}

/** Unpacks a canonical matrix to ternary values (Int8Array, row-major). */
export function unpackTernary(m: TernaryMatrix): Int8Array {
  const rb = ternaryRowBytes(m.cols);
  const out = new Int8Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let c = 0; c < m.cols; c++) out[r * m.cols + c] = ((m.packed[r * rb + (c >> 2)]! >> ((c & 3) * 2)) & 3) - 1;
  }
  return out;
}

/** Element value (T · scale) of a canonical matrix, honouring block scales. */
export function ternaryValue(m: TernaryMatrix, r: number, c: number): number {
  const t = ((m.packed[r * ternaryRowBytes(m.cols) + (c >> 2)]! >> ((c & 3) * 2)) & 3) - 1;
  if (!m.blockScales) return t * m.scale;
  const bpr = Math.ceil(m.cols / m.scaleBlock);
  return t * m.blockScales[r * bpr + Math.floor(c / m.scaleBlock)]!;
}

/** Scale of block b (per-tensor scale when blockScales is null). */
export function blockScaleOf(m: TernaryMatrix, r: number, b: number): number {
  if (!m.blockScales) return m.scale;
  return m.blockScales[r * Math.ceil(m.cols / m.scaleBlock) + b]!;
}

export function perTensorTernary(rows: number, cols: number, packed: Uint8Array, scale: number, sourceType: string): TernaryMatrix {
  return { kind: 'ternary', rows, cols, packed, scale, blockScales: null, scaleBlock: cols, sourceType };
}

/**
 * Builds a matrix from per-block scales (`scaleBlock` elements each, `cols` a multiple of it). When
 * every non-zero block scale is equal, collapses to a per-tensor scale: blocks whose scale is zero get
 * all their codes rewritten to 1 (zero) so values are unchanged.
 */
export function fromBlockScales(
  rows: number, cols: number, packed: Uint8Array, blockScales: Float32Array, scaleBlock: number, sourceType: string,
): TernaryMatrix {
  let common = 0;
  let uniform = true;
  for (let i = 0; i < blockScales.length; i++) {
    const s = blockScales[i]!;
    if (!Number.isFinite(s)) throw new BitNetError('BAD_TENSOR_DATA', `${sourceType} tensor has a non-finite block scale at block ${i}`);
    if (s === 0) continue;
    if (common === 0) common = s;
    else if (s !== common) {
      uniform = false;
      break;
    }
  }
  if (!uniform) return { kind: 'ternary', rows, cols, packed, scale: 0, blockScales, scaleBlock, sourceType };
  const rb = ternaryRowBytes(cols);
  const bpr = cols / scaleBlock;
  const bytesPerBlock = scaleBlock / 4;
  for (let i = 0; i < blockScales.length; i++) {
    if (blockScales[i] !== 0) continue;
    const r = Math.floor(i / bpr);
    const start = r * rb + (i % bpr) * bytesPerBlock;
    packed.fill(0x55, start, start + bytesPerBlock);
  }
  return perTensorTernary(rows, cols, packed, common, sourceType);
}

export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The first nWords little-endian u32 values of `b` (a view when aligned on an LE host, else a copy). */
export function leWords(b: Uint8Array, nWords: number): Uint32Array {
  if (HOST_LE && b.byteOffset % 4 === 0) return new Uint32Array(b.buffer, b.byteOffset, nWords);
  const w = new Uint32Array(nWords);
  for (let i = 0; i < nWords; i++) w[i] = readU32(b, 4 * i);
  return w;
}

/** Bytes of LE u32 words (no copy on an LE host). */
export function wordsToBytes(w: Uint32Array): Uint8Array {
  if (HOST_LE) return new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  const out = new Uint8Array(w.length * 4);
  for (let i = 0; i < w.length; i++) writeU32(out, 4 * i, w[i]!);
  return out;
}

/** LE u32 at byte offset o. */
export function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/** Validates the byte length of a tensor payload; throws BAD_TENSOR_DATA. */
export function expectLength(type: string, bytes: Uint8Array, expected: number): void {
  if (bytes.length !== expected) {
    throw new BitNetError('BAD_TENSOR_DATA', `${type} payload has ${bytes.length} bytes, expected ${expected}`);
  }
}
