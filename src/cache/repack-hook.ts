/**
 * Hook for caching repacked weights (a backend's own layout: wasm tiles, GPU buffers) next to the
 * downloaded file, so a second load can skip repacking. Backends do not use it yet; the engine hands
 * one `RepackCache` per cached model to whoever wants it, keyed by backend and a variant string that
 * must change whenever the layout changes (e.g. `"tq2-tiles-v3"`).
 *
 * Records: `['repack', modelKey, backend, variant]` → `{ parts: number, bytes: number }` (written last),
 * `['repack', modelKey, backend, variant + '#' + i]` → ArrayBuffer part i.
 */
import type { BackendName } from '../backends/backend.js';
import type { KeyValueStore } from './kv-store.js';
import { repackKey } from './records.js';

export interface RepackCache {
  /** The stored parts, in order, or null when nothing (complete) is stored for this variant. */
  load(backend: BackendName, variant: string): Promise<Uint8Array[] | null>;
  /** Stores the parts; errors (QUOTA_EXCEEDED, STORAGE) propagate so the caller can ignore them. */
  save(backend: BackendName, variant: string, parts: readonly Uint8Array[]): Promise<void>;
  /** Drops every stored variant of a backend. */
  clear(backend: BackendName): Promise<void>;
}

interface RepackHead {
  readonly parts: number;
  readonly bytes: number;
}

export function repackCache(store: KeyValueStore, modelKey: string): RepackCache {
  return {
    async load(backend, variant) {
      const head = await store.get<RepackHead>(repackKey(modelKey, backend, variant));
      if (!head || !Number.isSafeInteger(head.parts)) return null;
      const parts: Uint8Array[] = [];
      for (let i = 0; i < head.parts; i++) {
        const p = await store.get<ArrayBuffer>(repackKey(modelKey, backend, `${variant}#${i}`));
        if (!(p instanceof ArrayBuffer)) return null;
        parts.push(new Uint8Array(p));
      }
      return parts;
    },
    async save(backend, variant, parts) {
      await store.delete([repackKey(modelKey, backend, variant)]);
      let bytes = 0;
      for (let i = 0; i < parts.length; i++) {
        await store.set(repackKey(modelKey, backend, `${variant}#${i}`), parts[i]!.slice().buffer);
        bytes += parts[i]!.length;
      }
      await store.set(repackKey(modelKey, backend, variant), { parts: parts.length, bytes } satisfies RepackHead);
    },
    async clear(backend) {
      const ks = (await store.keys()).filter((k) => Array.isArray(k) && k[0] === 'repack' && k[1] === modelKey && k[2] === backend);
      if (ks.length > 0) await store.delete(ks);
    },
  };
}
