/**
 * Open-addressing hash table from a pair of token ids (each < 2^31) to a merge rank. Used instead of
 * a `Map` for the ~280k LLaMA-3 merges: typed arrays, no boxing, about 3× faster to build and probe.
 */
const EMPTY = -1;

export class PairTable {
  private readonly mask: number;
  private readonly lefts: Int32Array;
  private readonly rights: Int32Array;
  private readonly values: Int32Array;

  /** `capacity`: the most entries that will be inserted. */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.lefts = new Int32Array(size).fill(EMPTY);
    this.rights = new Int32Array(size);
    this.values = new Int32Array(size);
  }

  private slot(left: number, right: number): number {
    let h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** Inserts the pair unless already present (the first value, i.e. the lowest rank, wins). */
  setIfAbsent(left: number, right: number, value: number): void {
    for (let i = this.slot(left, right); ; i = (i + 1) & this.mask) {
      const l = this.lefts[i]!;
      if (l === EMPTY) {
        this.lefts[i] = left;
        this.rights[i] = right;
        this.values[i] = value;
        return;
      }
      if (l === left && this.rights[i] === right) return;
    }
  }

  /** The value of the pair, or -1. */
  get(left: number, right: number): number {
    for (let i = this.slot(left, right); ; i = (i + 1) & this.mask) {
      const l = this.lefts[i]!;
      if (l === EMPTY) return -1;
      if (l === left && this.rights[i] === right) return this.values[i]!;
    }
  }
}
