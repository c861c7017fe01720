/** Value model of GGUF metadata shared by the reader, the writer, the config parser and the tokenizer. */

export const enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/**
 * A decoded metadata value. Integers that fit in 2^53 are numbers; larger u64/i64 are bigint.
 * Arrays keep their element type so the writer can round-trip them: numeric arrays are typed
 * arrays (Uint8Array … Float64Array; u64/i64 as BigUint64Array/BigInt64Array), string arrays are string[],
 * bool arrays are boolean[], nested arrays are GGUFArray[].
 */
export type GGUFScalar = number | bigint | string | boolean;

export interface GGUFArray {
  readonly type: GGUFValueType.ARRAY;
  readonly elementType: GGUFValueType;
  readonly values:
    | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
    | Float32Array | Float64Array | BigUint64Array | BigInt64Array
    | string[] | boolean[] | GGUFArray[];
}

export interface GGUFEntry {
  readonly type: GGUFValueType;
  readonly value: GGUFScalar | GGUFArray;
}

export type GGUFMetadata = Map<string, GGUFEntry>;

export interface GGUFTensorInfo {
  readonly name: string;
  /** ne[0] first (contiguous dimension). */
  readonly dims: readonly number[];
  /** Raw ggml type id as stored. */
  readonly typeId: number;
  /** Resolved type name ('F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'TQ1_0', 'TQ2_0', 'I2_S', ...). */
  readonly type: string;
  /** Offset relative to the data section. */
  readonly offset: number;
  /** Byte size per FORMATS.md §1.8. */
  readonly nbytes: number;
}
