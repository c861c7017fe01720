/**
 * Records of repacked weights (a backend's own layout, e.g. the WebGPU matmul words) stored next to a
 * cached model file, so a second load can skip repacking.
 *
 * An entry is identified by the model's cache key, the backend, and a `layout` string the backend
 * derives from its layout version and plan (it changes whenever the stored bytes would differ). Its
 * head record also names the model's content identity (`fingerprint`) and the record version:
 *
 * - `['repack', modelKey, backend, layout]` → `RepackHead` (written last: without it nothing is stored),
 * - `['repack', modelKey, backend, layout, i]` → ArrayBuffer of part i.
 *
 * `load` verifies everything: a head of another record version or model content, a missing part, a
 * part of the wrong length or whose sha256 differs is a miss, and the backend's entries are dropped
 * so the next `save` starts clean. `save` drops the backend's other layouts first (one entry per
 * model and backend).
 */
import type { BackendName } from '../backends/backend.js';
import type { KeyValueStore, StoreKey } from './kv-store.js';
import { repackKey } from './records.js';
import { sha256Hex } from './sha256.js';

/** Bump when the head / part records change shape. */
export const REPACK_RECORD_VERSION = 2;

export interface RepackHead {
  readonly version: number;
  /** Content identity of the model file the parts were made from. */
  readonly fingerprint: string;
  readonly layout: string;
  /** Byte length and sha256 (hex) of every part, in order. */
  readonly parts: ReadonlyArray<{ readonly bytes: number; readonly sha256: string }>;
  readonly createdAt: number;
}

/** Why `load` found nothing usable ('absent' = nothing stored for this layout). */
export type RepackMiss = 'absent' | 'stale' | 'corrupted';

export interface RepackCache {
  /** The verified parts, in order, or the reason there are none (stale / corrupted entries are dropped). */
  load(backend: BackendName, layout: string): Promise<{ parts: Uint8Array[] } | { miss: RepackMiss }>;
  /** Replaces the backend's stored layout with these parts. Storage errors (QUOTA_EXCEEDED, STORAGE) propagate. */
  save(backend: BackendName, layout: string, parts: readonly Uint8Array[]): Promise<void>;
  /** Drops every stored layout of a backend for this model. */
  clear(backend: BackendName): Promise<void>;
}

/** A well-formed repack head record (the only record that lists the parts and their sizes). */
export function isRepackHead(v: unknown): v is RepackHead {
  const h = v as RepackHead | undefined;
  return typeof h === 'object' && h !== null && typeof h.fingerprint === 'string' && typeof h.layout === 'string' && Array.isArray(h.parts) &&
    h.parts.every((p) => Number.isSafeInteger(p?.bytes) && typeof p?.sha256 === 'string');
}

/** The repack records of one cached model (`modelKey` = its cache key, `fingerprint` = its content identity). */
export function repackCache(store: KeyValueStore, modelKey: string, fingerprint: string): RepackCache {
  const partKey = (backend: BackendName, layout: string, i: number): StoreKey => [...(repackKey(modelKey, backend, layout) as string[]), i];
  const clear = async (backend: BackendName): Promise<void> => {
    const ks = (await store.keys()).filter((k) => Array.isArray(k) && k[0] === 'repack' && k[1] === modelKey && k[2] === backend);
    // Heads first: a half-deleted entry must never look complete.
    const heads = ks.filter((k) => (k as unknown[]).length === 4);
    if (heads.length > 0) await store.delete(heads);
    const rest = ks.filter((k) => !heads.includes(k));
    if (rest.length > 0) await store.delete(rest);
  };
  return {
    async load(backend, layout) {
      const head = await store.get<unknown>(repackKey(modelKey, backend, layout));
      if (head === undefined) return { miss: 'absent' };
      if (!isRepackHead(head) || head.version !== REPACK_RECORD_VERSION || head.fingerprint !== fingerprint || head.layout !== layout) {
        await clear(backend);
        return { miss: 'stale' };
      }
      const parts: Uint8Array[] = [];
      for (let i = 0; i < head.parts.length; i++) {
        const want = head.parts[i]!;
        const p = await store.get<unknown>(partKey(backend, layout, i));
        const bytes = p instanceof ArrayBuffer ? new Uint8Array(p) : null;
        if (!bytes || bytes.length !== want.bytes || (await sha256Hex(bytes)) !== want.sha256) {
          await clear(backend);
          return { miss: 'corrupted' };
        }
        parts.push(bytes);
      }
      return { parts };
    },
    async save(backend, layout, parts) {
      await clear(backend);
      const meta: { bytes: number; sha256: string }[] = [];
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        meta.push({ bytes: p.length, sha256: await sha256Hex(p) });
        // A standalone ArrayBuffer of exactly the part (views into a larger buffer would store all of it).
        const buf = p.byteOffset === 0 && p.byteLength === p.buffer.byteLength && p.buffer instanceof ArrayBuffer ? p.buffer : p.slice().buffer;
        await store.set(partKey(backend, layout, i), buf);
      }
      const head: RepackHead = { version: REPACK_RECORD_VERSION, fingerprint, layout, parts: meta, createdAt: Date.now() };
      await store.set(repackKey(modelKey, backend, layout), head);
    },
    clear,
  };
}
