import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend, ForwardItem, ForwardOptions } from '../src/backends/backend.js';
import { ReferenceBackend } from '../src/backends/reference/reference-backend.js';
import { bufferSource } from '../src/model/byte-source.js';
import { makeFixture } from '../src/model/fixtures.js';
import type { ModelWeights } from '../src/model/tensor.js';
import type { Tokenizer } from '../src/model/tokenizer/index.js';
import { BitNetError, isAbortError } from '../src/errors.js';
import { Sampler } from '../src/runtime/sampler.js';
import { Scheduler, type RequestResult, type SchedulerOptions } from '../src/runtime/scheduler.js';
import { PullQueue } from '../src/worker/pull-queue.js';
import { loadGGUFModel } from '../src/worker/model-loader.js';

let weights: ModelWeights;
let tokenizer: Tokenizer;

beforeAll(async () => {
  const bytes = await makeFixture({ seed: 11, nLayer: 2, nEmbd: 128, nHead: 4, nHeadKv: 2, nFf: 256, vocab: 384, contextLength: 128 });
  const loaded = await loadGGUFModel(bufferSource(bytes), { onWarning: () => undefined });
  weights = loaded.weights;
  tokenizer = loaded.model.tokenizer;
});

/** Wraps a backend: records every forward call's items, tracks live sequences, can fail on cue. */
class Spy implements Backend {
  readonly calls: ForwardItem[][] = [];
  readonly live = new Set<number>();
  failAtCall = -1;
  disposed = false;
  constructor(readonly inner: Backend) {}
  get name() { return this.inner.name; }
  get description() { return this.inner.description; }
  get config() { return this.inner.config; }
  createSequence() { const s = this.inner.createSequence(); this.live.add(s); return s; }
  sequenceLength(s: number) { return this.inner.sequenceLength(s); }
  truncateSequence(s: number, n: number) { this.inner.truncateSequence(s, n); }
  freeSequence(s: number) { this.live.delete(s); this.inner.freeSequence(s); }
  async forward(items: readonly ForwardItem[], o?: ForwardOptions) {
    this.calls.push(items.map((it) => ({ seq: it.seq, tokens: Array.from(it.tokens) })));
    if (this.calls.length === this.failAtCall) throw new BitNetError('DEVICE_LOST', 'GPU device lost (test)');
    return this.inner.forward(items, o);
  }
  async dispose() { this.disposed = true; await this.inner.dispose(); }
}

interface Run { ids: number[]; text: string; result: RequestResult }

function submit(s: Scheduler, prompt: string, o: { maxTokens?: number; temperature?: number; seed?: number; stop?: string[] } = {}): { id: number; done: Promise<Run> } {
  const q = new PullQueue(() => s.resume());
  const id = s.submit({
    prompt: tokenizer.encode(prompt, { addBos: true }),
    maxTokens: o.maxTokens ?? 10,
    sampler: new Sampler({ temperature: o.temperature ?? 0, seed: o.seed ?? 1 }),
    stopIds: tokenizer.stopIds,
    stop: o.stop ?? [],
    decoder: tokenizer.createDecoder({ skipSpecial: true }),
    sink: q,
  });
  const done = (async () => {
    const ids: number[] = [];
    let text = '';
    for (;;) {
      const r = await q.pull();
      for (const c of r.chunks) {
        ids.push(...c.tokenIds);
        text += c.text;
      }
      if (r.done) return { ids, text, result: r.result! };
    }
  })();
  return { id, done };
}

const PROMPTS = ['The quick brown fox', 'Once upon a time', 'In the beginning the world', 'Hello, world! How are you'];

async function alone(prompt: string, o: Parameters<typeof submit>[2] = {}): Promise<Run> {
  const s = new Scheduler(new ReferenceBackend(weights), { maxBatch: 1 });
  return submit(s, prompt, o).done;
}

