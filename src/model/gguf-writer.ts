/**
 * Byte-compatible GGUF v3 writer (FORMATS.md §1.9): header, KV records with `general.architecture`
 * first, tensor infos, zero padding to the alignment, then tensor blobs in info order at aligned offsets,
 * each zero-padded to the alignment (the last one too). `general.alignment` is written only when the
 * alignment is not 32 (or when the caller's metadata already contains it).
 *
 * Streaming: `writeGGUF` yields the file as Uint8Array chunks; tensor data may be supplied lazily
 * (a function returning bytes or an (async) iterable of byte chunks), so a file larger than memory can
 * be produced. Invalid input throws `BitNetError('BAD_INPUT')`.
 */
import { BitNetError } from '../errors.js';
import { type GGUFEntry, type GGUFMetadata, GGUFValueType } from './gguf-types.js';
import { ByteBuilder, writeKV } from './gguf-encode.js';
import { FILE_TYPE_I2_S, type GgmlTypeInfo, ggmlTypeByName, resolveGgmlType, tensorNbytes } from './ggml-types.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, alignUp } from './gguf.js';

type Chunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
/** Eager bytes, or a producer of bytes / byte chunks (sync or async). A producer may reuse its chunk buffer once the next chunk is requested. */
export type TensorData = Uint8Array | (() => Uint8Array | Chunks | Promise<Uint8Array | Chunks>);

export interface GGUFWriterTensor {
  readonly name: string;
  /** ne[0] first. */
  readonly dims: readonly number[];
  /** Type name ('F32', 'TQ2_0', 'I2_S', …) or raw id. */
  readonly type: string | number;
  readonly data: TensorData;
}

export interface GGUFWriteInput {
  readonly metadata: GGUFMetadata | Iterable<readonly [string, GGUFEntry]>;
  readonly tensors: readonly GGUFWriterTensor[];
  /** Default: metadata's general.alignment, else 32. */
  readonly alignment?: number;
  readonly version?: 2 | 3;
}

export interface GGUFLayout {
  /** Ordered KV records as written. */
  readonly kv: ReadonlyArray<readonly [string, GGUFEntry]>;
  readonly alignment: number;
  readonly tensors: ReadonlyArray<{ readonly name: string; readonly dims: readonly number[]; readonly type: GgmlTypeInfo; readonly offset: number; readonly nbytes: number }>;
}

function bad(msg: string): BitNetError {
  return new BitNetError('BAD_INPUT', `GGUF writer: ${msg}`);
}

/** Validates the input and computes KV order, alignment and tensor offsets (no data touched). */
export function planGGUF(input: GGUFWriteInput): GGUFLayout {
  const entries = [...(input.metadata instanceof Map ? input.metadata.entries() : input.metadata)] as Array<readonly [string, GGUFEntry]>;
  const keys = new Set<string>();
  for (const [k] of entries) {
    if (keys.has(k)) throw bad(`duplicate metadata key "${k}"`);
    keys.add(k);
  }
  const archIdx = entries.findIndex(([k]) => k === 'general.architecture');
  const kv = archIdx > 0 ? [entries[archIdx]!, ...entries.filter((_, i) => i !== archIdx)] : entries;
  const mdAlign = entries.find(([k]) => k === 'general.alignment')?.[1];
  let alignment = input.alignment ?? (typeof mdAlign?.value === 'number' ? mdAlign.value : GGUF_DEFAULT_ALIGNMENT);
  if (mdAlign && mdAlign.value !== alignment) throw bad(`alignment ${input.alignment} disagrees with general.alignment ${String(mdAlign.value)}`);
  if (!Number.isSafeInteger(alignment) || alignment < 8 || alignment % 8 !== 0 || (alignment & (alignment - 1)) !== 0) {
    throw bad(`alignment ${alignment} must be a power of two and a multiple of 8`);
  }
  if (!mdAlign && alignment !== GGUF_DEFAULT_ALIGNMENT) kv.push(['general.alignment', { type: GGUFValueType.UINT32, value: alignment }]);

  const arch = entries[archIdx]?.[1].value;
  const ft = entries.find(([k]) => k === 'general.file_type')?.[1].value;
  const bitnet = (typeof arch === 'string' && arch.startsWith('bitnet')) || ft === FILE_TYPE_I2_S;
  const names = new Set<string>();
  let offset = 0;
  const tensors = input.tensors.map((t) => {
    if (typeof t.name !== 'string' || t.name.length === 0) throw bad('tensor names must be non-empty strings');
    if (names.has(t.name)) throw bad(`duplicate tensor name "${t.name}"`);
    names.add(t.name);
    if (!Array.isArray(t.dims) || t.dims.length < 1 || t.dims.length > 4) throw bad(`tensor "${t.name}" must have 1..4 dims`);
    const type = typeof t.type === 'number' ? resolveGgmlType(t.type, bitnet) : ggmlTypeByName(t.type);
    if (!type) throw bad(`tensor "${t.name}" has unknown type ${String(t.type)}`);
    let nbytes: number;
    try {
      nbytes = tensorNbytes(type, t.dims);
    } catch (e) {
      throw bad(`tensor "${t.name}": ${(e as Error).message}`);
    }
    if (t.data instanceof Uint8Array && t.data.length !== nbytes) throw bad(`tensor "${t.name}" has ${t.data.length} bytes, expected ${nbytes}`);
    const placed = { name: t.name, dims: [...t.dims], type, offset, nbytes };
    offset += alignUp(nbytes, alignment);
    return placed;
  });
  return { kv, alignment, tensors };
}

