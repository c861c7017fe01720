/**
 * Crafts raw GGUF bytes field by field, including invalid ones (wrong magic, counts that lie, raw
 * value types, unaligned offsets), for reader tests. Valid files should come from the real writer.
 */
import { ByteBuilder, writeKV } from '../../src/model/gguf-encode.js';
import type { GGUFEntry } from '../../src/model/gguf-types.js';

export interface CraftTensor {
  name: string;
  dims: Array<number | bigint>;
  type: number;
  offset: number | bigint;
  /** Overrides the stored n_dims. */
  nDims?: number;
}

export interface CraftOptions {
  magic?: number;
  version?: number;
  tensorCount?: number | bigint;
  kvCount?: number | bigint;
  kv?: Array<[string, GGUFEntry]>;
  /** Raw bytes appended after the kv records (counted by `rawKvRecords`). */
  rawKv?: (b: ByteBuilder) => void;
  rawKvRecords?: number;
  tensors?: CraftTensor[];
  alignment?: number;
  /** Data section (after the alignment padding). */
  data?: Uint8Array;
}

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export function craftGGUF(o: CraftOptions = {}): Uint8Array {
  const b = new ByteBuilder(1 << 16);
  const kv = o.kv ?? [];
  const tensors = o.tensors ?? [];
  b.u32(o.magic ?? 0x46554747);
  b.u32(o.version ?? 3);
  b.u64(o.tensorCount ?? tensors.length);
  b.u64(o.kvCount ?? kv.length + (o.rawKvRecords ?? 0));
  for (const [k, e] of kv) writeKV(b, k, e);
  o.rawKv?.(b);
  for (const t of tensors) {
    b.string(t.name);
    b.u32(t.nDims ?? t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(t.type);
    b.u64(t.offset);
  }
  const align = o.alignment ?? 32;
  b.zeros((align - (b.length % align)) % align);
  if (o.data) b.bytes(o.data);
  b.flush();
  return concat(b.take());
}
