/**
 * Top-1 cosine search over L2-normalised vectors, kept in one growing Float32Array (row i = vector
 * of slot i; removing swaps the last row in, so rows stay dense).
 *
 * Two search paths, chosen per call by the work an exact scan would do (`size × dims`):
 * - up to `EXACT_SCAN_BUDGET` multiply-adds: a brute-force scan (exact);
 * - past it: an approximate pre-filter, then an exact re-rank. Each vector gets a `bits`-bit
 *   signature: bit b = sign of a sparse random ±1 projection (up to 256 coordinates per bit, seeded,
 *   so deterministic) of the vector minus a centre (the mean of the vectors when the signatures were
 *   built; centring matters because model embeddings share a large common direction that would
 *   otherwise put every vector on the same side of most hyperplanes). The query's signature is
 *   compared to all of them by Hamming distance, the `candidates` nearest (at least 64, 2% of the
 *   index, at most 1024) are scored exactly, and the best of those is returned. Near-duplicates have
 *   small Hamming distances, so the true best is almost always among the candidates; a miss returns
 *   a slightly worse vector, never a wrong id. The centre and signatures are rebuilt when the index has
 *   doubled since the last build (inside `add`, never inside `search`).
 *
 * Not thread-safe (plain JS). Throws `RangeError` for a vector of the wrong length.
 */

/**
 * Multiply-adds an exact scan may take before the approximate path is used. Measured with
 * bench/result-cache-bench.ts (Node 20, 2-core AMD EPYC dev box shared with other jobs, load ~4):
 * a 1000 × 384 exact scan (384k multiply-adds) took 0.54 ms at p50, i.e. ~1.4 ns per multiply-add,
 * while the approximate path stayed at 0.4-1.0 ms p50 up to 10k × 2560. 500k keeps an exact scan
 * near 0.7 ms, well inside the 2 ms lookup target; that is up to 1300 vectors of 384 dims or 195
 * of 2560.
 */
export const EXACT_SCAN_BUDGET = 500_000;

export interface VectorIndexOptions {
  /** Signature bits, a multiple of 32 (default 128). */
  readonly bits?: number;
  /** Exact-scan limit in multiply-adds (default `EXACT_SCAN_BUDGET`). */
  readonly exactScanBudget?: number;
  /** Seed of the random projections (default fixed). */
  readonly seed?: number;
}

export interface VectorMatch {
  readonly id: string;
  /** Cosine similarity in [-1, 1]. */
  readonly score: number;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Seeded xorshift32 stream of uniform [0, 1) numbers (deterministic; seed 0 acts as 1). */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** `v` scaled to unit length; null when its norm is zero or not finite. */
export function normalized(v: ArrayLike<number>): Float32Array | null {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (!(s > 0) || !Number.isFinite(s)) return null;
  const k = 1 / Math.sqrt(s);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * k;
  return out;
}

export class VectorIndex {
  readonly bits: number;
  private readonly words: number;
  private readonly budget: number;
  private data: Float32Array;
  private ids: string[] = [];
  private readonly slots = new Map<string, number>();
  private n = 0;
  // Approximate path (built lazily).
  private readonly fan: number;
  private readonly planeIdx: Int32Array;
  private readonly planeSign: Float32Array;
  private planeOffset: Float64Array | null = null;
  private sigs: Uint32Array | null = null;
  private builtAt = 0;

  constructor(readonly dims: number, options: VectorIndexOptions = {}) {
    if (!Number.isSafeInteger(dims) || dims <= 0) throw new RangeError(`VectorIndex: dims must be a positive integer, got ${dims}`);
    this.bits = options.bits ?? 128;
    if (!Number.isSafeInteger(this.bits) || this.bits <= 0 || this.bits % 32 !== 0 || this.bits > 255) throw new RangeError('VectorIndex: bits must be 32, 64, 96 ... 224');
    this.words = this.bits / 32;
    this.budget = options.exactScanBudget ?? EXACT_SCAN_BUDGET;
    this.data = new Float32Array(dims * 16);
    this.fan = Math.min(dims, 256);
    this.planeIdx = new Int32Array(this.bits * this.fan);
    this.planeSign = new Float32Array(this.bits * this.fan);
    const rnd = xorshift32(options.seed ?? 0x9e3779b9);
    for (let i = 0; i < this.planeIdx.length; i++) {
      this.planeIdx[i] = Math.floor(rnd() * dims);
      this.planeSign[i] = rnd() < 0.5 ? -1 : 1;
    }
  }

  get size(): number {
    return this.n;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  /** True when `search` takes the approximate path at the current size. */
  get approximate(): boolean {
    return this.n * this.dims > this.budget;
  }

  /**
   * Adds (or replaces) `id`'s vector, stored normalised. A zero or non-finite vector is not added.
   * @returns whether it was added. @throws RangeError on a wrong length.
   */
  add(id: string, v: ArrayLike<number>): boolean {
    if (v.length !== this.dims) throw new RangeError(`VectorIndex: expected ${this.dims} dims, got ${v.length}`);
    const unit = normalized(v);
    if (!unit) return false;
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.n++;
      if (this.n * this.dims > this.data.length) {
        const grown = new Float32Array(this.data.length * 2);
        grown.set(this.data);
        this.data = grown;
      }
      this.ids[slot] = id;
      this.slots.set(id, slot);
    }
    this.data.set(unit, slot * this.dims);
    if (this.sigs) {
      if (this.n >= 2 * this.builtAt) this.buildSignatures();
      else {
        this.ensureSigCapacity();
        this.signInto(this.data, slot * this.dims, this.sigs, slot * this.words);
      }
    } else if (this.approximate) this.buildSignatures();
    return true;
  }

