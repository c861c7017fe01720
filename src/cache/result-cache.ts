/**
 * The result cache of one engine: answers to earlier requests of the same model, served before any
 * model work.
 *
 * - `lookup` tries the exact key first (see result-key.ts), then, when asked for `'semantic'`, embeds
 *   the request's semantic text and searches the entries of the same semantic scope by cosine
 *   similarity (vector-index.ts); a match at or above `threshold` is served. Expired, missing or
 *   malformed records found on the way are dropped (counted in `stats().expired / corrupted`) and
 *   the lookup goes on as a miss: the request is then computed again and its answer stored anew.
 * - `save` stores an answer, with the query's embedding when the lookup computed one (requests in
 *   'semantic' mode): embeddings cost a forward pass with the default embedder, so they are only
 *   computed for requests that ask for semantic matching, and only such entries can be found
 *   semantically. Then least-recently-used entries of this model are evicted until `maxEntries` and
 *   `maxBytes` hold. Saves run one at a time; `flush()` waits for them.
 * - Scope: one model identity (result-identity.ts). Limits, TTL, `invalidate` and `list` cover this
 *   model's entries only; `clear()` empties the whole result database (every model).
 * - Storage problems never reach a request: `QUOTA_EXCEEDED` while storing skips that answer and
 *   reports a `RESULT_CACHE_QUOTA` warning, other failures a `RESULT_CACHE_STORAGE` warning (each code
 *   once per cache) and the lookup is a miss. An embedder failure reports `RESULT_CACHE_EMBEDDER` and
 *   the lookup stays exact-only; an aborted `signal` during a lookup rejects with `AbortError`.
 * - Memory: per entry the metadata and the vector stay in memory; the answer text is read from the
 *   store on a hit.
 */
import { isAbortError, isBitNetError } from '../errors.js';
import type { Embedder } from '../embed/embedder.js';
import { displayPrompt, normalizeText, type ResultInput, type ResultQuery } from './result-key.js';
import { RESULT_RECORD_VERSION, isResultRecord, recordBytes, type ResultRecord } from './result-record.js';
import type { ResultStore } from './result-store.js';
import {
  DEFAULT_RESULT_MAX_BYTES, DEFAULT_RESULT_MAX_ENTRIES, DEFAULT_RESULT_TTL_MS, DEFAULT_SEMANTIC_THRESHOLD,
  type ResultAnswer, type ResultCacheConfig, type ResultCacheFilter, type ResultCacheStats, type ResultCacheWarningCode, type ResultEntryInfo, type ResultHit,
} from './result-types.js';
import { VectorIndex, normalized } from './vector-index.js';

export {
  DEFAULT_SEMANTIC_THRESHOLD, DEFAULT_RESULT_TTL_MS, DEFAULT_RESULT_MAX_ENTRIES, DEFAULT_RESULT_MAX_BYTES,
  type ResultCacheWarningCode, type ResultCacheWarning, type ResultCacheConfig, type ResultAnswer, type ResultHit, type ResultEntryInfo, type ResultCacheFilter, type ResultCacheStats,
} from './result-types.js';

interface Meta {
  readonly scope: string | null;
  readonly bytes: number;
  readonly createdAt: number;
  lastUsedAt: number;
  readonly input: ResultInput;
}

export class ResultCache {
  readonly model: string;
  readonly threshold: number;
  private readonly store: ResultStore;
  private readonly embedder: Embedder | null;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private readonly meta = new Map<string, Meta>();
  private readonly indexes = new Map<string, VectorIndex>();
  private bytes = 0;
  private opened: Promise<void> | null = null;
  private serial: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly warned = new Set<string>();
  private closed = false;
  private readonly n = { lookups: 0, exactHits: 0, semanticHits: 0, misses: 0, stores: 0, evictions: 0, expired: 0, corrupted: 0 };

  constructor(private readonly config: ResultCacheConfig) {
    this.model = config.model;
    this.store = config.store;
    this.embedder = config.embedder;
    this.ttlMs = config.ttlMs ?? DEFAULT_RESULT_TTL_MS;
    this.maxEntries = config.maxEntries ?? DEFAULT_RESULT_MAX_ENTRIES;
    this.maxBytes = config.maxBytes ?? DEFAULT_RESULT_MAX_BYTES;
    this.threshold = config.threshold ?? DEFAULT_SEMANTIC_THRESHOLD;
    this.now = config.now ?? Date.now;
  }

  /** The embedder id semantic scopes use; null when there is no embedder. */
  get embedderId(): string | null {
    return this.embedder?.id ?? null;
  }

  /** The cached answer for `q`, or null (see the module comment). @throws AbortError */
  async lookup(q: ResultQuery, mode: 'exact' | 'semantic', signal?: AbortSignal): Promise<ResultHit | null> {
    await this.open();
    const exact = await this.fetchValid(q.key);
    if (exact) return this.hit('exact', 1, exact);
    if (mode === 'semantic' && q.scope !== null) {
      const v = q.vector ?? (await this.embed(q, signal));
      const idx = v ? this.indexes.get(q.scope) : undefined;
      for (let tries = 0; v && idx && idx.dims === v.length && tries < 4; tries++) {
        const m = idx.search(v);
        if (!m || m.score < this.threshold) break;
        const rec = await this.fetchValid(m.id);
        if (rec) return this.hit('semantic', m.score, rec);
        if (idx.has(m.id)) break; // a storage error, not a dropped record: stop here
      }
    }
    this.n.lookups++;
    this.n.misses++;
    return null;
  }

