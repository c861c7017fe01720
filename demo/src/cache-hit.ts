/**
 * Reads "served from the result cache" information off a generation result. The result cache
 * (semantic cache issue) marks results with `cached: 'exact' | 'semantic'` plus the similarity and
 * the original prompt; until it lands no result has it and this returns null.
 */

export interface CacheHit {
  readonly kind: string;
  readonly similarity: number | null;
  readonly originalPrompt: string | null;
}

type Loose = Record<string, unknown> | null | undefined;

function fromObject(o: Loose): CacheHit | null {
  if (!o || typeof o !== 'object') return null;
  const c = o.cached;
  if (typeof c === 'string' && c.length > 0) {
    const sim = o.similarity;
    const orig = o.originalPrompt ?? o.cachedPrompt ?? o.original;
    return { kind: c, similarity: typeof sim === 'number' ? sim : null, originalPrompt: typeof orig === 'string' ? orig : null };
  }
  if (c && typeof c === 'object') {
    const x = c as Record<string, unknown>;
    const kind = x.kind ?? x.type ?? x.source;
    if (typeof kind !== 'string') return null;
    const orig = x.originalPrompt ?? x.prompt ?? x.original;
    return { kind, similarity: typeof x.similarity === 'number' ? x.similarity : null, originalPrompt: typeof orig === 'string' ? orig : null };
  }
  return null;
}

/** The first cache marker found on any of the objects (the end event, its stats, a chat chunk...). */
export function cacheHitOf(...objects: unknown[]): CacheHit | null {
  for (const o of objects) {
    const hit = fromObject(o as Loose) ?? fromObject((o as Loose)?.stats as Loose);
    if (hit) return hit;
  }
  return null;
}

export function describeHit(hit: CacheHit): string {
  const sim = hit.similarity !== null ? ` · similarity ${hit.similarity.toFixed(3)}` : '';
  const orig = hit.originalPrompt !== null ? ` · for “${hit.originalPrompt.slice(0, 80)}”` : '';
  return `served from result cache (${hit.kind})${sim}${orig}`;
}
