/**
 * Paged f32 KV cache in wasm memory. A page holds `pageSize` positions of every layer
 * (layer l: K block at l·2·pageSize·kvDim·4 bytes, V block right after it), matching
 * bn_kv_store / bn_attention in wasm/attention.c. Each sequence owns a page table (u32 page
 * addresses) in wasm memory with room for ceil(maxContext / pageSize) entries. Pages and tables
 * are recycled through free lists, since the arena itself never frees.
 */
import { BitNetError } from '../../errors.js';
import type { WasmArena } from './arena.js';

export interface KvGeometry {
  readonly nLayer: number;
  readonly kvDim: number;
  readonly pageSize: number;
  readonly maxContext: number;
}

export class KvSequence {
  /** Cached positions. */
  length = 0;
  readonly pages: number[] = [];
  constructor(readonly table: number) {}
}

export class KvPagePool {
  readonly pageBytes: number;
  /** Byte offset of the V block relative to the K block of a layer. */
  readonly vOff: number;
  readonly tableEntries: number;
  private readonly freePages: number[] = [];
  private readonly freeTables: number[] = [];

  constructor(private readonly arena: WasmArena, readonly g: KvGeometry) {
    this.vOff = g.pageSize * g.kvDim * 4;
    this.pageBytes = g.nLayer * 2 * this.vOff;
    this.tableEntries = Math.ceil(g.maxContext / g.pageSize);
  }

  /** Byte offset of layer l's K block inside a page. */
  layerOff(l: number): number {
    return l * 2 * this.vOff;
  }

  /** @throws BitNetError OUT_OF_MEMORY */
  newSequence(): KvSequence {
    const t = this.freeTables.pop() ?? this.arena.alloc(this.tableEntries * 4, 16);
    return new KvSequence(t);
  }

  freeSequence(s: KvSequence): void {
    for (const p of s.pages) this.freePages.push(p);
    s.pages.length = 0;
    s.length = 0;
    this.freeTables.push(s.table);
  }

  /**
   * Makes room for `length` positions (pages are added, never moved).
   * @throws BitNetError OUT_OF_MEMORY when the memory cannot grow (pages added so far stay owned).
   */
  reserve(s: KvSequence, length: number): void {
    const need = Math.ceil(length / this.g.pageSize);
    if (need > this.tableEntries) throw new BitNetError('CONTEXT_OVERFLOW', `KV cache: ${length} positions exceed ${this.g.maxContext}`);
    while (s.pages.length < need) {
      const p = this.freePages.pop() ?? this.arena.alloc(this.pageBytes, 64);
      this.arena.v.u32[(s.table >>> 2) + s.pages.length] = p;
      s.pages.push(p);
    }
  }

  /** Drops positions past `length` and recycles pages no longer needed. */
  truncate(s: KvSequence, length: number): void {
    if (length >= s.length) return;
    s.length = Math.max(0, length);
    const keep = Math.ceil(s.length / this.g.pageSize);
    while (s.pages.length > keep) this.freePages.push(s.pages.pop()!);
  }
}
