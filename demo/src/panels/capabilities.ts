/**
 * "What runs here" panel: the capability report (from the engine's worker once loaded, from the
 * page before that), the backend the engine chose with the reason for every other candidate,
 * warnings (e.g. threads off without COOP/COEP), and a switch to force WebGPU or wasm.
 */
import { probeCapabilities, type BackendChoice, type CapabilityReport } from 'bitnet-web';
import { $, dl, formatBytes, h, replace } from '../dom.js';
import type { EngineHost, HostState } from '../engine-host.js';

const yesNo = (v: boolean | null | undefined): string => (v === null || v === undefined ? 'unknown' : v ? 'yes' : 'no');

export class CapabilitiesPanel {
  private readonly report = $('#capabilities');
  private readonly selection = $('#selection');
  private readonly warnings = $('#warnings');
  private pageProbe: CapabilityReport | null = null;
  private probing = false;

  constructor(private readonly host: EngineHost, initial: BackendChoice, onSwitch: (b: BackendChoice) => void) {
    const form = $('#backend-form') as HTMLFormElement;
    const radio = form.querySelector<HTMLInputElement>(`input[name=backend][value=${initial}]`);
    if (radio) radio.checked = true;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = (new FormData(form).get('backend') as string | null) ?? 'auto';
      onSwitch(v as BackendChoice);
    });
    host.subscribe((s) => {
      // The engine reports what its worker can do; the page probes itself only when there is no
      // engine report to show (nothing loaded, or loading failed), since asking for a GPU adapter
      // is not free.
      if ((s.status === 'idle' || s.status === 'error') && !this.probing) {
        setTimeout(() => {
          const now = this.host.state.status;
          if (this.probing || (now !== 'idle' && now !== 'error')) return;
          this.probing = true;
          void probeCapabilities({ gpuTimeoutMs: 10_000 }).then((r) => {
            this.pageProbe = r;
            this.update(this.host.state);
          });
        }, 0);
      }
      this.update(s);
    });
  }

  private update(s: HostState): void {
    const probe = s.engine?.probe ?? this.pageProbe;
    replace(this.report, probe ? renderReport(probe, s.engine ? 'engine worker' : 'page') : h('p', { class: 'muted' }, s.status === 'loading' ? 'the engine probes while it loads…' : 'probing…'));
    this.report.dataset.source = s.engine ? 'engine' : 'page';
    const e = s.engine;
    if (e) {
      const sel = e.selection;
      this.selection.dataset.backend = e.backend;
      const rows = sel.candidates.map((c) =>
        h('tr', { 'data-candidate': c.name, 'data-status': c.status }, h('td', {}, c.name), h('td', {}, h('span', { class: `badge ${c.status}` }, c.status)), h('td', {}, c.reason ?? (c.status === 'chosen' ? sel.description : ''))),
      );
      replace(
        this.selection,
        h('p', { class: 'chosen' }, 'Running on ', h('strong', { id: 'chosen-backend' }, e.backend), ` (requested: ${sel.requested})`),
        h('p', { class: 'muted' }, sel.description),
        h('table', { class: 'candidates' }, h('thead', {}, h('tr', {}, h('th', {}, 'backend'), h('th', {}, 'status'), h('th', {}, 'why'))), h('tbody', {}, ...rows)),
        sel.handoffs.length > 0 ? h('ul', { class: 'handoffs' }, ...sel.handoffs.map((x) => h('li', {}, `${x.from} → ${x.to}: ${x.reason}`))) : null,
      );
    } else {
      delete this.selection.dataset.backend;
      replace(this.selection, h('p', { class: 'muted' }, s.status === 'loading' ? 'choosing a backend…' : 'no engine loaded'));
    }
    replace(this.warnings, ...s.warnings.map((w) => h('li', { class: 'warning', 'data-code': w.code }, `${w.code}: ${w.message}`)));
  }
}

function renderReport(r: CapabilityReport, where: string): HTMLElement {
  const a = r.webgpu.adapter;
  const gpu = r.webgpu.available && a
    ? `${a.vendor || 'unknown vendor'} ${a.architecture || ''} ${a.description || a.device || ''}`.replace(/\s+/g, ' ').trim() + (a.isFallbackAdapter ? ' (software / fallback adapter)' : '')
    : `unavailable — ${r.webgpu.reason ?? 'unknown reason'}`;
  const feats = a ? [a.shaderF16 ? 'shader-f16' : null, a.subgroups ? 'subgroups' : null, a.packedDot ? 'packed dot4' : null, a.timestampQuery ? 'timestamp-query' : null].filter(Boolean).join(', ') || 'none of interest' : '—';
  const box = h(
    'div',
    {},
    h('p', { class: 'muted' }, `probed in the ${where} in ${r.probeMs} ms`),
    dl([
      ['WebGPU', h('span', { id: 'cap-webgpu', 'data-available': String(r.webgpu.available) }, gpu)],
      ['GPU features', feats],
      ['max buffer', a ? formatBytes(a.limits.maxStorageBufferBindingSize ?? null) : '—'],
      ['wasm SIMD', yesNo(r.wasm.simd)],
      ['relaxed SIMD', yesNo(r.wasm.relaxedSimd)],
      ['cross-origin isolated', h('span', { id: 'cap-coi', 'data-value': String(r.threads.crossOriginIsolated) }, yesNo(r.threads.crossOriginIsolated))],
      ['wasm threads', h('span', { id: 'cap-threads', 'data-usable': String(r.threads.usable) }, r.threads.usable ? 'usable' : `off — ${r.threads.reason ?? ''}`)],
      ['cores', String(r.cores.logical ?? 'unknown')],
      ['memory', r.memory.deviceMemoryGiB !== null ? `≥ ${r.memory.deviceMemoryGiB} GiB device, JS heap limit ${formatBytes(r.memory.jsHeapLimitBytes)}` : formatBytes(r.memory.jsHeapLimitBytes)],
    ]),
  );
  return box;
}