describe('scheduler: continuous batching', () => {
  it('runs every active sequence in ONE forward call per step and matches running each alone (greedy and seeded)', async () => {
    for (const opts of [{ temperature: 0 }, { temperature: 0.9, seed: 42 }]) {
      const solo = [];
      for (const p of PROMPTS) solo.push(await alone(p, { ...opts, maxTokens: 8 }));
      const spy = new Spy(new ReferenceBackend(weights));
      const s = new Scheduler(spy, { maxBatch: 4 });
      const runs = await Promise.all(PROMPTS.map((p) => submit(s, p, { ...opts, maxTokens: 8 }).done));
      for (let i = 0; i < PROMPTS.length; i++) {
        expect(runs[i]!.ids).toEqual(solo[i]!.ids);
        expect(runs[i]!.text).toEqual(solo[i]!.text);
      }
      // First step: four prefill items together; later steps: 1-token decode items for all four.
      expect(spy.calls[0]!.map((it) => it.tokens.length)).toEqual(PROMPTS.map((p) => tokenizer.encode(p, { addBos: true }).length));
      expect(spy.calls[1]!.map((it) => it.tokens.length)).toEqual([1, 1, 1, 1]);
      expect(s.snapshot().batchSizeCounts[4]).toBeGreaterThan(0);
      expect(runs.every((r) => r.result.meanBatch > 1)).toBe(true);
      expect(spy.live.size).toBe(0);
    }
  });

  it('admits at most maxBatch sequences and lets waiting requests join between steps', async () => {
    const spy = new Spy(new ReferenceBackend(weights));
    const s = new Scheduler(spy, { maxBatch: 2 });
    const short = submit(s, PROMPTS[0]!, { maxTokens: 2 });
    const long = submit(s, PROMPTS[1]!, { maxTokens: 6 });
    const late = submit(s, PROMPTS[2]!, { maxTokens: 3 });
    const [a, b, c] = await Promise.all([short.done, long.done, late.done]);
    expect(Math.max(...spy.calls.map((c) => c.length))).toBe(2);
    // The third request joined while the long one was still decoding (a step mixing prefill and decode).
    expect(spy.calls.some((items) => items.length === 2 && items.some((it) => it.tokens.length > 1) && items.some((it) => it.tokens.length === 1))).toBe(true);
    expect(a.ids).toEqual((await alone(PROMPTS[0]!, { maxTokens: 2 })).ids);
    expect(b.ids).toEqual((await alone(PROMPTS[1]!, { maxTokens: 6 })).ids);
    expect(c.ids).toEqual((await alone(PROMPTS[2]!, { maxTokens: 3 })).ids);
  });

  it('splits long prompts into prefill chunks without changing the output', async () => {
    const prompt = PROMPTS.join(' ');
    const spy = new Spy(new ReferenceBackend(weights));
    const s = new Scheduler(spy, { prefillChunk: 5 });
    const r = await submit(s, prompt, { maxTokens: 5 }).done;
    expect(spy.calls[0]![0]!.tokens.length).toBe(5);
    expect(r.ids).toEqual((await alone(prompt, { maxTokens: 5 })).ids);
  });

  it('finishes on length, stop strings and the context limit', async () => {
    const base = await alone(PROMPTS[0]!, { maxTokens: 12 });
    expect(base.result).toMatchObject({ finishReason: 'length', generatedTokens: 12 });
    // A stop string taken from the greedy continuation ends the request before it and never shows it.
    const stop = base.text.slice(3, 6);
    if (stop.length === 3) {
      const r = await alone(PROMPTS[0]!, { maxTokens: 12, stop: [stop] });
      expect(r.result.finishReason).toBe('stop');
      expect(r.text).toBe(base.text.slice(0, base.text.indexOf(stop)));
    }
    const promptLen = tokenizer.encode(PROMPTS[0]!, { addBos: true }).length;
    const s = new Scheduler(new ReferenceBackend(weights, { maxContext: promptLen + 3 }), { maxContext: promptLen + 3 });
    const r = await submit(s, PROMPTS[0]!, { maxTokens: 50 }).done;
    expect(r.result.finishReason).toBe('length');
    expect(r.ids.length).toBe(4); // fills the context, then samples once more from the last position
    expect(() => submit(s, 'x'.repeat(500), {})).toThrowError(/context holds/);
  });
});

describe('scheduler: cancel and failures', () => {
  it('cancel frees the KV sequence at once and leaves the other requests untouched', async () => {
    const spy = new Spy(new ReferenceBackend(weights));
    const s = new Scheduler(spy, { maxBatch: 4 });
    const keep = submit(s, PROMPTS[0]!, { maxTokens: 10 });
    const drop = submit(s, PROMPTS[1]!, { maxTokens: 10 });
    while (spy.calls.length < 3) await new Promise((r) => setImmediate(r));
    s.cancel(drop.id);
    const err = await drop.done.catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(spy.live.size).toBe(1); // only `keep` still holds a sequence
    const kept = await keep.done;
    expect(kept.ids).toEqual((await alone(PROMPTS[0]!, { maxTokens: 10 })).ids);
    expect(spy.live.size).toBe(0);
    expect(s.snapshot()).toMatchObject({ cancelled: 1, completed: 1, active: 0 });
  });

  it('a backend error fails that step\'s requests only; the scheduler keeps serving', async () => {
    const spy = new Spy(new ReferenceBackend(weights));
    const s = new Scheduler(spy);
    let calls = 0;
    const forward = spy.forward.bind(spy);
    spy.forward = async (items, o) => {
      if (++calls === 2) throw new BitNetError('OUT_OF_MEMORY', 'boom');
      return forward(items, o);
    };
    await expect(submit(s, PROMPTS[0]!).done).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    expect(spy.live.size).toBe(0);
    const ok = await submit(s, PROMPTS[0]!, { maxTokens: 4 }).done;
    expect(ok.ids).toEqual((await alone(PROMPTS[0]!, { maxTokens: 4 })).ids);
  });
});

