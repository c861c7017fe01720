/**
 * The linear memory of one wasm backend and a bump allocator over it. Weights, KV pages and
 * scratch buffers are carved upward from the module's heap base; the memory grows on demand
 * (up to the 4 GiB wasm32 limit) and nothing is ever returned except by `release(mark)` of the
 * most recent allocations. Typed views are re-created after every growth.
 */
import { BitNetError } from '../../errors.js';

export const PAGE = 65536;
/** wasm32 address space: 65536 pages of 64 KiB. */
export const MAX_PAGES = 65536;
export const MAX_BYTES = MAX_PAGES * PAGE;
/** Pages the module declares as its initial memory (-sINITIAL_MEMORY=16MB). */
export const INITIAL_PAGES = 256;

export interface ArenaViews {
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly i16: Int16Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
}

/**
 * Creates the memory the module imports. Shared memories need a maximum up front; when the
 * runtime refuses to reserve `maxPages` we retry with smaller reservations down to `minPages`.
 * @throws BitNetError OUT_OF_MEMORY when no reservation succeeds.
 */
export function createMemory(shared: boolean, minPages: number, maxPages = MAX_PAGES): WebAssembly.Memory {
  const initial = Math.max(INITIAL_PAGES, Math.min(minPages, maxPages));
  if (!shared) {
    try {
      return new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: maxPages });
    } catch (e) {
      throw new BitNetError('OUT_OF_MEMORY', `could not create wasm memory: ${String(e)}`, { cause: e });
    }
  }
  let lastErr: unknown;
  for (let max = maxPages; max >= initial; max = Math.floor(max / 2)) {
    try {
      return new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: Math.max(max, initial), shared: true });
    } catch (e) {
      lastErr = e;
    }
  }
  throw new BitNetError('OUT_OF_MEMORY', `could not reserve shared wasm memory of ${minPages} pages: ${String(lastErr)}`, { cause: lastErr });
}

export class WasmArena {
  readonly memory: WebAssembly.Memory;
  private topBytes: number;
  private buffer: ArrayBufferLike | null = null;
  private cached: ArenaViews | null = null;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.topBytes = align(heapBase >>> 0, 64);
  }

  /** First unallocated byte. */
  get top(): number {
    return this.topBytes;
  }

  /** Current size of the memory in bytes. */
  get size(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Allocates `bytes` (aligned to `alignment`, default 64) and returns the byte offset.
   * @throws BitNetError OUT_OF_MEMORY when the memory cannot grow that far.
   */
  alloc(bytes: number, alignment = 64): number {
    if (!(bytes >= 0) || !Number.isSafeInteger(bytes)) throw new BitNetError('OUT_OF_MEMORY', `invalid allocation size ${bytes}`);
    const ptr = align(this.topBytes, alignment);
    const end = ptr + bytes;
    if (end > MAX_BYTES) {
      throw new BitNetError('OUT_OF_MEMORY', `wasm memory exhausted: need ${end} bytes, wasm32 allows ${MAX_BYTES}`, { details: { need: end } });
    }
    this.ensure(end);
    this.topBytes = end;
    return ptr;
  }

  /** Grows the memory to hold at least `end` bytes. @throws BitNetError OUT_OF_MEMORY */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new BitNetError('OUT_OF_MEMORY', `wasm memory could not grow by ${pages} pages to ${end} bytes: ${String(e)}`, {
        cause: e,
        details: { need: end, have },
      });
    }
  }

  mark(): number {
    return this.topBytes;
  }

  /** Frees everything allocated after `mark` (the memory itself never shrinks). */
  release(mark: number): void {
    if (mark <= this.topBytes) this.topBytes = mark;
  }

  /** Typed views of the whole memory, refreshed when the memory has grown. */
  get v(): ArenaViews {
    const buf = this.memory.buffer;
    if (buf !== this.buffer || this.cached === null || this.cached.u8.byteLength !== buf.byteLength) {
      this.buffer = buf;
      this.cached = {
        u8: new Uint8Array(buf),
        i8: new Int8Array(buf),
        i16: new Int16Array(buf),
        u16: new Uint16Array(buf),
        i32: new Int32Array(buf),
        u32: new Uint32Array(buf),
        f32: new Float32Array(buf),
        f64: new Float64Array(buf),
      };
    }
    return this.cached;
  }
}

export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
