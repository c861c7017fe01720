import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Backend, BackendFactory, BackendName, ForwardItem, ForwardOptions } from '../src/backends/backend.js';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { listBackendFactories, registerBackendFactory, unregisterBackendFactory } from '../src/backends/registry.js';
import { BitNetError } from '../src/errors.js';
import { makeFixture } from '../src/model/fixtures.js';
import { bufferSource } from '../src/model/byte-source.js';
import type { ModelWeights } from '../src/model/tensor.js';
import type { CapabilityReport } from '../src/probe/index.js';
import { candidateOrder, selectBackend } from '../src/worker/select-backend.js';
import { loadGGUFModel } from '../src/worker/model-loader.js';
import { createEngine, type EngineWarning } from '../src/index.js';

let fixture: Uint8Array;
let weights: ModelWeights;

// The engine registers the real wasm / WebGPU factories; these tests install fakes in their place.
let shipped: BackendFactory[] = [];
beforeAll(async () => {
  await import('../src/worker/backends.js');
  shipped = listBackendFactories().filter((f) => f.name !== 'reference');
  for (const f of shipped) unregisterBackendFactory(f.name);
  fixture = await makeFixture({ seed: 3, nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 320, contextLength: 64 });
  weights = (await loadGGUFModel(bufferSource(fixture), { onWarning: () => undefined })).weights;
});

afterAll(() => {
  for (const f of shipped) registerBackendFactory(f);
});

const registered: BackendName[] = [];
afterEach(() => {
  for (const n of registered.splice(0)) unregisterBackendFactory(n);
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** A factory backed by the reference backend, or failing / unavailable on demand. */
function fake(name: BackendName, priority: number, o: { unavailable?: string; fail?: Error; wrap?: (b: Backend) => Backend } = {}): BackendFactory & { created: number } {
  const f = {
    name,
    priority,
    created: 0,
    unavailableReason: async () => o.unavailable ?? null,
    create: async (w: ModelWeights, opts?: { maxContext?: number }) => {
      if (o.fail) throw o.fail;
      f.created++;
      const b = new ReferenceBackend(w, opts);
      const named = Object.assign(Object.create(b) as Backend, { name, description: `fake ${name}` });
      return o.wrap ? o.wrap(named) : named;
    },
  };
  return f;
}

const probeWith = (fallback: boolean | null): CapabilityReport =>
  ({ webgpu: { available: fallback !== null, reason: null, adapter: fallback === null ? null : { isFallbackAdapter: fallback } } }) as unknown as CapabilityReport;

describe('backend selection', () => {
  it('orders by priority and demotes a software WebGPU adapter below wasm unless allowed', () => {
    const fs = [fake('reference', 0), fake('webgpu', 30), fake('wasm', 20)];
    expect(candidateOrder(fs, probeWith(false)).order.map((f) => f.name)).toEqual(['webgpu', 'wasm', 'reference']);
    expect(candidateOrder(fs, probeWith(true)).order.map((f) => f.name)).toEqual(['wasm', 'webgpu', 'reference']);
    expect(candidateOrder(fs, probeWith(true), true).order.map((f) => f.name)).toEqual(['webgpu', 'wasm', 'reference']);
  });

  it('auto: skips unavailable backends, keeps the error of one that fails, and falls through', async () => {
    const failures: string[] = [];
    const { backend, selection } = await selectBackend(weights, {
      choice: 'auto',
      factories: [fake('webgpu', 30, { unavailable: 'navigator.gpu is missing' }), fake('wasm', 20, { fail: new BitNetError('OUT_OF_MEMORY', 'wasm memory could not grow') }), fake('reference', 0)],
      probe: probeWith(null),
      onFailure: (n) => failures.push(n),
    });
    expect(backend.name).toBe('reference');
    expect(selection.chosen).toBe('reference');
    expect(selection.candidates).toEqual([
      { name: 'webgpu', priority: 30, status: 'skipped', reason: 'navigator.gpu is missing', error: null },
      { name: 'wasm', priority: 20, status: 'failed', reason: 'initialisation failed: wasm memory could not grow', error: expect.objectContaining({ name: 'BitNetError', code: 'OUT_OF_MEMORY' }) },
      { name: 'reference', priority: 0, status: 'chosen', reason: null, error: null },
    ]);
    expect(failures).toEqual(['wasm']);
    expect(structuredClone(selection)).toEqual(selection);
  });

  it('auto with only a fallback adapter picks wasm and says why WebGPU was not used', async () => {
    const gpu = fake('webgpu', 30);
    const { selection } = await selectBackend(weights, { choice: 'auto', factories: [gpu, fake('wasm', 20), fake('reference', 0)], probe: probeWith(true) });
    expect(selection.chosen).toBe('wasm');
    expect(gpu.created).toBe(0);
    const w = selection.candidates.find((c) => c.name === 'webgpu')!;
    expect(w.status).toBe('untried');
    expect(w.reason).toMatch(/software \(fallback\) WebGPU adapter.*allowFallbackAdapter/);
    // Asked for explicitly, the software adapter is used.
    const named = await selectBackend(weights, { choice: 'webgpu', factories: [gpu, fake('wasm', 20)], probe: probeWith(true) });
    expect(named.selection.chosen).toBe('webgpu');
    expect(named.selection.candidates.find((c) => c.name === 'wasm')!.reason).toBe("backend 'webgpu' was requested");
  });

  it('a named backend never falls back silently', async () => {
    const fs = [fake('wasm', 20, { fail: new Error('no SIMD') }), fake('webgpu', 30, { unavailable: 'no adapter' }), fake('reference', 0)];
    await expect(selectBackend(weights, { choice: 'wasm', factories: fs, probe: null })).rejects.toMatchObject({ code: 'BACKEND_FAILED', message: expect.stringMatching(/no SIMD/) });
    await expect(selectBackend(weights, { choice: 'webgpu', factories: fs, probe: null })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/no adapter/) });
    await expect(selectBackend(weights, { choice: 'webgpu', factories: [fake('reference', 0)], probe: null })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/not registered/) });
  });
});

