/**
 * Demo entry: wires the engine host to the panels, loads the model named by the URL (the embedded
 * default model unless `?model=`), and exposes `window.bitnetDemo` for the end-to-end tests.
 */
import './style.css';
import type { BackendChoice } from 'bitnet-web';
import { $, setText } from './dom.js';
import { EngineHost, type LoadRequest } from './engine-host.js';
import { MetricsTracker } from './metrics-tracker.js';
import { BatchPanel } from './panels/batch.js';
import { CacheManager } from './panels/cache-manager.js';
import { CapabilitiesPanel } from './panels/capabilities.js';
import { ChatPanel, errorText } from './panels/chat.js';
import { MetricsPanel } from './panels/metrics.js';
import { ModelPicker } from './panels/model-picker.js';
import { readParams, withParams } from './params.js';
import { scriptedStream } from './streams.js';

const params = readParams();
const host = new EngineHost();
const tracker = new MetricsTracker();
let request: LoadRequest = {
  model: params.model,
  backend: params.backend,
  cache: params.cache,
  chunkSize: params.chunkSize,
  retries: params.retries,
};

const load = (patch: Partial<LoadRequest>): Promise<void> => {
  request = { ...request, ...patch };
  const url: Record<string, string | null> = { backend: request.backend === 'auto' ? null : request.backend };
  if (typeof request.model === 'string' || request.model === null) url.model = request.model;
  history.replaceState(null, '', withParams(url));
  return host.load(request);
};

const chat = new ChatPanel(host, tracker, { maxTokens: params.maxTokens, temperature: params.temperature });
new CapabilitiesPanel(host, params.backend, (backend: BackendChoice) => void load({ backend }));
new ModelPicker(host, params.model, (c) => void load({ model: c.model }));
new MetricsPanel(host, tracker);
const cacheManager = new CacheManager(host);
const batch = new BatchPanel(host, tracker);

const status = $('#status');
host.subscribe((s) => {
  document.body.dataset.status = s.status;
  status.dataset.status = s.status;
  const text =
    s.status === 'ready' && s.engine ? `ready · ${s.engine.backend}` : s.status === 'error' ? `error · ${errorText(s.error)}` : s.status === 'loading' ? `loading${s.progress ? ` · ${s.progress.phase}` : ''}` : 'idle';
  setText(status, text);
  status.title = text;
});
const coi = $('#coi-badge');
setText(coi, globalThis.crossOriginIsolated ? 'cross-origin isolated: threads available' : 'not cross-origin isolated: wasm runs single-threaded');
coi.dataset.value = String(globalThis.crossOriginIsolated === true);

/** Test / console hook. Output injected here goes through the same renderer as model output. */
const hook = {
  host,
  chat,
  batch,
  cacheManager,
  params,
  tracker,
  load,
  /** Renders `pieces` as a streamed model answer (to check that output is shown as text). */
  injectOutput: (pieces: readonly string[], prompt = '(test output)') => {
    chat.addMessage('user', prompt);
    return chat.render(scriptedStream(pieces), prompt);
  },
};
(globalThis as unknown as { bitnetDemo: typeof hook }).bitnetDemo = hook;

if (params.autoload) void load({});
