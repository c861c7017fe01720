/**
 * Random-access byte sources for model files. A GGUF is never loaded as one contiguous buffer:
 * the reader asks a `ByteSource` for windows of it.
 *
 * Contract of every implementation:
 * - `size` is the total byte length, known after construction.
 * - `read(offset, length)` resolves to exactly `length` bytes (a fresh or private array the caller may
 *   keep), or rejects with `BitNetError`: `OUT_OF_BOUNDS` for a range outside `[0, size)`, `IO`,
 *   `NETWORK`, `HTTP_STATUS`, `RANGE_UNSUPPORTED` as fits the transport.
 * - `close()` releases handles; reads after it reject with `DISPOSED`.
 */
import { BitNetError } from '../errors.js';

export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** Validates a read request against a source size; throws `OUT_OF_BOUNDS`. */
export function checkRange(size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new BitNetError('OUT_OF_BOUNDS', `read of ${length} bytes at offset ${offset} outside source of ${size} bytes`, {
      details: { offset, length, size },
    });
  }
}

/** A source over bytes already in memory (no copy is made; reads return copies). */
export function bufferSource(data: ArrayBuffer | Uint8Array): ByteSource {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  return {
    size: bytes.length,
    read(offset: number, length: number): Promise<Uint8Array> {
      try {
        checkRange(bytes.length, offset, length);
        return Promise.resolve(bytes.slice(offset, offset + length));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  };
}

/**
 * A source over a list of chunks that together form the file (e.g. a streamed download), so that no
 * single allocation has to hold the whole file. Reads spanning chunks are assembled.
 */
export function chunkedSource(chunks: readonly Uint8Array[]): ByteSource {
  const starts: number[] = [];
  let total = 0;
  for (const c of chunks) {
    starts.push(total);
    total += c.length;
  }
  const findChunk = (offset: number): number => {
    let lo = 0;
    let hi = chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    size: total,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkRange(total, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      let i = length > 0 ? findChunk(offset) : 0;
      while (done < length) {
        const c = chunks[i]!;
        const from = offset + done - starts[i]!;
        const n = Math.min(c.length - from, length - done);
        out.set(c.subarray(from, from + n), done);
        done += n;
        i++;
      }
      return out;
    },
  };
}

/** A source over a `Blob` / `File` (browser or Node ≥ 20), reading with `blob.slice`. */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkRange(blob.size, offset, length);
      if (length === 0) return new Uint8Array(0);
      let buf: ArrayBuffer;
      try {
        buf = await blob.slice(offset, offset + length).arrayBuffer();
      } catch (e) {
        throw new BitNetError('IO', `reading blob bytes [${offset}, ${offset + length}) failed: ${String(e)}`, { cause: e });
      }
      if (buf.byteLength !== length) {
        throw new BitNetError('IO', `blob returned ${buf.byteLength} bytes, expected ${length}`);
      }
      return new Uint8Array(buf);
    },
  };
}

interface NodeFileHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number }>;
  close(): Promise<void>;
}

/**
 * A source over a local file (Node only). `node:fs/promises` is imported dynamically so that browser
 * bundles containing this module do not break. Throws `IO` if the file cannot be opened.
 */
export async function fileSource(path: string): Promise<ByteSource> {
  const modName = 'node:fs/promises';
  let fs: { open(path: string, flags: string): Promise<NodeFileHandle> };
  try {
    fs = (await import(/* @vite-ignore */ modName)) as typeof fs;
  } catch (e) {
    throw new BitNetError('IO', 'file paths can only be read in Node', { cause: e });
  }
  let handle: NodeFileHandle;
  let size: number;
  try {
    handle = await fs.open(path, 'r');
    size = (await handle.stat()).size;
  } catch (e) {
    throw new BitNetError('IO', `cannot open ${path}: ${(e as Error).message}`, { cause: e, details: { path } });
  }
  let closed = false;
  return {
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (closed) throw new BitNetError('DISPOSED', `file source ${path} is closed`);
      checkRange(size, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        let n: number;
        try {
          n = (await handle.read(out, done, length - done, offset + done)).bytesRead;
        } catch (e) {
          throw new BitNetError('IO', `reading ${path} failed: ${(e as Error).message}`, { cause: e, details: { path } });
        }
        if (n === 0) throw new BitNetError('TRUNCATED', `${path} ended early (file shrank while open?)`, { details: { path } });
        done += n;
      }
      return out;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

export { httpSource, type HttpSourceOptions } from './http-source.js';