  /** Stores `answer` for `q` in the background; never rejects. */
  save(q: ResultQuery, answer: ResultAnswer): Promise<void> {
    return this.track(this.queue(() => this.saveNow(q, answer)).catch(() => undefined));
  }

  /** Removes this model's entries matching `filter`; returns how many. */
  invalidate(filter: ResultCacheFilter = {}): Promise<number> {
    return this.queue(async () => {
      // Re-read, so entries another tab or engine wrote are included.
      this.opened = this.load();
      await this.opened;
      const drop = [...this.infos()].filter((e) => {
        if (filter.prompt !== undefined && (e.prompt === null || normalizeText(e.prompt) !== normalizeText(filter.prompt))) return false;
        if (filter.createdBefore !== undefined && !(e.createdAt < filter.createdBefore)) return false;
        return !filter.where || filter.where(e);
      });
      await this.remove(drop.map((e) => e.key));
      return drop.length;
    });
  }

  /** Empties the whole result database (every model's entries). @throws BitNetError QUOTA_EXCEEDED / STORAGE */
  clear(): Promise<void> {
    return this.queue(async () => {
      await this.open();
      await this.store.clear();
      this.meta.clear();
      this.indexes.clear();
      this.bytes = 0;
    });
  }

  /** This model's entries, most recently used first. */
  async list(): Promise<ResultEntryInfo[]> {
    await this.open();
    return [...this.infos()].sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  /** Removes one entry by key; returns whether it existed. */
  delete(key: string): Promise<boolean> {
    return this.queue(async () => {
      await this.open();
      const had = this.meta.has(key);
      await this.remove([key]);
      return had;
    });
  }

  async stats(): Promise<ResultCacheStats> {
    await this.open();
    return this.statsNow();
  }

  /** Counters and sizes as known now (without waiting for the first load). */
  statsNow(): ResultCacheStats {
    const n = this.n;
    const rate = (x: number): number => (n.lookups > 0 ? x / n.lookups : 0);
    return { model: this.model, persistent: this.store.persistent, entries: this.meta.size, bytes: this.bytes, ...n, exactHitRate: rate(n.exactHits), semanticHitRate: rate(n.semanticHits) };
  }

  /** Waits until every background save and touch has finished. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops storing new answers and waits for the ones in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private hit(cached: 'exact' | 'semantic', similarity: number, rec: ResultRecord): ResultHit {
    this.n.lookups++;
    if (cached === 'exact') this.n.exactHits++;
    else this.n.semanticHits++;
    const t = this.now();
    const m = this.meta.get(rec.key);
    if (m) m.lastUsedAt = t;
    const touched: ResultRecord = { ...rec, lastUsedAt: t };
    this.track(this.store.put(this.model, rec.key, touched).catch(() => undefined));
    return { cached, similarity, record: touched };
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  private queue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn);
    this.serial = run.then(() => undefined, () => undefined);
    return run;
  }

  private open(): Promise<void> {
    return (this.opened ??= this.load());
  }

  /** (Re)reads this model's records, dropping malformed and expired ones, then applies the limits. */
  private async load(): Promise<void> {
    let rows: Array<[string, unknown]>;
    try {
      rows = await this.store.list(this.model);
    } catch (e) {
      this.storageWarning(e);
      return;
    }
    this.meta.clear();
    this.indexes.clear();
    this.bytes = 0;
    const drop: string[] = [];
    for (const [k, v] of rows) {
      if (!this.valid(v, k)) {
        this.n.corrupted++;
        drop.push(k);
      } else if (this.expired(v)) {
        this.n.expired++;
        drop.push(k);
      } else this.remember(v);
    }
    if (drop.length > 0) await this.store.delete(this.model, drop).catch((e: unknown) => this.storageWarning(e));
    await this.evict();
  }

  private valid(v: unknown, key: string): v is ResultRecord {
    return isResultRecord(v) && v.key === key && v.model === this.model;
  }

  private expired(r: { createdAt: number }): boolean {
    return this.now() - r.createdAt >= this.ttlMs;
  }

  /** Reads and checks one record; drops it when missing, malformed or expired. */
  private async fetchValid(key: string): Promise<ResultRecord | null> {
    const known = this.meta.has(key);
    if (!known && !this.store.persistent) return null;
    let v: unknown;
    try {
      v = await this.store.get(this.model, key);
    } catch (e) {
      this.storageWarning(e);
      return null;
    }
    if (v === undefined) {
      this.forget(key);
      return null;
    }
    const bad = !this.valid(v, key);
    if (bad || this.expired(v as ResultRecord)) {
      if (bad) this.n.corrupted++;
      else this.n.expired++;
      this.forget(key);
      this.track(this.store.delete(this.model, [key]).catch(() => undefined));
      return null;
    }
    if (!known) this.remember(v as ResultRecord); // written by another tab or engine
    return v as ResultRecord;
  }

  private remember(r: ResultRecord): void {
    this.forget(r.key);
    this.meta.set(r.key, { scope: r.scope, bytes: r.bytes, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, input: r.input });
    this.bytes += r.bytes;
    if (r.vector && r.scope !== null) {
      let idx = this.indexes.get(r.scope);
      if (!idx) this.indexes.set(r.scope, (idx = new VectorIndex(r.vector.length)));
      if (idx.dims === r.vector.length) idx.add(r.key, r.vector);
    }
  }

  private forget(key: string): void {
    const m = this.meta.get(key);
    if (!m) return;
    this.meta.delete(key);
    this.bytes -= m.bytes;
    if (m.scope !== null) this.indexes.get(m.scope)?.remove(key);
  }

  private async remove(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    for (const k of keys) this.forget(k);
    await this.store.delete(this.model, keys).catch((e: unknown) => this.storageWarning(e));
  }

  private *infos(): Iterable<ResultEntryInfo> {
    for (const [key, m] of this.meta) {
      yield { key, prompt: displayPrompt(m.input), input: m.input, createdAt: m.createdAt, lastUsedAt: m.lastUsedAt, bytes: m.bytes, semantic: m.scope !== null && (this.indexes.get(m.scope)?.has(key) ?? false) };
    }
  }

  /** Expired entries, then least recently used ones until the limits hold. */
  private async evict(): Promise<void> {
    const drop: string[] = [];
    for (const [k, m] of this.meta) if (this.expired(m)) drop.push(k);
    this.n.expired += drop.length;
    const gone = new Set(drop);
    let count = this.meta.size - drop.length;
    let bytes = this.bytes;
    for (const k of drop) bytes -= this.meta.get(k)!.bytes;
    // Sorting (O(n log n)) only when a limit is exceeded; the common save costs O(n) for the TTL scan.
    const live = count <= this.maxEntries && bytes <= this.maxBytes ? [] : [...this.meta].filter(([k]) => !gone.has(k)).sort((a, b) => a[1].lastUsedAt - b[1].lastUsedAt);
    for (const [k, m] of live) {
      if (count <= this.maxEntries && bytes <= this.maxBytes) break;
      drop.push(k);
      count--;
      bytes -= m.bytes;
      this.n.evictions++;
    }
    await this.remove(drop);
  }

  /** The query's embedding (normalised, cached on the query); null when the embedder fails. @throws AbortError */
  private async embed(q: ResultQuery, signal?: AbortSignal): Promise<Float32Array | null> {
    if (!this.embedder || q.semanticText === null) return null;
    try {
      const [v] = await this.embedder.embed([q.semanticText], signal);
      if (!(v instanceof Float32Array) || v.length === 0 || !v.every(Number.isFinite)) throw new Error('the embedder returned no usable vector');
      q.vector = normalized(v);
      return q.vector;
    } catch (e) {
      if (isAbortError(e)) throw e;
      this.warnOnce('RESULT_CACHE_EMBEDDER', `result cache: embedder ${this.embedder.id} failed (${(e as Error)?.message ?? String(e)}); semantic lookups are skipped`, { embedder: this.embedder.id });
      return null;
    }
  }

  private async saveNow(q: ResultQuery, a: ResultAnswer): Promise<void> {
    await this.open();
    if (this.closed) return;
    const vector = q.scope !== null ? q.vector : null;
    const t = this.now();
    const base = {
      v: RESULT_RECORD_VERSION,
      model: this.model,
      key: q.key,
      scope: vector ? q.scope : null,
      embedder: vector ? q.embedderId : null,
      vector,
      input: q.input,
      pieces: a.pieces.map((p) => p.text),
      pieceTokens: a.pieces.map((p) => p.tokenIds.length),
      tokenIds: a.pieces.flatMap((p) => [...p.tokenIds]),
      promptTokens: a.promptTokens,
      finishReason: a.finishReason,
      seed: a.seed,
      createdAt: t,
      lastUsedAt: t,
    } as const;
    const rec: ResultRecord = { ...base, bytes: recordBytes(base) };
    if (rec.bytes > this.maxBytes) return;
    try {
      await this.store.put(this.model, rec.key, rec);
    } catch (e) {
      this.storageWarning(e);
      return;
    }
    this.n.stores++;
    this.remember(rec);
    await this.evict();
  }

  private storageWarning(e: unknown): void {
    const msg = (e as Error)?.message ?? String(e);
    if (isBitNetError(e, 'QUOTA_EXCEEDED')) this.warnOnce('RESULT_CACHE_QUOTA', `result cache: storage is full, answers are not cached (${msg})`);
    else this.warnOnce('RESULT_CACHE_STORAGE', `result cache: storage failed, lookups miss and answers may not be cached (${msg})`);
  }

  private warnOnce(code: ResultCacheWarningCode, message: string, details?: Record<string, unknown>): void {
    if (this.warned.has(code)) return;
    this.warned.add(code);
    this.config.onWarning?.({ code, message, ...(details ? { details } : {}) });
  }
}
