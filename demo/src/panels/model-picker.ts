/**
 * Model picker and load progress: the embedded default model, any GGUF by URL (e.g. the Hugging
 * Face URL of bitnet-b1.58-2B-4T) or a local file, and a progress bar that follows the engine's
 * typed progress events phase by phase (download → verify → repack → upload → ready).
 */
import type { LoadProgress } from 'bitnet-web';
import { $, dl, formatBytes, formatMs, h, replace, setText } from '../dom.js';
import type { EngineHost, HostState } from '../engine-host.js';
import { errorText } from './chat.js';

export const HF_2B_URL = 'https://huggingface.co/microsoft/bitnet-b1.58-2B-4T-gguf/resolve/main/ggml-model-i2_s.gguf';
const PHASES = ['download', 'verify', 'repack', 'upload', 'ready'] as const;

export interface ModelChoice {
  /** null = embedded default; a URL string; or a local File. */
  readonly model: string | File | null;
}

export class ModelPicker {
  private readonly bar = $('#load-progress') as HTMLProgressElement;
  private readonly label = $('#load-label');
  private readonly phases = $('#load-phases');
  private readonly info = $('#model-info');
  private readonly urlInput = $('#model-url') as HTMLInputElement;
  private readonly seen = new Set<string>();

  constructor(private readonly host: EngineHost, initialUrl: string | null, onLoad: (c: ModelChoice) => void) {
    const form = $('#model-form') as HTMLFormElement;
    const fileInput = $('#model-file') as HTMLInputElement;
    if (initialUrl) {
      this.urlInput.value = initialUrl;
      (form.querySelector('input[value=url]') as HTMLInputElement).checked = true;
    }
    $('#suggest-2b').addEventListener('click', () => {
      this.urlInput.value = HF_2B_URL;
      (form.querySelector('input[value=url]') as HTMLInputElement).checked = true;
    });
    this.urlInput.addEventListener('input', () => ((form.querySelector('input[value=url]') as HTMLInputElement).checked = true));
    fileInput.addEventListener('change', () => ((form.querySelector('input[value=file]') as HTMLInputElement).checked = true));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const which = new FormData(form).get('source');
      if (which === 'url' && this.urlInput.value.trim()) onLoad({ model: this.urlInput.value.trim() });
      else if (which === 'file' && fileInput.files?.[0]) onLoad({ model: fileInput.files[0] });
      else onLoad({ model: null });
    });
    $('#unload').addEventListener('click', () => void host.unload());
    replace(this.phases, ...PHASES.map((p) => h('li', { 'data-phase': p }, p)));
    host.subscribe((s) => this.update(s));
  }

  private update(s: HostState): void {
    const root = $('#model-panel');
    root.dataset.status = s.status;
    if (s.status === 'loading' && !s.progress) this.seen.clear();
    const p = s.progress;
    if (p) this.seen.add(p.phase);
    for (const li of this.phases.querySelectorAll<HTMLElement>('li')) {
      const ph = li.dataset.phase!;
      li.className = p?.phase === ph ? (s.status === 'error' ? 'failed' : 'current') : this.seen.has(ph) ? 'past' : '';
    }
    if (s.status !== 'error') delete this.bar.dataset.error;
    if (s.status === 'loading') {
      this.bar.value = p ? p.fraction : 0;
      this.bar.removeAttribute('data-done');
      setText(this.label, p ? progressText(p, s.downloadRate) : 'starting the engine worker…');
    } else if (s.status === 'ready') {
      this.bar.value = 1;
      this.bar.dataset.done = '1';
      setText(this.label, `ready in ${formatMs(s.loadMs)}`);
    } else if (s.status === 'error') {
      this.bar.dataset.error = '1';
      setText(this.label, `failed: ${errorText(s.error)}`);
    } else {
      this.bar.value = 0;
      setText(this.label, 'no model loaded');
    }
    this.label.dataset.phase = p?.phase ?? s.status;
    const m = s.engine?.model;
    replace(
      this.info,
      m
        ? dl([
            ['name', m.name],
            ['from', `${m.source}: ${m.location}`],
            ['size', formatBytes(m.sizeBytes)],
            ['architecture', `${m.architecture}, ${m.nLayer} layers, width ${m.nEmbd}, vocab ${m.vocabSize}`],
            ['context', `${m.maxContext} of ${m.contextLength}`],
            ['chat format', m.chatFormat],
            ['cache', cacheLine(m.cacheKey !== null, m.cached, s.networkBytes)],
            ['fingerprint', m.fingerprint ? m.fingerprint.slice(0, 16) + '…' : '—'],
          ])
        : null,
    );
  }
}

function progressText(p: LoadProgress, rate: number | null): string {
  const pct = `${(p.fraction * 100).toFixed(0)}%`;
  switch (p.phase) {
    case 'download': {
      const cached = p.cached > 0 ? `, ${formatBytes(p.cached)} already cached` : '';
      const r = rate !== null && rate > 0 ? `, ${formatBytes(rate)}/s` : '';
      return `downloading ${formatBytes(p.loaded)} of ${formatBytes(p.total)} (${pct}${cached}${r})`;
    }
    case 'verify':
      return `verifying chunks: ${formatBytes(p.loaded)} of ${formatBytes(p.total)} (${pct})`;
    case 'repack':
      return `repacking weights${p.backend ? ` for ${p.backend}` : ''}: ${pct}`;
    case 'upload':
      return `uploading weights to ${p.backend ?? 'the backend'}: ${pct}`;
    case 'ready':
      return `ready on ${p.backend}`;
  }
}

/** Where this load's bytes came from; `data-from` is 'cache' when nothing was downloaded. */
function cacheLine(viaCache: boolean, stored: boolean, networkBytes: number | null): HTMLElement {
  const from = networkBytes === null ? 'unknown' : networkBytes === 0 ? 'cache' : 'network';
  let text: string;
  if (!viaCache) text = `not cached${networkBytes ? ` (${formatBytes(networkBytes)} downloaded)` : ''}`;
  else if (from === 'cache') text = 'loaded from IndexedDB (nothing downloaded)';
  else if (from === 'network') text = `${formatBytes(networkBytes)} downloaded${stored ? ', now stored in IndexedDB' : ''}`;
  else text = stored ? 'stored in IndexedDB' : 'not stored';
  return h('span', { id: 'model-cached', 'data-cached': String(stored), 'data-from': from }, text);
}
