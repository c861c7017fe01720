/**
 * Cache manager: models stored in IndexedDB (list, delete one, clear all; complete or interrupted),
 * the origin's storage use and quota, and the result cache of the engine when it has one
 * (entries, clear). Everything is re-read from storage on each refresh.
 */
import { modelCache, type CachedModelInfo } from 'bitnet-web';
import { $, dl, formatBytes, h, replace } from '../dom.js';
import type { EngineHost } from '../engine-host.js';
import { errorText } from './chat.js';

/** The part of a result cache the demo uses; looked up on the engine without depending on its type. */
interface ResultCacheLike {
  clear(): Promise<void>;
  list?(): Promise<ReadonlyArray<Record<string, unknown>>>;
  delete?(key: string): Promise<unknown>;
  usage?(): Promise<Record<string, unknown>>;
  stats?(): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export function resultCacheOf(engine: unknown): ResultCacheLike | null {
  const e = engine as Record<string, unknown> | null;
  for (const k of ['resultCache', 'results', 'cache']) {
    const c = e?.[k] as ResultCacheLike | undefined;
    if (c && typeof c.clear === 'function') return c;
  }
  return null;
}

export class CacheManager {
  private readonly box = $('#cache-models');
  private readonly usageBox = $('#cache-usage');
  private readonly resultsBox = $('#cache-results');
  private readonly cache = modelCache();

  constructor(private readonly host: EngineHost) {
    $('#cache-refresh').addEventListener('click', () => void this.refresh());
    $('#cache-clear').addEventListener('click', () => void this.clearAll());
    document.addEventListener('bitnet:answer-done', () => void this.renderResults());
    host.subscribe((s) => {
      if (s.status === 'ready' || s.status === 'error' || s.status === 'idle') void this.refresh();
    });
  }

  async refresh(): Promise<void> {
    try {
      const [list, usage] = await Promise.all([this.cache.list(), this.cache.usage()]);
      this.renderModels(list);
      const persisted = usage.persisted === null ? 'unknown' : usage.persisted ? 'yes' : 'no (the browser may evict it)';
      replace(
        this.usageBox,
        dl([
          ['models', h('span', { id: 'cache-model-bytes', 'data-bytes': String(usage.models) }, `${formatBytes(usage.models)} in ${usage.entries} entr${usage.entries === 1 ? 'y' : 'ies'}`)],
          ['origin storage used', formatBytes(usage.usage)],
          ['quota', formatBytes(usage.quota)],
          ['persistent', persisted],
        ]),
      );
    } catch (e) {
      replace(this.box, h('p', { class: 'error' }, `cannot read the model cache: ${errorText(e)}`));
    }
    await this.renderResults();
    $('#cache-panel').dataset.refreshed = String(Date.now());
  }

  private renderModels(list: CachedModelInfo[]): void {
    if (list.length === 0) {
      replace(this.box, h('p', { class: 'muted', id: 'cache-empty' }, 'no models stored'));
      return;
    }
    const rows = list.map((m) => {
      const del = h('button', { type: 'button', class: 'small' }, 'Delete');
      del.addEventListener('click', () => void this.cache.delete(m.key).then(() => this.refresh()));
      const state = m.complete ? 'complete' : `partial (${Math.floor((100 * m.storedBytes) / Math.max(1, m.size))}%)`;
      return h(
        'tr',
        { 'data-key': m.key, 'data-complete': String(m.complete) },
        h('td', { class: 'url', title: m.url }, shortUrl(m.url)),
        h('td', {}, formatBytes(m.size)),
        h('td', { title: m.complete ? `stored ${formatBytes(m.storedBytes)}` : `${formatBytes(m.storedBytes)} of ${formatBytes(m.size)} stored; the download resumes on the next load` }, state),
        h('td', { title: m.date ? new Date(m.date).toLocaleString() : '' }, m.date ? new Date(m.date).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) : '—'),
        h('td', {}, del),
      );
    });
    replace(this.box, h('table', { class: 'cache-table' }, h('thead', {}, h('tr', {}, h('th', {}, 'model'), h('th', {}, 'size'), h('th', {}, 'state'), h('th', {}, 'date'), h('th', {}, ''))), h('tbody', {}, ...rows)));
  }

  private async renderResults(): Promise<void> {
    const rc = resultCacheOf(this.host.state.engine);
    if (!rc) {
      replace(this.resultsBox, h('p', { class: 'muted' }, this.host.state.engine ? 'this engine has no result cache' : 'load a model to see its result cache'));
      return;
    }
    const clear = h('button', { type: 'button', class: 'small', id: 'results-clear' }, 'Clear results');
    clear.addEventListener('click', () => void rc.clear().then(() => this.renderResults()));
    let summary = 'result cache';
    try {
      const entries = rc.list ? await rc.list() : null;
      const usage = rc.usage ? await rc.usage() : null;
      const parts = [entries ? `${entries.length} entries` : null, usage && typeof usage.bytes === 'number' ? formatBytes(usage.bytes) : null].filter(Boolean);
      if (parts.length) summary = parts.join(', ');
      const items = (entries ?? []).slice(0, 20).map((x) => {
        const prompt = typeof x.prompt === 'string' ? x.prompt : typeof x.key === 'string' ? x.key : JSON.stringify(x).slice(0, 80);
        const li = h('li', {}, prompt.slice(0, 120));
        if (rc.delete && typeof x.key === 'string') {
          const del = h('button', { type: 'button', class: 'small' }, '×');
          del.addEventListener('click', () => void rc.delete!(x.key as string).then(() => this.renderResults()));
          li.appendChild(del);
        }
        return li;
      });
      replace(this.resultsBox, h('p', {}, summary, ' ', clear), items.length ? h('ul', { class: 'results-list' }, ...items) : null);
    } catch (e) {
      replace(this.resultsBox, h('p', { class: 'error' }, `result cache: ${errorText(e)}`), clear);
    }
  }

  private async clearAll(): Promise<void> {
    await this.cache.clear();
    const rc = resultCacheOf(this.host.state.engine);
    if (rc) await rc.clear().catch(() => undefined);
    await this.refresh();
  }
}

function shortUrl(u: string): string {
  try {
    const x = new URL(u);
    return x.host + x.pathname.replace(/^(.{0,20}).*(.{30})$/, '$1…$2');
  } catch {
    return u;
  }
}