  /** Removes `id`; returns whether it was present. */
  remove(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    this.slots.delete(id);
    const last = --this.n;
    if (slot !== last) {
      const moved = this.ids[last]!;
      this.data.copyWithin(slot * this.dims, last * this.dims, (last + 1) * this.dims);
      if (this.sigs) this.sigs.copyWithin(slot * this.words, last * this.words, (last + 1) * this.words);
      this.ids[slot] = moved;
      this.slots.set(moved, slot);
    }
    this.ids.length = last;
    return true;
  }

  clear(): void {
    this.n = 0;
    this.ids = [];
    this.slots.clear();
    this.sigs = null;
    this.planeOffset = null;
    this.builtAt = 0;
  }

  /** The most similar vector (exact or approximate path, see the module comment); null when empty or `q` is zero. */
  search(q: ArrayLike<number>): VectorMatch | null {
    if (q.length !== this.dims) throw new RangeError(`VectorIndex: expected ${this.dims} dims, got ${q.length}`);
    const u = normalized(q);
    if (!u || this.n === 0) return null;
    if (!this.approximate || !this.sigs) return this.scan(u, null);
    return this.scan(u, this.candidates(u));
  }

  /** Brute-force top-1 (the reference the approximate path is tested against). */
  searchExact(q: ArrayLike<number>): VectorMatch | null {
    if (q.length !== this.dims) throw new RangeError(`VectorIndex: expected ${this.dims} dims, got ${q.length}`);
    const u = normalized(q);
    return u && this.n > 0 ? this.scan(u, null) : null;
  }

  /** Exact scores over all rows (`rows` null) or the given ones. */
  private scan(u: Float32Array, rows: Int32Array | null): VectorMatch | null {
    const d = this.dims, data = this.data;
    const count = rows ? rows.length : this.n;
    let best = -Infinity, at = -1;
    for (let r = 0; r < count; r++) {
      const i = rows ? rows[r]! : r;
      const o = i * d;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
      for (; j + 3 < d; j += 4) {
        s0 += data[o + j]! * u[j]!;
        s1 += data[o + j + 1]! * u[j + 1]!;
        s2 += data[o + j + 2]! * u[j + 2]!;
        s3 += data[o + j + 3]! * u[j + 3]!;
      }
      for (; j < d; j++) s0 += data[o + j]! * u[j]!;
      const s = s0 + s1 + s2 + s3;
      if (s > best) {
        best = s;
        at = i;
      }
    }
    return at < 0 ? null : { id: this.ids[at]!, score: Math.max(-1, Math.min(1, best)) };
  }

  /** Rows whose signatures are nearest to `u`'s by Hamming distance. */
  private candidates(u: Float32Array): Int32Array {
    const w = this.words, n = this.n, sigs = this.sigs!;
    const qs = new Uint32Array(w);
    this.signInto(u, 0, qs, 0);
    const dist = new Uint8Array(n);
    const hist = new Int32Array(this.bits + 1);
    for (let i = 0, o = 0; i < n; i++, o += w) {
      let h = 0;
      for (let k = 0; k < w; k++) h += popcount((sigs[o + k]! ^ qs[k]!) >>> 0);
      dist[i] = h;
      hist[h]!++;
    }
    const want = Math.min(n, Math.max(64, Math.min(1024, Math.ceil(n * 0.02))));
    let cutoff = 0, below = 0;
    while (cutoff < this.bits && below + hist[cutoff]! < want) below += hist[cutoff++]!;
    // Rows strictly below the cutoff, then rows at the cutoff until `want` are taken.
    const out = new Int32Array(want);
    let m = 0, atCut = want - below;
    for (let i = 0; i < n && m < want; i++) {
      const h = dist[i]!;
      if (h < cutoff) out[m++] = i;
      else if (h === cutoff && atCut > 0) {
        out[m++] = i;
        atCut--;
      }
    }
    return m === want ? out : out.subarray(0, m);
  }

  private signInto(src: Float32Array, off: number, dst: Uint32Array, dstOff: number): void {
    const fan = this.fan, idx = this.planeIdx, sign = this.planeSign, offs = this.planeOffset!;
    for (let k = 0; k < this.words; k++) dst[dstOff + k] = 0;
    for (let b = 0, p = 0; b < this.bits; b++) {
      let acc = 0;
      for (let j = 0; j < fan; j++, p++) acc += sign[p]! * src[off + idx[p]!]!;
      if (acc > offs[b]!) dst[dstOff + (b >>> 5)]! |= 1 << (b & 31);
    }
  }

  private ensureSigCapacity(): void {
    const need = (this.data.length / this.dims) * this.words;
    if (this.sigs && this.sigs.length >= need) return;
    const s = new Uint32Array(need);
    if (this.sigs) s.set(this.sigs.subarray(0, Math.min(this.sigs.length, need)));
    this.sigs = s;
  }

  /** Recomputes the centre (mean of the current vectors) and every signature. */
  private buildSignatures(): void {
    const d = this.dims, n = this.n;
    const center = new Float64Array(d);
    for (let i = 0, o = 0; i < n; i++, o += d) for (let j = 0; j < d; j++) center[j]! += this.data[o + j]!;
    for (let j = 0; j < d; j++) center[j]! /= Math.max(1, n);
    const offs = new Float64Array(this.bits);
    for (let b = 0, p = 0; b < this.bits; b++) {
      let acc = 0;
      for (let j = 0; j < this.fan; j++, p++) acc += this.planeSign[p]! * center[this.planeIdx[p]!]!;
      offs[b] = acc;
    }
    this.planeOffset = offs;
    this.sigs = null;
    this.ensureSigCapacity();
    for (let i = 0; i < n; i++) this.signInto(this.data, i * d, this.sigs!, i * this.words);
    this.builtAt = n;
  }
}
