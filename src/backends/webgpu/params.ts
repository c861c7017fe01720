/**
 * Byte images of the WGSL uniform structs (field order and types must match the shaders).
 * Every struct is padded to a multiple of 16 bytes; uniforms live at 256-byte aligned offsets.
 */
import type { TernaryGpuShape } from './repack.js';

export const UNIFORM_ALIGN = 256;

/** Writes u32/f32 fields in order into a 16-byte padded ArrayBuffer. */
function pack(fields: ReadonlyArray<readonly ['u' | 'f', number]>): Uint8Array<ArrayBuffer> {
  const bytes = Math.ceil((fields.length * 4) / 16) * 16;
  const buf = new ArrayBuffer(bytes);
  const dv = new DataView(buf);
  fields.forEach(([t, v], i) => (t === 'u' ? dv.setUint32(i * 4, v >>> 0, true) : dv.setFloat32(i * 4, v, true)));
  return new Uint8Array(buf);
}

/** matmul_common.wgsl MatParams for one row range [rowOffset, rowOffset + shape.rows) of a matrix. */
export function matParams(shape: TernaryGpuShape, o: { actStride: number; rowOffset: number; rowsTotal: number; residual: boolean; outScale: number }): Uint8Array<ArrayBuffer> {
  return pack([
    ['u', shape.rows],
    ['u', shape.k16],
    ['u', shape.bpr],
    ['u', shape.wordsPerBlock],
    ['u', shape.scaleRowStride],
    ['u', o.actStride],
    ['u', o.rowOffset],
    ['u', o.rowsTotal],
    ['u', o.residual ? 1 : 0],
    ['f', o.outScale],
  ]);
}

export const PREP_GATE = 1;
export const PREP_SILU = 2;
export const PREP_NORM = 4;
export const PREP_WRITE_F32 = 8;
export const PREP_QUANT = 16;

/** quant.wgsl PrepParams. */
export function prepParams(o: { n: number; flags: number; inStride: number; outStride: number; qStride: number; eps: number }): Uint8Array<ArrayBuffer> {
  return pack([
    ['u', o.n],
    ['u', o.flags],
    ['u', o.inStride],
    ['u', o.outStride],
    ['u', o.qStride],
    ['f', o.eps],
  ]);
}

/** matmul_common.wgsl Step (also read by the logits kernel). */
export function stepParams(nTokens: number, nOut: number): Uint8Array<ArrayBuffer> {
  return pack([
    ['u', nTokens],
    ['u', nOut],
  ]);
}

export { pack as packUniform };