describe('scheduler: device loss', () => {
  const run = async (opts: SchedulerOptions, lose: (s: Scheduler, spy: Spy) => void) => {
    const solo = await Promise.all(PROMPTS.slice(0, 3).map((p) => alone(p, { maxTokens: 8 })));
    const gpu = new Spy(new ReferenceBackend(weights));
    const replacements: Spy[] = [];
    const s = new Scheduler(gpu, {
      maxBatch: 4,
      ...opts,
      replaceBackend: async (lost, error) => {
        expect(lost).toBe(gpu);
        expect((error as BitNetError).code).toBe('DEVICE_LOST');
        const next = new Spy(new ReferenceBackend(weights));
        replacements.push(next);
        return next;
      },
    });
    const reqs = PROMPTS.slice(0, 3).map((p) => submit(s, p, { maxTokens: 8 }));
    lose(s, gpu);
    const runs = await Promise.all(reqs.map((r) => r.done));
    for (let i = 0; i < runs.length; i++) expect(runs[i]!.ids).toEqual(solo[i]!.ids);
    expect(replacements).toHaveLength(1);
    expect(gpu.disposed).toBe(true);
    expect(s.snapshot().handoffs).toBe(1);
    expect(s.backend).toBe(replacements[0]);
    // The new backend re-prefilled prompt + generated tokens of every in-flight request in one step.
    const first = replacements[0]!.calls[0]!;
    expect(first).toHaveLength(3);
    expect(first.every((it) => it.tokens.length > 1)).toBe(true);
    expect(replacements[0]!.live.size).toBe(0);
  };

  it('DEVICE_LOST thrown mid-generation moves every in-flight request to the next backend', async () => {
    await run({}, (_s, gpu) => {
      gpu.failAtCall = 4;
    });
  });

  it('a device-lost event (no throw) also hands off before the next step', async () => {
    await run({}, (s, gpu) => {
      const forward = gpu.forward.bind(gpu);
      gpu.forward = async (items, o) => {
        const r = await forward(items, o);
        if (gpu.calls.length === 3) s.notifyDeviceLost(new BitNetError('DEVICE_LOST', 'lost (event)'));
        return r;
      };
    });
  });

  it('a request cancelled during the hand-off frees its old sequence, never one on the new backend', async () => {
    const solo = await Promise.all(PROMPTS.slice(0, 2).map((p) => alone(p, { maxTokens: 8 })));
    const gpu = new Spy(new ReferenceBackend(weights));
    gpu.failAtCall = 3;
    let next: Spy | null = null;
    let s!: Scheduler;
    let victim = 0;
    s = new Scheduler(gpu, {
      replaceBackend: async () => {
        s.cancel(victim); // arrives while the replacement is being built
        await new Promise((r) => setTimeout(r, 5));
        next = new Spy(new ReferenceBackend(weights));
        return next;
      },
    });
    // Submitted first, so its old sequence id (1) is the id the new backend gives a surviving request.
    const gone = submit(s, PROMPTS[2]!, { maxTokens: 8 });
    const keep = [submit(s, PROMPTS[0]!, { maxTokens: 8 }), submit(s, PROMPTS[1]!, { maxTokens: 8 })];
    victim = gone.id;
    await expect(gone.done).rejects.toSatisfy(isAbortError);
    const runs = await Promise.all(keep.map((k) => k.done));
    expect(runs.map((r) => r.ids)).toEqual(solo.map((r) => r.ids));
    expect(next!.live.size).toBe(0);
    expect(next!.calls[0]).toHaveLength(2);
  });

  it('without a replacement the in-flight requests fail with DEVICE_LOST', async () => {
    const gpu = new Spy(new ReferenceBackend(weights));
    gpu.failAtCall = 2;
    const s = new Scheduler(gpu);
    await expect(submit(s, PROMPTS[0]!).done).rejects.toMatchObject({ code: 'DEVICE_LOST' });
  });
});
