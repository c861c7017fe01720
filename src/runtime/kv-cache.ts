/**
 * Per-sequence key/value cache in f32: for every layer, `length` positions of post-RoPE keys and
 * values, each `kvDim` (= nHeadKv · headDim) floats, position-major. Storage grows by doubling up
 * to `maxLength`, so short sequences on long-context models stay small. Backend-agnostic.
 */
import { BitNetError } from '../errors.js';

export class KVCache {
  readonly nLayer: number;
  readonly kvDim: number;
  readonly maxLength: number;
  private len = 0;
  private cap: number;
  private readonly k: Float32Array[] = [];
  private readonly v: Float32Array[] = [];

  constructor(nLayer: number, kvDim: number, maxLength: number, initialCapacity = 64) {
    if (!(nLayer > 0 && kvDim > 0 && maxLength > 0)) {
      throw new BitNetError('BAD_OPTION', `KVCache: invalid shape nLayer=${nLayer} kvDim=${kvDim} maxLength=${maxLength}`);
    }
    this.nLayer = nLayer;
    this.kvDim = kvDim;
    this.maxLength = maxLength;
    this.cap = Math.min(maxLength, Math.max(1, initialCapacity));
    for (let l = 0; l < nLayer; l++) {
      this.k.push(new Float32Array(this.cap * kvDim));
      this.v.push(new Float32Array(this.cap * kvDim));
    }
  }

  /** Number of cached positions. */
  get length(): number {
    return this.len;
  }

  /** Positions that can still be appended. */
  get remaining(): number {
    return this.maxLength - this.len;
  }

  /** Makes room for `n` more positions. @throws BitNetError CONTEXT_OVERFLOW past maxLength. */
  reserve(n: number): void {
    const need = this.len + n;
    if (need > this.maxLength) {
      throw new BitNetError('CONTEXT_OVERFLOW', `sequence would hold ${need} positions, limit is ${this.maxLength}`, {
        details: { length: this.len, adding: n, maxLength: this.maxLength },
      });
    }
    if (need <= this.cap) return;
    let cap = this.cap;
    while (cap < need) cap *= 2;
    cap = Math.min(cap, this.maxLength);
    for (let l = 0; l < this.nLayer; l++) {
      const k = new Float32Array(cap * this.kvDim);
      k.set(this.k[l]!.subarray(0, this.len * this.kvDim));
      this.k[l] = k;
      const v = new Float32Array(cap * this.kvDim);
      v.set(this.v[l]!.subarray(0, this.len * this.kvDim));
      this.v[l] = v;
    }
    this.cap = cap;
  }

  /**
   * Writes layer `layer`'s key and value for position `pos` (pos ≤ length; writing at `length`
   * requires a prior `reserve`). The position becomes visible once `commit` advances the length.
   */
  write(layer: number, pos: number, key: ArrayLike<number>, value: ArrayLike<number>): void {
    if (pos >= this.cap) throw new BitNetError('CONTEXT_OVERFLOW', `KVCache.write: position ${pos} not reserved`);
    this.k[layer]!.set(key, pos * this.kvDim);
    this.v[layer]!.set(value, pos * this.kvDim);
  }

  /** Marks `n` more positions (already written for every layer) as cached. */
  commit(n: number): void {
    if (this.len + n > this.cap) throw new BitNetError('CONTEXT_OVERFLOW', 'KVCache.commit past reserved capacity');
    this.len += n;
  }

  /** Keys of a layer: position p, element i at [p · kvDim + i]; valid for p < length (+ uncommitted writes). */
  keys(layer: number): Float32Array {
    return this.k[layer]!;
  }

  values(layer: number): Float32Array {
    return this.v[layer]!;
  }

  /** Drops positions past `length` (no-op when length ≥ current). @throws BitNetError BAD_INPUT for a negative/non-integer length. */
  truncate(length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw new BitNetError('BAD_INPUT', `truncate: invalid length ${length}`);
    if (length < this.len) this.len = length;
  }

  /** Bytes currently allocated. */
  get byteLength(): number {
    return 2 * this.nLayer * this.cap * this.kvDim * 4;
  }
}
