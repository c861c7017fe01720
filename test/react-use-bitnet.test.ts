// @vitest-environment happy-dom
import { StrictMode, createElement, type ReactNode } from 'react';
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeFixture } from '../src/model/fixtures.js';
import { isAbortError } from '../src/errors.js';
import type { GenerationEvent } from '../src/api/generation.js';

vi.mock('../src/api/engine.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../src/api/engine.js')>();
  return { ...m, createEngine: vi.fn(m.createEngine) };
});

const { createEngine } = await import('../src/api/engine.js');
const { useBitNet } = await import('../src/react/index.js');

let fixture: Uint8Array;
let other: Uint8Array;
beforeAll(async () => {
  fixture = await makeFixture({ seed: 21, nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 320, contextLength: 64 });
  other = await makeFixture({ seed: 22, nLayer: 1, nEmbd: 64, nHead: 2, nHeadKv: 1, nFf: 128, vocab: 320, contextLength: 64 });
});
afterEach(() => {
  cleanup();
  vi.mocked(createEngine).mockClear();
});

const strict = ({ children }: { children: ReactNode }) => createElement(StrictMode, null, children);
/** waitFor options: generous, the test machine can be heavily loaded. */
const SLOW = { timeout: 30_000 };
const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

async function text(it: AsyncIterable<GenerationEvent>): Promise<string> {
  let s = '';
  for await (const e of it) if (!e.done) s += e.text;
  return s;
}

describe('useBitNet', () => {
  it('loads once under React strict mode and exposes status, progress, backend and selection', async () => {
    const { result } = renderHook(() => useBitNet({ model: fixture, backend: 'reference', worker: false }), { wrapper: strict });
    expect(result.current.status).toBe('loading');
    await waitFor(() => expect(result.current.status).toBe('ready'), SLOW);
    await tick();
    expect(vi.mocked(createEngine)).toHaveBeenCalledTimes(1);
    expect(result.current.backend).toBe('reference');
    expect(result.current.selection?.chosen).toBe('reference');
    expect(result.current.progress?.phase).toBe('ready');
    expect(result.current.engine?.disposed).toBe(false);
    expect(result.current.error).toBeNull();
  });

  it('generates and chats through the hook, with status generating → ready', async () => {
    const history: string[] = [];
    const { result } = renderHook(
      () => {
        // resultCache off: the repeats below compare against fresh generations.
        const r = useBitNet({ model: fixture, backend: 'reference', worker: false, resultCache: false });
        if (history.at(-1) !== r.status) history.push(r.status);
        return r;
      },
      { wrapper: strict },
    );
    // Called before the engine is ready: waits for it.
    let out!: Promise<string>;
    act(() => {
      out = text(result.current.generate('Once upon a time', { maxTokens: 5, temperature: 0 }));
    });
    const s = await out;
    await waitFor(() => expect(result.current.status).toBe('ready'), SLOW);
    expect(history).toEqual(['loading', 'generating', 'ready']);
    expect(s).toBe(await result.current.engine!.generate('Once upon a time', { maxTokens: 5, temperature: 0 }).text());
    const c = await result.current.chat({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, temperature: 0 });
    expect(c.object).toBe('chat.completion');
    let streamed = '';
    for await (const ch of await result.current.chat({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, temperature: 0, stream: true })) {
      streamed += ch.choices[0]?.delta.content ?? '';
    }
    expect(streamed).toBe(c.choices[0]!.message.content);
    expect((await result.current.metrics())?.requests.completed).toBeGreaterThanOrEqual(4);
  });

  it('abort() cancels the requests started through the hook; the engine stays ready', async () => {
    const { result } = renderHook(() => useBitNet({ model: fixture, backend: 'reference', worker: false }));
    await waitFor(() => expect(result.current.status).toBe('ready'), SLOW);
    const run = (async () => {
      let n = 0;
      for await (const e of result.current.generate('Once upon a time', { maxTokens: 60 })) {
        if (!e.done && ++n === 2) act(() => result.current.abort());
      }
    })();
    await expect(run).rejects.toSatisfy(isAbortError);
    await waitFor(() => expect(result.current.status).toBe('ready'), SLOW);
    expect(result.current.error).toBeNull();
    expect((await result.current.metrics())!.requests.cancelled).toBe(1);
  });

  it('disposes the engine on unmount and reloads when the model changes', async () => {
    const { result, rerender, unmount } = renderHook((props: { model: Uint8Array }) => useBitNet({ model: props.model, backend: 'reference', worker: false }), {
      initialProps: { model: fixture },
      wrapper: strict,
    });
    await waitFor(() => expect(result.current.status).toBe('ready'), SLOW);
    const first = result.current.engine!;
    rerender({ model: other });
    await waitFor(() => expect(result.current.engine).not.toBe(first), SLOW);
    await waitFor(() => expect(result.current.status).toBe('ready'), SLOW);
    await tick();
    expect(first.disposed).toBe(true);
    const second = result.current.engine!;
    expect(vi.mocked(createEngine)).toHaveBeenCalledTimes(2);
    // A re-render with equal options (new object, same values) keeps the engine.
    rerender({ model: other });
    await tick();
    expect(result.current.engine).toBe(second);
    unmount();
    await tick();
    expect(second.disposed).toBe(true);
  });

  it('reports load errors in `error` / status, and stays idle when disabled', async () => {
    const bad = renderHook(() => useBitNet({ model: fixture, backend: 'reference', worker: false, maxBatch: -1 }));
    await waitFor(() => expect(bad.result.current.status).toBe('error'), SLOW);
    expect(bad.result.current.error).toMatchObject({ code: 'BAD_OPTION' });
    const idle = renderHook(() => useBitNet({ model: fixture, enabled: false }));
    expect(idle.result.current.status).toBe('idle');
    await expect(text(idle.result.current.generate('x'))).rejects.toSatisfy(isAbortError);
    expect(vi.mocked(createEngine)).toHaveBeenCalledTimes(1);
  });
});
