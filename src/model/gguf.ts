/**
 * GGUF v2/v3 reader over a `ByteSource` (FORMATS.md §1). `openGGUF` reads the header, metadata and
 * tensor infos incrementally through a 1 MiB window (the file is never loaded whole), validates them and
 * returns a `GGUFFile` whose `readTensorBytes` fetches one tensor's data on demand.
 *
 * Errors (all `BitNetError`): BAD_MAGIC; UNSUPPORTED_VERSION (v1, byte-swapped/big-endian, > 3);
 * TRUNCATED; BAD_METADATA (see gguf-metadata.ts); BAD_TENSOR_INFO (n_dims ∉ 1..4, zero dims, duplicate
 * names, ne0 not a multiple of the block, absurd counts); UNKNOWN_TENSOR_TYPE; TOO_LARGE; BAD_ALIGNMENT
 * (general.alignment not a power of two ≥ 8, tensor offset not aligned); OUT_OF_BOUNDS (tensor data
 * past the end of the file); MISSING_TENSOR from readTensorBytes for an unknown name.
 */
import { BitNetError } from '../errors.js';
import type { ByteSource } from './byte-source.js';
import { GGUFCursor } from './gguf-cursor.js';
import { readMetadata } from './gguf-metadata.js';
import { getNumber, getString } from './gguf-access.js';
import type { GGUFMetadata, GGUFTensorInfo } from './gguf-types.js';
import { FILE_TYPE_I2_S, describeUnknownType, resolveGgmlType, tensorNbytes } from './ggml-types.js';

export { getArray, getBool, getNumber, getNumberArray, getString, getStringArray } from './gguf-access.js';

export const GGUF_MAGIC = 0x46554747;
export const GGUF_DEFAULT_ALIGNMENT = 32;
const MAX_DIMS = 4;
const MAX_TENSOR_NAME = 65535;
/** Smallest possible encoded sizes, used to reject absurd counts up front. */
const MIN_KV_BYTES = 13;
const MIN_TENSOR_INFO_BYTES = 32;

export interface GGUFFile {
  readonly source: ByteSource;
  readonly version: number;
  readonly metadata: GGUFMetadata;
  readonly tensors: readonly GGUFTensorInfo[];
  /** `general.architecture`, or null when absent. */
  readonly architecture: string | null;
  readonly alignment: number;
  /** Absolute file offset of the tensor data section. */
  readonly dataOffset: number;
  tensor(name: string): GGUFTensorInfo | undefined;
  /** The bytes of one tensor (`nbytes` long). @throws MISSING_TENSOR for an unknown name. */
  readTensorBytes(tensor: string | GGUFTensorInfo): Promise<Uint8Array>;
  /** Closes the underlying source. */
  close(): Promise<void>;
}

export interface OpenGGUFOptions {
  /** Bytes fetched per metadata window (default 1 MiB). */
  readonly windowSize?: number;
}

export function alignUp(x: number, alignment: number): number {
  return x + ((alignment - (x % alignment)) % alignment);
}

async function readHeader(c: GGUFCursor): Promise<{ version: number; tensorCount: number; kvCount: number }> {
  const size = c.size;
  if (size > 0) {
    await c.fill(Math.min(4, size), 'magic');
    const head = c.bytes(Math.min(4, size));
    const want = [0x47, 0x47, 0x55, 0x46];
    for (let i = 0; i < head.length; i++) {
      if (head[i] !== want[i]) throw new BitNetError('BAD_MAGIC', 'not a GGUF file (magic is not "GGUF")');
    }
    c.pos = 0;
  }
  if (size < 4) throw new BitNetError('BAD_MAGIC', `not a GGUF file (${size} bytes)`);
  if (size < 24) throw new BitNetError('TRUNCATED', `GGUF header needs 24 bytes, file has ${size}`);
  await c.fill(24, 'header');
  c.u32();
  const version = c.u32();
  if (version !== 2 && version !== 3) {
    const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
    let why = `GGUF version ${version} is not supported (expected 2 or 3)`;
    if (version === 1) why = 'GGUF version 1 is obsolete (32-bit counts); re-convert the model';
    else if (swapped >>> 0 >= 1 && swapped >>> 0 <= 3) why = `big-endian GGUF (version reads as 0x${version.toString(16)}) is not supported`;
    throw new BitNetError('UNSUPPORTED_VERSION', why, { details: { version } });
  }
  const tensorCount = c.u64();
  const kvCount = c.u64();
  if (kvCount < 0 || kvCount * MIN_KV_BYTES > c.remaining) {
    throw new BitNetError('BAD_METADATA', `metadata count ${kvCount < 0 ? '>= 2^53' : kvCount} cannot fit in the remaining ${c.remaining} bytes`);
  }
  if (tensorCount < 0 || tensorCount * MIN_TENSOR_INFO_BYTES > c.remaining) {
    throw new BitNetError('BAD_TENSOR_INFO', `tensor count ${tensorCount < 0 ? '>= 2^53' : tensorCount} cannot fit in the remaining ${c.remaining} bytes`);
  }
  return { version, tensorCount, kvCount };
}

