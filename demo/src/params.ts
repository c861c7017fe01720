/**
 * Demo settings read from the page URL, so a link (or a test) can reproduce any state:
 *
 * | param       | meaning                                                      |
 * |-------------|--------------------------------------------------------------|
 * | `backend`   | `auto` (default), `webgpu`, `wasm` or `reference`            |
 * | `model`     | GGUF URL to load instead of the embedded default model       |
 * | `chunk`     | download chunk size in bytes (cache.chunkSize)               |
 * | `retries`   | download retries per chunk (cache.retries)                   |
 * | `cache=0`   | do not use the IndexedDB model cache                         |
 * | `autoload=0`| wait for the "Load" button instead of loading at start       |
 * | `max`       | default max tokens per answer                                |
 * | `temp`      | default temperature (0 = greedy, the default)                |
 * | `coi=0`     | served without COOP/COEP by the demo servers (threads off)   |
 */
import type { BackendChoice } from 'bitnet-web';

export interface DemoParams {
  readonly backend: BackendChoice;
  readonly model: string | null;
  readonly chunkSize: number | null;
  readonly retries: number | null;
  readonly cache: boolean;
  readonly autoload: boolean;
  readonly maxTokens: number;
  readonly temperature: number;
}

const BACKENDS: readonly string[] = ['auto', 'webgpu', 'wasm', 'reference'];

function int(v: string | null): number | null {
  if (v === null || v === '') return null;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

export function readParams(search: string = location.search): DemoParams {
  const q = new URLSearchParams(search);
  const b = q.get('backend') ?? 'auto';
  const temp = Number(q.get('temp') ?? '0');
  return {
    backend: (BACKENDS.includes(b) ? b : 'auto') as BackendChoice,
    model: q.get('model') || null,
    chunkSize: int(q.get('chunk')),
    retries: int(q.get('retries')),
    cache: q.get('cache') !== '0',
    autoload: q.get('autoload') !== '0',
    maxTokens: int(q.get('max')) ?? 32,
    temperature: Number.isFinite(temp) && temp >= 0 ? temp : 0,
  };
}

/** The current URL with some parameters changed (null removes one). */
export function withParams(changes: Record<string, string | null>): string {
  const u = new URL(location.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) u.searchParams.delete(k);
    else u.searchParams.set(k, v);
  }
  return u.href;
}