async function* dataChunks(t: GGUFWriterTensor): AsyncGenerator<Uint8Array> {
  if (t.data instanceof Uint8Array) {
    yield t.data;
    return;
  }
  const produced = await t.data();
  if (produced instanceof Uint8Array) {
    yield produced;
    return;
  }
  for await (const c of produced as AsyncIterable<Uint8Array>) yield c;
}

const ZEROS = new Uint8Array(4096);
function* padding(n: number): Generator<Uint8Array> {
  while (n > 0) {
    const k = Math.min(n, ZEROS.length);
    yield ZEROS.subarray(0, k);
    n -= k;
  }
}

/** Yields the whole GGUF file as chunks (header part in ≤ 1 MiB pieces, then tensor data). */
export async function* writeGGUF(input: GGUFWriteInput): AsyncGenerator<Uint8Array> {
  const plan = planGGUF(input);
  const b = new ByteBuilder();
  b.u32(GGUF_MAGIC);
  b.u32(input.version ?? 3);
  b.u64(plan.tensors.length);
  b.u64(plan.kv.length);
  for (const [k, e] of plan.kv) writeKV(b, k, e);
  for (const t of plan.tensors) {
    b.string(t.name);
    b.u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(t.type.id);
    b.u64(t.offset);
  }
  b.zeros(alignUp(b.length, plan.alignment) - b.length);
  b.flush();
  yield* b.take();
  for (let i = 0; i < plan.tensors.length; i++) {
    const t = plan.tensors[i]!;
    let n = 0;
    for await (const c of dataChunks(input.tensors[i]!)) {
      n += c.length;
      if (n > t.nbytes) throw bad(`tensor "${t.name}" data is longer than ${t.nbytes} bytes`);
      if (c.length > 0) yield c;
    }
    if (n !== t.nbytes) throw bad(`tensor "${t.name}" data has ${n} bytes, expected ${t.nbytes}`);
    yield* padding(alignUp(t.nbytes, plan.alignment) - t.nbytes);
  }
}

/** Concatenates `writeGGUF` into one buffer (for small files and tests). */
export async function writeGGUFToBuffer(input: GGUFWriteInput): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const c of writeGGUF(input)) {
    chunks.push(c.slice());
    total += c.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Streams `writeGGUF` to a file (Node only); returns the byte count. Throws `IO` on write errors. */
export async function writeGGUFToFile(input: GGUFWriteInput, path: string): Promise<number> {
  const modName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ modName)) as typeof import('node:fs/promises');
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await fs.open(path, 'w');
  } catch (e) {
    throw new BitNetError('IO', `cannot create ${path}: ${(e as Error).message}`, { cause: e });
  }
  let total = 0;
  try {
    for await (const c of writeGGUF(input)) {
      let done = 0;
      while (done < c.length) done += (await handle.write(c, done, c.length - done)).bytesWritten;
      total += c.length;
    }
  } catch (e) {
    if (e instanceof BitNetError) throw e;
    throw new BitNetError('IO', `writing ${path} failed: ${(e as Error).message}`, { cause: e });
  } finally {
    await handle.close();
  }
  return total;
}