function readAlignment(md: GGUFMetadata): number {
  if (!md.has('general.alignment')) return GGUF_DEFAULT_ALIGNMENT;
  let a: number | undefined;
  try {
    a = getNumber(md, 'general.alignment');
  } catch (e) {
    throw new BitNetError('BAD_ALIGNMENT', `general.alignment is not an integer: ${(e as Error).message}`, { cause: e });
  }
  if (a === undefined || !Number.isSafeInteger(a) || a < 8 || a % 8 !== 0 || (a & (a - 1)) !== 0 || a > 2 ** 30) {
    throw new BitNetError('BAD_ALIGNMENT', `general.alignment = ${a} must be a power of two and a multiple of 8`);
  }
  return a;
}

function isBitnetFile(md: GGUFMetadata): boolean {
  const arch = md.get('general.architecture');
  if (arch && typeof arch.value === 'string' && arch.value.startsWith('bitnet')) return true;
  const ft = md.get('general.file_type');
  return ft !== undefined && ft.value === FILE_TYPE_I2_S;
}

async function readTensorInfos(c: GGUFCursor, count: number, md: GGUFMetadata, alignment: number): Promise<GGUFTensorInfo[]> {
  const bitnet = isBitnetFile(md);
  const infos: GGUFTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = c.pos;
    const name = await c.string(`name of tensor #${i}`, 'BAD_TENSOR_INFO', MAX_TENSOR_NAME);
    const what = `tensor "${name}"`;
    const fail = (msg: string): BitNetError => new BitNetError('BAD_TENSOR_INFO', `${what}: ${msg}`, { details: { tensor: name, offset: at } });
    if (names.has(name)) throw fail('duplicate tensor name');
    names.add(name);
    await c.need(4, what);
    const nDims = c.u32();
    if (nDims < 1 || nDims > MAX_DIMS) throw fail(`n_dims = ${nDims} is outside 1..${MAX_DIMS}`);
    await c.need(8 * nDims + 12, what);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const ne = c.u64();
      if (ne <= 0) throw fail(`ne[${d}] = ${ne < 0 ? '>= 2^53' : 0} is invalid`);
      dims.push(ne);
    }
    const typeId = c.u32();
    const offset = c.u64();
    const type = resolveGgmlType(typeId, bitnet);
    if (!type) throw new BitNetError('UNKNOWN_TENSOR_TYPE', `${what}: ${describeUnknownType(typeId, bitnet)}`, { details: { tensor: name, typeId } });
    let nbytes: number;
    try {
      nbytes = tensorNbytes(type, dims);
    } catch (e) {
      if (e instanceof BitNetError) throw new BitNetError(e.code, `${what}: ${e.message}`, { details: { tensor: name } });
      throw e;
    }
    if (offset < 0) throw new BitNetError('OUT_OF_BOUNDS', `${what}: data offset >= 2^53`, { details: { tensor: name } });
    if (offset % alignment !== 0) {
      throw new BitNetError('BAD_ALIGNMENT', `${what}: data offset ${offset} is not a multiple of the alignment ${alignment}`, { details: { tensor: name } });
    }
    infos.push({ name, dims, typeId, type: type.name, offset, nbytes });
  }
  return infos;
}

class GGUFFileImpl implements GGUFFile {
  private readonly byName: Map<string, GGUFTensorInfo>;
  constructor(
    readonly source: ByteSource,
    readonly version: number,
    readonly metadata: GGUFMetadata,
    readonly tensors: readonly GGUFTensorInfo[],
    readonly alignment: number,
    readonly dataOffset: number,
  ) {
    this.byName = new Map(tensors.map((t) => [t.name, t]));
  }

  get architecture(): string | null {
    const a = this.metadata.get('general.architecture');
    return a && typeof a.value === 'string' ? a.value : null;
  }

  tensor(name: string): GGUFTensorInfo | undefined {
    return this.byName.get(name);
  }

  async readTensorBytes(tensor: string | GGUFTensorInfo): Promise<Uint8Array> {
    const name = typeof tensor === 'string' ? tensor : tensor.name;
    const info = this.byName.get(name);
    if (!info) throw new BitNetError('MISSING_TENSOR', `tensor "${name}" is not in the file`, { details: { tensor: name } });
    return this.source.read(this.dataOffset + info.offset, info.nbytes);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }
}

/** Parses and validates a GGUF file's header, metadata and tensor infos. */
export async function openGGUF(source: ByteSource, options: OpenGGUFOptions = {}): Promise<GGUFFile> {
  const c = new GGUFCursor(source, options.windowSize);
  const { version, tensorCount, kvCount } = await readHeader(c);
  const metadata = await readMetadata(c, kvCount);
  const alignment = readAlignment(metadata);
  getString(metadata, 'general.architecture'); // BAD_METADATA when present but not a string
  if (tensorCount * MIN_TENSOR_INFO_BYTES > c.remaining) {
    throw new BitNetError('BAD_TENSOR_INFO', `tensor count ${tensorCount} cannot fit in the remaining ${c.remaining} bytes`);
  }
  const tensors = await readTensorInfos(c, tensorCount, metadata, alignment);
  const dataOffset = alignUp(c.pos, alignment);
  for (const t of tensors) {
    const end = dataOffset + t.offset + t.nbytes;
    if (!Number.isSafeInteger(end) || end > source.size) {
      throw new BitNetError('OUT_OF_BOUNDS', `tensor "${t.name}" [${dataOffset + t.offset}, ${end}) extends past the end of the file (${source.size} bytes)`, {
        details: { tensor: t.name, end, size: source.size },
      });
    }
  }
  return new GGUFFileImpl(source, version, metadata, tensors, alignment, dataOffset);
}
