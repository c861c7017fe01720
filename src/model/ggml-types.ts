/**
 * ggml tensor type ids, block geometry and byte sizes (FORMATS.md §1.6, §1.8).
 *
 * Ids 36–39 are ambiguous: upstream ggml leaves 36–38 unused and assigns 39 = MXFP4; the bitnet.cpp
 * fork assigns 36 = I2_S, 37 = I8_S, 38 = TL1, 39 = TL2. `resolveGgmlType` therefore takes a
 * `bitnet` flag (true for files whose architecture starts with "bitnet" or whose
 * `general.file_type` is 40): then 36 is I2_S and 37–39 are unknown (not portable), otherwise 36–38 are
 * unknown and 39 is MXFP4 (parsed but not decodable by this SDK).
 */
import { BitNetError } from '../errors.js';

export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  /** Elements per block (1 for plain scalar types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

const t = (id: number, name: string, blockSize: number, typeSize: number): GgmlTypeInfo => ({ id, name, blockSize, typeSize });

/** Unambiguous upstream ggml ids (block size, bytes per block). */
const COMMON: readonly GgmlTypeInfo[] = [
  t(0, 'F32', 1, 4), t(1, 'F16', 1, 2), t(2, 'Q4_0', 32, 18), t(3, 'Q4_1', 32, 20),
  t(6, 'Q5_0', 32, 22), t(7, 'Q5_1', 32, 24), t(8, 'Q8_0', 32, 34), t(9, 'Q8_1', 32, 36),
  t(10, 'Q2_K', 256, 84), t(11, 'Q3_K', 256, 110), t(12, 'Q4_K', 256, 144), t(13, 'Q5_K', 256, 176),
  t(14, 'Q6_K', 256, 210), t(15, 'Q8_K', 256, 292), t(16, 'IQ2_XXS', 256, 66), t(17, 'IQ2_XS', 256, 74),
  t(18, 'IQ3_XXS', 256, 98), t(19, 'IQ1_S', 256, 50), t(20, 'IQ4_NL', 32, 18), t(21, 'IQ3_S', 256, 110),
  t(22, 'IQ2_S', 256, 82), t(23, 'IQ4_XS', 256, 136), t(24, 'I8', 1, 1), t(25, 'I16', 1, 2),
  t(26, 'I32', 1, 4), t(27, 'I64', 1, 8), t(28, 'F64', 1, 8), t(29, 'IQ1_M', 256, 56),
  t(30, 'BF16', 1, 2), t(34, 'TQ1_0', 256, 54), t(35, 'TQ2_0', 256, 66),
];

/** I2_S: block size 1 for the container, byte count overridden (§1.8). */
export const I2_S_TYPE: GgmlTypeInfo = t(36, 'I2_S', 1, 1);
const MXFP4_TYPE: GgmlTypeInfo = t(39, 'MXFP4', 32, 17);

const BY_ID = new Map<number, GgmlTypeInfo>(COMMON.map((x) => [x.id, x]));
const BY_NAME = new Map<string, GgmlTypeInfo>([...COMMON, I2_S_TYPE, MXFP4_TYPE].map((x) => [x.name, x]));

/** Well-known ids as named constants. */
export const GGML_TYPE = {
  F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, BF16: 30, TQ1_0: 34, TQ2_0: 35, I2_S: 36, MXFP4: 39,
} as const;

/** `general.file_type` value the bitnet.cpp fork writes for I2_S models. */
export const FILE_TYPE_I2_S = 40;

/** Type info for a stored id, or null when unknown in this context. */
export function resolveGgmlType(id: number, bitnet: boolean): GgmlTypeInfo | null {
  const common = BY_ID.get(id);
  if (common) return common;
  if (bitnet) return id === 36 ? I2_S_TYPE : null;
  return id === 39 ? MXFP4_TYPE : null;
}

/** Type info by name ('F16', 'TQ2_0', 'I2_S', …), or null. */
export function ggmlTypeByName(name: string): GgmlTypeInfo | null {
  return BY_NAME.get(name) ?? null;
}

/** Why an id is unknown, for error messages. */
export function describeUnknownType(id: number, bitnet: boolean): string {
  if (bitnet && id >= 37 && id <= 39) return `ggml type ${id} (${['I8_S', 'TL1', 'TL2'][id - 37]}) is a build-specific bitnet.cpp layout and not supported`;
  if (!bitnet && id === 36) return 'ggml type 36 (I2_S) is only valid in BitNet files (general.architecture "bitnet*" or general.file_type 40)';
  return `unknown ggml type id ${id}`;
}

/** Product of dims with overflow checks; every dim must be a positive safe integer. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new BitNetError('BAD_TENSOR_INFO', `invalid dimension ${d}`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new BitNetError('TOO_LARGE', `tensor of dims [${dims.join(', ')}] has too many elements`);
  }
  return n;
}

/**
 * Byte size of a tensor (FORMATS.md §1.8):
 * regular types `(ne0 / blockSize) * typeSize * ne1 * ne2 * ne3`; I2_S `n / 4 + 32` (integer division).
 * @throws BitNetError BAD_TENSOR_INFO (bad dims, ne0 not a multiple of the block), TOO_LARGE (overflow past 2^53).
 */
export function tensorNbytes(type: GgmlTypeInfo, dims: readonly number[]): number {
  const n = elementCount(dims);
  if (type.name === 'I2_S') return Math.floor(n / 4) + 32;
  const ne0 = dims[0]!;
  if (ne0 % type.blockSize !== 0) {
    throw new BitNetError('BAD_TENSOR_INFO', `ne[0] = ${ne0} is not a multiple of the ${type.name} block size ${type.blockSize}`);
  }
  const bytes = (n / type.blockSize) * type.typeSize;
  if (!Number.isSafeInteger(bytes)) throw new BitNetError('TOO_LARGE', `tensor of dims [${dims.join(', ')}] is too large`);
  return bytes;
}
