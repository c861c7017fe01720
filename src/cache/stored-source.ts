/**
 * A `ByteSource` over a file kept as fixed-size chunks (in the key-value store, in memory, or a mix):
 * the GGUF loader reads windows of it and only the chunks a read touches are fetched, with the most
 * recently used `keep` chunks held in memory (sequential tensor reads hit the same chunk many times).
 * No single buffer ever holds the whole file.
 */
import { BitNetError } from '../errors.js';
import { checkRange, type ByteSource } from '../model/byte-source.js';

export interface ChunkedFile {
  readonly size: number;
  readonly chunkSize: number;
  /** Bytes of chunk `i` (exactly its length). */
  getChunk(i: number): Promise<Uint8Array>;
}

export function storedSource(file: ChunkedFile, keep = 2): ByteSource {
  const { size, chunkSize } = file;
  const lru = new Map<number, Promise<Uint8Array>>();
  let closed = false;
  const chunk = (i: number): Promise<Uint8Array> => {
    let p = lru.get(i);
    if (p) {
      lru.delete(i);
      lru.set(i, p);
      return p;
    }
    p = file.getChunk(i);
    // A failed read must not stay cached.
    p.catch(() => lru.delete(i));
    lru.set(i, p);
    while (lru.size > keep) lru.delete(lru.keys().next().value!);
    return p;
  };
  return {
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (closed) throw new BitNetError('DISPOSED', 'cached model source is closed');
      checkRange(size, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const pos = offset + done;
        const i = Math.floor(pos / chunkSize);
        const c = await chunk(i);
        const from = pos - i * chunkSize;
        const n = Math.min(c.length - from, length - done);
        if (n <= 0) throw new BitNetError('TRUNCATED', `cached chunk ${i} is shorter than expected`, { details: { chunk: i } });
        out.set(c.subarray(from, from + n), done);
        done += n;
      }
      return out;
    },
    async close(): Promise<void> {
      closed = true;
      lru.clear();
    },
  };
}
