/**
 * A little-endian read cursor over a `ByteSource` that keeps one window (default 1 MiB) of the file in
 * memory. Hot loops check `has(n)` synchronously and only `await fill(n)` when the window runs out.
 * Every length read from the file is checked against the remaining file size before anything is
 * allocated for it.
 */
import { BitNetError, type BitNetErrorCode } from '../errors.js';
import type { ByteSource } from './byte-source.js';

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

export class GGUFCursor {
  /** Absolute file position of the next byte. */
  pos = 0;
  private buf: Uint8Array = EMPTY;
  private view: DataView<ArrayBufferLike> = new DataView(EMPTY.buffer);
  private bufStart = 0;

  constructor(
    private readonly src: ByteSource,
    private readonly windowSize = 1 << 20,
  ) {}

  get size(): number {
    return this.src.size;
  }

  get remaining(): number {
    return this.src.size - this.pos;
  }

  /** True when the next n bytes are in the window. */
  has(n: number): boolean {
    return this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.length;
  }

  /** Loads a window starting at `pos` holding at least n bytes; TRUNCATED if the file is shorter. */
  async fill(n: number, what: string): Promise<void> {
    if (n > this.remaining) {
      throw new BitNetError('TRUNCATED', `file ends inside ${what} (need ${n} bytes at offset ${this.pos}, file size ${this.src.size})`, {
        details: { offset: this.pos, size: this.src.size },
      });
    }
    const len = Math.min(Math.max(n, this.windowSize), this.remaining);
    this.buf = await this.src.read(this.pos, len);
    this.bufStart = this.pos;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  async need(n: number, what: string): Promise<void> {
    if (!this.has(n)) await this.fill(n, what);
  }

  private at(n: number): number {
    const o = this.pos - this.bufStart;
    this.pos += n;
    return o;
  }

  // Synchronous readers: the caller guarantees has(size).
  u8(): number {
    return this.buf[this.at(1)]!;
  }
  i8(): number {
    return this.view.getInt8(this.at(1));
  }
  u16(): number {
    return this.view.getUint16(this.at(2), true);
  }
  i16(): number {
    return this.view.getInt16(this.at(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.at(4), true);
  }
  i32(): number {
    return this.view.getInt32(this.at(4), true);
  }
  f32(): number {
    return this.view.getFloat32(this.at(4), true);
  }
  f64(): number {
    return this.view.getFloat64(this.at(8), true);
  }
  u64big(): bigint {
    return this.view.getBigUint64(this.at(8), true);
  }
  i64big(): bigint {
    return this.view.getBigInt64(this.at(8), true);
  }
  /** u64 as a number, or -1 when it exceeds 2^53 - 1 (callers treat that as absurd). */
  u64(): number {
    const o = this.at(8);
    const lo = this.view.getUint32(o, true);
    const hi = this.view.getUint32(o + 4, true);
    return hi >= 0x200000 ? -1 : hi * 0x100000000 + lo;
  }

  /** View of the next n bytes of the window (valid until the next fill). */
  bytes(n: number): Uint8Array {
    const o = this.at(n);
    return this.buf.subarray(o, o + n);
  }

  /** Copies the next dest.length bytes into dest, refilling the window as needed. */
  async readInto(dest: Uint8Array, what: string): Promise<void> {
    let done = 0;
    while (done < dest.length) {
      if (!this.has(1)) await this.fill(Math.min(dest.length - done, this.windowSize), what);
      const avail = this.bufStart + this.buf.length - this.pos;
      const n = Math.min(avail, dest.length - done);
      dest.set(this.bytes(n), done);
      done += n;
    }
  }

  /**
   * Reads a gguf_string (u64 length + UTF-8 bytes). A length beyond the remaining file or `maxLength`
   * throws `code` before anything is allocated.
   */
  async string(what: string, code: BitNetErrorCode, maxLength = Number.MAX_SAFE_INTEGER): Promise<string> {
    if (!this.has(8)) await this.fill(8, what);
    const start = this.pos;
    const len = this.u64();
    if (len < 0 || len > this.remaining || len > maxLength) {
      throw new BitNetError(code, `${what}: string length ${len < 0 ? '>= 2^53' : len} at offset ${start} exceeds ${len > maxLength ? `the limit ${maxLength}` : `the remaining ${this.remaining} bytes`}`, {
        details: { offset: start },
      });
    }
    if (!this.has(len)) await this.fill(len, what);
    return decodeUtf8(this.bytes(len));
  }
}

/** UTF-8 decode with an ASCII fast path for short strings (token texts, keys). */
export function decodeUtf8(b: Uint8Array): string {
  if (b.length <= 32) {
    let ascii = true;
    for (let i = 0; i < b.length; i++) {
      if (b[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  return utf8.decode(b);
}
