/**
 * Admission order (priority + aging), the maxWaitMs batch window and the per-request metrics of the
 * scheduler, on a cheap recording backend (no model arithmetic: logits always pick byte 'a').
 */
import { describe, expect, it } from 'vitest';
import type { Backend, ForwardItem } from '../src/backends/backend.js';
import type { ModelConfig } from '../src/model/tensor.js';
import { BitNetError } from '../src/errors.js';
import { AdmissionQueue, type Waiting } from '../src/runtime/admission-queue.js';
import { holdDeadline } from '../src/runtime/batch-window.js';
import { Sampler } from '../src/runtime/sampler.js';
import { Scheduler, type RequestPriority, type RequestResult, type SchedulerOptions } from '../src/runtime/scheduler.js';
import { PullQueue } from '../src/worker/pull-queue.js';
import { byteTokenizer } from './helpers/fakes.js';

const tk = byteTokenizer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Records every forward call (with its time); each call takes `delayMs`; greedy output is 'a'. */
class Recorder implements Backend {
  readonly name = 'reference' as const;
  readonly description = 'recording test backend';
  readonly config = { vocabSize: 258, contextLength: 512 } as ModelConfig;
  readonly calls: { at: number; items: { seq: number; tokens: number[] }[] }[] = [];
  readonly prompts = new Map<number, string>(); // seq → prompt text (from its first item)
  private nextSeq = 1;
  constructor(private readonly delayMs = 0) {}
  createSequence() { return this.nextSeq++; }
  sequenceLength() { return 0; }
  truncateSequence() {}
  freeSequence() {}
  async forward(items: readonly ForwardItem[]) {
    const rec = items.map((it) => ({ seq: it.seq, tokens: Array.from(it.tokens) }));
    this.calls.push({ at: performance.now(), items: rec });
    for (const it of rec) if (!this.prompts.has(it.seq)) this.prompts.set(it.seq, tk.decode(it.tokens));
    if (this.delayMs > 0) await sleep(this.delayMs);
    return items.map(() => {
      const l = new Float32Array(258);
      l[97] = 5;
      return l;
    });
  }
  async dispose() {}
  /** Prompt texts in the order their requests first ran (= admission order). */
  admissionOrder(): string[] {
    const seen: string[] = [];
    for (const c of this.calls) for (const it of c.items) {
      const p = this.prompts.get(it.seq)!;
      if (!seen.includes(p)) seen.push(p);
    }
    return seen;
  }
}

function submit(s: Scheduler, prompt: string, o: { priority?: RequestPriority; maxTokens?: number } = {}): Promise<RequestResult> {
  const q = new PullQueue(() => s.resume());
  s.submit({
    prompt: tk.encode(prompt, { addBos: false }),
    maxTokens: o.maxTokens ?? 2,
    sampler: new Sampler({ temperature: 0 }),
    stopIds: new Set(tk.stopIds),
    stop: [],
    decoder: tk.createDecoder(),
    sink: q,
    ...(o.priority ? { priority: o.priority } : {}),
  });
  return (async () => {
    for (;;) {
      const r = await q.pull();
      if (r.done) return r.result!;
    }
  })();
}

const sched = (b: Backend, o: SchedulerOptions) => new Scheduler(b, o);

describe('AdmissionQueue: priority with aging', () => {
  const w = (priority: RequestPriority, submittedAt: number, name: string): Waiting & { name: string } => ({ priority, submittedAt, name });
  const drain = (q: AdmissionQueue<Waiting & { name: string }>, now: number): string[] => {
    const out: string[] = [];
    for (let a = q.take(now); a; a = q.take(now)) out.push(a.item.name + (a.promoted ? '*' : ''));
    return out;
  };

  it('admits interactive requests first, each lane in arrival order', () => {
    const q = new AdmissionQueue<Waiting & { name: string }>({ agingPassOvers: 10, agingMs: 1e9 });
    for (const [p, n] of [['background', 'b1'], ['interactive', 'i1'], ['background', 'b2'], ['interactive', 'i2']] as const) q.push(w(p, 0, n));
    expect([q.length, q.count('interactive'), q.count('background'), q.oldestSubmittedAt()]).toEqual([4, 2, 2, 0]);
    expect(drain(q, 0)).toEqual(['i1', 'i2', 'b1', 'b2']);
    expect(q.take(0)).toBeNull();
  });

  it('lets one background request go after every agingPassOvers interactive admissions', () => {
    const q = new AdmissionQueue<Waiting & { name: string }>({ agingPassOvers: 2, agingMs: 1e9 });
    q.push(w('background', 0, 'b1'));
    q.push(w('background', 0, 'b2'));
    for (let i = 1; i <= 5; i++) q.push(w('interactive', 0, `i${i}`));
    expect(drain(q, 0)).toEqual(['i1', 'i2', 'b1*', 'i3', 'i4', 'b2*', 'i5']);
    // The streak only counts admissions made while background work waited.
    for (let i = 6; i <= 8; i++) q.push(w('interactive', 0, `i${i}`));
    q.take(0);
    q.push(w('background', 0, 'b3'));
    q.push(w('interactive', 0, 'i9'));
    expect(drain(q, 0)).toEqual(['i7', 'i8', 'b3*', 'i9']);
  });

  it('promotes a background request that waited agingMs, whatever the pass-over count', () => {
    const q = new AdmissionQueue<Waiting & { name: string }>({ agingPassOvers: 100, agingMs: 50 });
    q.push(w('background', 0, 'b1'));
    q.push(w('interactive', 10, 'i1'));
    q.push(w('interactive', 20, 'i2'));
    expect(q.take(49)!.item.name).toBe('i1'); // waited 49 ms < 50
    expect(q.take(50)).toMatchObject({ item: { name: 'b1' }, promoted: true });
    expect(q.take(50)!.item.name).toBe('i2');
  });

  it('rejects invalid aging bounds', () => {
    expect(() => new AdmissionQueue({ agingPassOvers: 0 })).toThrowError(BitNetError);
    expect(() => new AdmissionQueue({ agingMs: -1 })).toThrowError(/agingMs/);
  });
});

