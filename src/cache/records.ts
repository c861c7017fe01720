/**
 * What the model cache keeps in its key-value store, per cached file (`key` = absolute URL unless the
 * caller names another cache key):
 *
 * - `['chunk', key, i]` → `ChunkRecord`: bytes `[i·chunkSize, min((i+1)·chunkSize, size))` and their sha256.
 * - `['pending', key]` → `PendingRecord`: written when a download starts, describes the file being
 *   fetched (size, chunk size, server validators) so an interrupted download resumes with the same
 *   chunking, and is discarded when the server's file changed.
 * - `['manifest', key]` → `ModelManifest`: written last, only once every chunk is stored and verified;
 *   its presence is what makes an entry complete.
 * - `['repack', key, backend, layout]` (head) and `['repack', key, backend, layout, i]` (part i) →
 *   repacked-weight caches (see repack-hook.ts).
 */
import type { StoreKey } from './kv-store.js';

export const RECORD_VERSION = 1;

export interface ChunkRecord {
  readonly data: ArrayBuffer;
  readonly sha256: string;
}

export interface PendingRecord {
  readonly version: number;
  readonly key: string;
  readonly url: string;
  readonly size: number;
  readonly chunkSize: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly startedAt: number;
}

export interface ModelManifest {
  readonly version: number;
  readonly key: string;
  readonly url: string;
  readonly size: number;
  readonly chunkSize: number;
  /** sha256 (hex) of every chunk, in order. */
  readonly chunks: readonly string[];
  readonly etag: string | null;
  readonly lastModified: string | null;
  /** sha256 over the concatenated chunk digests: a stable identity of the file's content. */
  readonly fingerprint: string;
  readonly createdAt: number;
}

export const chunkKey = (key: string, index: number): StoreKey => ['chunk', key, index];
export const pendingKey = (key: string): StoreKey => ['pending', key];
export const manifestKey = (key: string): StoreKey => ['manifest', key];
export const repackKey = (key: string, backend: string, variant: string): StoreKey => ['repack', key, backend, variant];

/** Number of chunks a file of `size` bytes is split into. */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** Byte length of chunk `i`. */
export function chunkLength(size: number, chunkSize: number, i: number): number {
  return Math.max(0, Math.min(chunkSize, size - i * chunkSize));
}

/** The cache key a record key belongs to, with its kind; null for keys this cache did not write. */
export function parseStoreKey(k: StoreKey): { kind: 'chunk' | 'pending' | 'manifest' | 'repack'; key: string } | null {
  if (!Array.isArray(k) || k.length < 2 || typeof k[1] !== 'string') return null;
  const kind = k[0];
  if (kind === 'chunk' || kind === 'pending' || kind === 'manifest' || kind === 'repack') return { kind, key: k[1] };
  return null;
}

export function isManifest(v: unknown): v is ModelManifest {
  const m = v as ModelManifest | undefined;
  return (
    typeof m === 'object' && m !== null && m.version === RECORD_VERSION && typeof m.key === 'string' && Number.isSafeInteger(m.size) &&
    Number.isSafeInteger(m.chunkSize) && m.chunkSize > 0 && Array.isArray(m.chunks) && m.chunks.length === chunkCount(m.size, m.chunkSize)
  );
}

export function isPending(v: unknown): v is PendingRecord {
  const p = v as PendingRecord | undefined;
  return typeof p === 'object' && p !== null && p.version === RECORD_VERSION && Number.isSafeInteger(p.size) && Number.isSafeInteger(p.chunkSize) && p.chunkSize > 0;
}

export function isChunkRecord(v: unknown): v is ChunkRecord {
  const c = v as ChunkRecord | undefined;
  return typeof c === 'object' && c !== null && c.data instanceof ArrayBuffer && typeof c.sha256 === 'string';
}