describe('engine-level selection, warnings and device loss', () => {
  it('engine.selection records a failed backend and warns once', async () => {
    registerBackendFactory(fake('wasm', 20, { fail: new BitNetError('BACKEND_FAILED', 'kernels missing') }));
    registered.push('wasm');
    const warnings: EngineWarning[] = [];
    const e = await createEngine({ model: fixture, worker: false, onWarning: (w) => warnings.push(w) });
    try {
      expect(e.backend).toBe('reference');
      expect(e.selection.candidates.find((c) => c.name === 'wasm')).toMatchObject({ status: 'failed', error: { code: 'BACKEND_FAILED', message: 'kernels missing' } });
      expect(warnings.map((w) => w.code)).toEqual(['BACKEND_FAILED']);
      expect(e.warnings.map((w) => w.code)).toEqual(['BACKEND_FAILED']);
    } finally {
      await e.dispose();
    }
  });

  it('one console warning naming COOP/COEP when threads are off for lack of cross-origin isolation', async () => {
    registerBackendFactory(fake('wasm', 20));
    registered.push('wasm');
    vi.stubGlobal('window', {});
    vi.stubGlobal('document', {});
    vi.stubGlobal('crossOriginIsolated', false);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const a = await createEngine({ model: fixture, worker: false });
    const b = await createEngine({ model: fixture, worker: false });
    expect(a.backend).toBe('wasm');
    expect(a.warnings.map((w) => w.code)).toEqual(['THREADS_DISABLED']);
    const threadWarnings = warn.mock.calls.filter((c) => String(c[0]).includes('Cross-Origin-Opener-Policy'));
    expect(threadWarnings).toHaveLength(1);
    expect(String(threadWarnings[0]![0])).toContain('Cross-Origin-Embedder-Policy');
    await a.dispose();
    await b.dispose();
  });

  /** Wraps a backend so forward throws DEVICE_LOST at call `n` or a device-lost event can be fired. */
  function losing(n: number, hooks: { fire?: (info: unknown) => void }): (b: Backend) => Backend {
    return (b) => {
      let calls = 0;
      const forward = b.forward.bind(b);
      return Object.assign(b, {
        forward: async (items: readonly ForwardItem[], o?: ForwardOptions) => {
          if (++calls === n) throw new BitNetError('DEVICE_LOST', 'GPU device was lost (test)');
          return forward(items, o);
        },
        onDeviceLost: (cb: (info: unknown) => void) => {
          hooks.fire = cb;
        },
      });
    };
  }

  it('moves in-flight requests to the next backend when the device is lost mid-generation', async () => {
    const reference = await createEngine({ model: fixture, worker: false, backend: 'reference' });
    const prompts = ['Once upon a time', 'Hello, world', 'The quick brown fox'];
    const expected = await Promise.all(prompts.map((p) => reference.generate(p, { maxTokens: 10, temperature: 0 }).text()));
    await reference.dispose();

    registerBackendFactory(fake('wasm', 20, { wrap: losing(4, {}) }));
    registered.push('wasm');
    const warnings: EngineWarning[] = [];
    const e = await createEngine({ model: fixture, worker: false, onWarning: (w) => warnings.push(w) });
    try {
      expect(e.backend).toBe('wasm');
      const streams = prompts.map((p) => e.generate(p, { maxTokens: 10, temperature: 0 }));
      const texts = await Promise.all(streams.map((s) => s.text()));
      expect(texts).toEqual(expected);
      expect(e.backend).toBe('reference');
      expect((await streams[0]!.stats).backend).toBe('reference');
      expect(e.selection.handoffs).toEqual([expect.objectContaining({ from: 'wasm', to: 'reference', reason: 'GPU device was lost (test)' })]);
      expect(warnings.map((w) => w.code)).toEqual(['DEVICE_LOST']);
      expect((await e.metrics()).handoffs).toBe(1);
    } finally {
      await e.dispose();
    }
  });

  it('a device-lost event between requests also switches backends before the next one', async () => {
    const hooks: { fire?: (info: unknown) => void } = {};
    registerBackendFactory(fake('wasm', 20, { wrap: losing(-1, hooks) }));
    registered.push('wasm');
    // resultCache off: the repeated request must reach the engine core to notice the lost device.
    const e = await createEngine({ model: fixture, worker: false, resultCache: false, onWarning: () => undefined });
    try {
      expect(e.backend).toBe('wasm');
      const before = await e.generate('Hello', { maxTokens: 4, temperature: 0 }).text();
      hooks.fire!({ reason: 'unknown', message: 'driver reset' });
      const after = await e.generate('Hello', { maxTokens: 4, temperature: 0 }).text();
      expect(after).toBe(before);
      expect(e.backend).toBe('reference');
      expect(e.selection.handoffs[0]!.reason).toMatch(/driver reset/);
    } finally {
      await e.dispose();
    }
  });

  it('the registry used by the engine is the shared one', () => {
    expect(listBackendFactories().map((f) => f.name)).toContain('reference');
  });
});