describe('scheduler: priority', () => {
  it('runs interactive requests before background ones and reports queue lengths by priority', async () => {
    const b = new Recorder();
    const s = sched(b, { maxBatch: 1, agingPassOvers: 8, agingMs: 1e9 });
    const done = [
      submit(s, 'b1', { priority: 'background' }), submit(s, 'b2', { priority: 'background' }),
      submit(s, 'i1'), submit(s, 'i2', { priority: 'interactive' }),
    ];
    expect(s.snapshot()).toMatchObject({ queued: 4, queuedByPriority: { interactive: 2, background: 2 } });
    const results = await Promise.all(done);
    expect(b.admissionOrder()).toEqual(['i1', 'i2', 'b1', 'b2']);
    expect(results.map((r) => r.priority)).toEqual(['background', 'background', 'interactive', 'interactive']);
    expect(results[3]!.queueMs).toBeLessThan(results[0]!.queueMs); // i2 waited less than b1
    const snap = s.snapshot();
    expect(snap).toMatchObject({ queued: 0, queuedByPriority: { interactive: 0, background: 0 }, promoted: 0, completed: 4 });
    expect(Math.max(...b.calls.map((c) => c.items.length))).toBe(1);
  });

  it('does not starve background work under a stream of interactive requests (pass-over aging)', async () => {
    const b = new Recorder();
    const s = sched(b, { maxBatch: 1, agingPassOvers: 3, agingMs: 1e9 });
    const bg = submit(s, 'bg', { priority: 'background' });
    // More interactive work than can run: 6 waiting at once, and each one that ends brings a new one.
    let next = 0;
    const more = (): Promise<unknown> => (next < 6 ? submit(s, `late${next++}`).then(more) : Promise.resolve());
    const fg = Array.from({ length: 6 }, (_, i) => submit(s, `i${i}`).then(more));
    await Promise.all([bg, ...fg]);
    const order = b.admissionOrder();
    expect(order.indexOf('bg')).toBe(3); // after exactly agingPassOvers interactive admissions
    expect(order).toHaveLength(13);
    expect(s.snapshot().promoted).toBe(1);
  });

  it('promotes a background request once it waited agingMs', async () => {
    const b = new Recorder(15);
    const s = sched(b, { maxBatch: 1, agingPassOvers: 1000, agingMs: 30 });
    const all = [submit(s, 'bg', { priority: 'background' }), ...['i1', 'i2', 'i3'].map((p) => submit(s, p, { maxTokens: 3 }))];
    await Promise.all(all);
    // i1 runs 3 steps of >= 15 ms: when it leaves, bg has waited >= 30 ms and goes before i2.
    expect(b.admissionOrder()).toEqual(['i1', 'bg', 'i2', 'i3']);
    expect(s.snapshot().promoted).toBe(1);
  });

  it('rejects an unknown priority', () => {
    const s = sched(new Recorder(), {});
    expect(() => submit(s, 'x', { priority: 'urgent' as RequestPriority })).toThrowError(/priority/);
  });
});

