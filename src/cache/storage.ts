/**
 * Browser storage bookkeeping around large downloads: asks for persistent storage (so the browser
 * does not evict a multi-gigabyte model under pressure) and reports the origin's quota and usage.
 * Every call is optional-safe: where `navigator.storage` is missing (Node, old browsers) the answers are null.
 */

export interface StorageReport {
  /** Whether the origin's storage is persistent (null: unknown / unsupported). */
  readonly persisted: boolean | null;
  /** Bytes the origin may use and uses now, from `navigator.storage.estimate()` (null: unsupported). */
  readonly quota: number | null;
  readonly usage: number | null;
}

interface StorageManagerLike {
  persist?: () => Promise<boolean>;
  persisted?: () => Promise<boolean>;
  estimate?: () => Promise<{ quota?: number; usage?: number }>;
}

function storageManager(): StorageManagerLike | null {
  const nav = (globalThis as { navigator?: { storage?: StorageManagerLike } }).navigator;
  return nav?.storage ?? null;
}

/** Requests persistent storage; resolves to the browser's answer (null where unsupported). Never throws. */
export async function requestPersistence(): Promise<boolean | null> {
  const sm = storageManager();
  try {
    if (sm?.persisted && (await sm.persisted())) return true;
    if (sm?.persist) return await sm.persist();
  } catch {
    // Some browsers reject persist() in workers or private modes: treat as not persisted.
    return false;
  }
  return null;
}

/** The origin's storage state. Never throws. */
export async function storageReport(): Promise<StorageReport> {
  const sm = storageManager();
  let persisted: boolean | null = null;
  let quota: number | null = null;
  let usage: number | null = null;
  try {
    if (sm?.persisted) persisted = await sm.persisted();
  } catch {
    persisted = null;
  }
  try {
    const e = sm?.estimate ? await sm.estimate() : undefined;
    if (e) {
      quota = typeof e.quota === 'number' ? e.quota : null;
      usage = typeof e.usage === 'number' ? e.usage : null;
    }
  } catch {
    // unsupported: leave nulls
  }
  return { persisted, quota, usage };
}
