/**
 * Which WebAssembly instruction sets this engine compiles, checked with `WebAssembly.validate` on
 * tiny hand-assembled modules (nothing is instantiated):
 * - SIMD: `i32.const 0; i8x16.splat` returning a v128.
 * - relaxed SIMD: the same plus `i8x16.relaxed_swizzle` (0xfd 0x100).
 * - threads: a shared memory and `i32.atomic.load`.
 */

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// type () -> v128; one function; body: i32.const 0, i8x16.splat, end
const SIMD = [...HEADER, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 8, 1, 6, 0, 0x41, 0, 0xfd, 0x0f, 0x0b];
// body: splat, splat, i8x16.relaxed_swizzle, end
const RELAXED = [...HEADER, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 15, 1, 13, 0, 0x41, 0, 0xfd, 0x0f, 0x41, 0, 0xfd, 0x0f, 0xfd, 0x80, 0x02, 0x0b];
// type () -> (); shared memory (flags 3: max + shared) 1..1; body: i32.const 0, i32.atomic.load, drop, end
const THREADS = [...HEADER, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 0x41, 0, 0xfe, 0x10, 2, 0, 0x1a, 0x0b];

export interface WasmInstructionReport {
  readonly available: boolean;
  readonly simd: boolean;
  readonly relaxedSimd: boolean;
  /** Shared memory + atomics compile (running threads also needs SharedArrayBuffer, see ThreadsReport). */
  readonly threads: boolean;
}

function validates(bytes: number[]): boolean {
  try {
    return WebAssembly.validate(new Uint8Array(bytes));
  } catch {
    return false;
  }
}

export function probeWasmInstructions(): WasmInstructionReport {
  if (typeof WebAssembly !== 'object' || typeof WebAssembly.validate !== 'function') {
    return { available: false, simd: false, relaxedSimd: false, threads: false };
  }
  return { available: true, simd: validates(SIMD), relaxedSimd: validates(RELAXED), threads: validates(THREADS) };
}