describe('scheduler: maxWaitMs batch window', () => {
  it('holdDeadline: only an idle, not-full queue is held, up to maxWaitMs after the oldest submission', () => {
    const base = { maxWaitMs: 50, maxBatch: 4, admitted: 0, queued: 1, oldestSubmittedAt: 100, now: 120 };
    expect(holdDeadline(base)).toBe(150);
    expect(holdDeadline({ ...base, now: 150 })).toBeNull(); // deadline reached
    expect(holdDeadline({ ...base, queued: 4 })).toBeNull(); // a full batch never waits
    expect(holdDeadline({ ...base, admitted: 1 })).toBeNull(); // running sequences are never stalled
    expect(holdDeadline({ ...base, maxWaitMs: 0 })).toBeNull();
    expect(holdDeadline({ ...base, queued: 0, oldestSubmittedAt: null })).toBeNull();
  });

  it('holds the first batch so that a request arriving within maxWaitMs shares its first step', async () => {
    const b = new Recorder();
    const s = sched(b, { maxBatch: 4, maxWaitMs: 400 });
    const t0 = performance.now();
    const a = submit(s, 'first');
    await sleep(20);
    expect(b.calls).toHaveLength(0); // still held
    const c = submit(s, 'second');
    const [ra] = await Promise.all([a, c]);
    expect(b.calls[0]!.items).toHaveLength(2);
    expect(b.calls[0]!.at - t0).toBeGreaterThanOrEqual(390); // held until maxWaitMs after 'first'
    expect(ra.queueMs).toBeGreaterThanOrEqual(390);
    const snap = s.snapshot();
    expect(snap.holds).toBe(1);
    expect(snap.heldMs).toBeGreaterThanOrEqual(380);
  });

  it('never delays a full batch: the maxBatch-th arrival starts it at once', async () => {
    const b = new Recorder();
    const s = sched(b, { maxBatch: 3, maxWaitMs: 60_000 });
    const t0 = performance.now();
    const runs = [submit(s, 'a')];
    await sleep(20);
    runs.push(submit(s, 'b'));
    await sleep(20);
    runs.push(submit(s, 'c'));
    await Promise.all(runs);
    expect(b.calls[0]!.items).toHaveLength(3);
    expect(b.calls[0]!.at - t0).toBeLessThan(5_000); // nowhere near maxWaitMs
    // Same-tick submissions filling the batch do not wait either.
    const s2 = sched(new Recorder(), { maxBatch: 2, maxWaitMs: 60_000 });
    const both = await Promise.all([submit(s2, 'x'), submit(s2, 'y')]);
    expect(both.every((r) => r.queueMs < 5_000)).toBe(true);
    expect(s2.snapshot().holds).toBe(0);
  });

  it('never stalls running sequences: a request arriving mid-decode joins at the next step', async () => {
    const b = new Recorder(5);
    const s = sched(b, { maxBatch: 4, maxWaitMs: 80 });
    const long = submit(s, 'long', { maxTokens: 30 });
    while (b.calls.length < 3) await sleep(2);
    const callsBefore = b.calls.length;
    const late = submit(s, 'late', { maxTokens: 3 });
    await Promise.all([long, late]);
    const joined = b.calls.findIndex((c) => c.items.some((it) => b.prompts.get(it.seq) === 'late'));
    expect(joined).toBeLessThanOrEqual(callsBefore); // the step in flight, then the very next one
    expect(s.snapshot().holds).toBe(1); // only the first (idle) batch was held
  });
});

describe('scheduler: per-request metrics', () => {
  it('records TTFT, queue time and tokens/s per request, summarised by priority', async () => {
    const b = new Recorder(1);
    const s = sched(b, { maxBatch: 2 });
    await Promise.all([submit(s, 'p1', { maxTokens: 4 }), submit(s, 'p2', { maxTokens: 4, priority: 'background' }), submit(s, 'p3', { maxTokens: 4 })]);
    const snap = s.snapshot();
    expect(snap.recent.map((r) => r.priority).sort()).toEqual(['background', 'interactive', 'interactive']);
    for (const r of snap.recent) {
      expect(r.generatedTokens).toBe(4);
      expect(r.ttftMs).toBeGreaterThan(0);
      expect(r.decodeTokensPerS).toBeGreaterThan(0);
      expect(r.queueMs).toBeLessThanOrEqual(r.ttftMs);
    }
    expect(snap.latency.interactive).toMatchObject({ requests: 2, decodeRequests: 2 });
    expect(snap.latency.background).toMatchObject({ requests: 1, decodeRequests: 1 });
    const i = snap.latency.interactive;
    expect(i.p50TtftMs).toBeLessThanOrEqual(i.p95TtftMs);
    expect(i.p95TtftMs).toBeLessThanOrEqual(i.maxTtftMs);
    expect(i.meanTtftMs).toBeGreaterThan(0);
    // The background request waited for a free slot (maxBatch 2, p1 and p3 admitted first).
    expect(snap.latency.background.meanQueueMs).toBeGreaterThan(i.meanQueueMs);
  });
});
