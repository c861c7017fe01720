/**
 * Continuous-batching scheduler: one step loop over the active requests of an engine.
 *
 * Each step calls `backend.forward(items)` ONCE with every runnable admitted sequence: a prefill
 * piece (up to `prefillChunk` prompt tokens) for new requests, one token for decoding ones. Up to
 * `maxBatch` requests are admitted from the admission queue (interactive before background, with
 * aging: admission-queue.ts); new ones join between steps and finished ones leave. An idle scheduler
 * may hold its first batch up to `maxWaitMs` for more requests (batch-window.ts).
 * A request's tokens are `prompt ++ generated` and `fed` counts how many are in its KV cache, so
 * prefill, decode and re-prefill after a backend change are the same operation. Sampling is per
 * request (own seeded `Sampler`), so a request's output does not depend on what it was batched with.
 *
 * - Backpressure: a request whose consumer has not pulled `maxBuffered` tokens sits out steps.
 * - Cancel: the request leaves at once; its KV sequence is freed after the step that may be using it.
 * - Device loss: a `DEVICE_LOST` error from `forward` (or `notifyDeviceLost()`) makes the scheduler
 *   ask `replaceBackend` for the next backend, re-create every admitted sequence there (fed = 0, so
 *   the next steps re-prefill prompt + generated tokens) and continue; no request is lost.
 * - Any other forward error fails the requests of that step only; the scheduler keeps serving.
 * - `exclusive(fn)` runs other backend work (embeddings) between steps, never during one.
 */
import type { Backend, ForwardItem } from '../backends/backend.js';
import { BitNetError, abortError, isBitNetError } from '../errors.js';
import type { FinishReason } from './generate.js';
import { AdmissionQueue } from './admission-queue.js';
import { holdDeadline, validateMaxWaitMs } from './batch-window.js';
import { RequestLog } from './request-log.js';
import { ActiveRequest as Active, now } from './request-state.js';
import { REQUEST_PRIORITIES, type SchedulerOptions, type SchedulerRequestSpec, type SchedulerStats } from './scheduler-types.js';

export type { RequestPriority, RequestResult, RequestSink, SchedulerOptions, SchedulerRequestSpec, SchedulerStats } from './scheduler-types.js';
export type { PriorityLatency, RequestRecord } from './request-log.js';

/** Yields to the event loop (message events such as RPC calls get to run) without timer clamping. */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => void };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => (ch.port1.close(), r());
    ch.port2.postMessage(null);
  });
}

export class Scheduler {
  private backendRef: Backend;
  private readonly maxBatch: number;
  private readonly prefillChunk: number;
  private readonly maxBuffered: number;
  private readonly maxWaitMs: number;
  private readonly replaceBackend?: SchedulerOptions['replaceBackend'];
  private readonly maxContext: number;
  private readonly queue: AdmissionQueue<Active>;
  private readonly admitted: Active[] = [];
  private readonly byId = new Map<number, Active>();
  private readonly log = new RequestLog();
  private nextId = 1;
  private running = false;
  private lost: unknown = null;
  private lock: Promise<void> = Promise.resolve();
  private closed = false;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private holdStart: number | null = null;
  private stats = { steps: 0, batchedSequences: 0, promptTokens: 0, generatedTokens: 0, completed: 0, failed: 0, cancelled: 0, handoffs: 0, promoted: 0, holds: 0, heldMs: 0 };
  private readonly batchSizeCounts: number[] = [];

  /** @throws BitNetError BAD_OPTION for an invalid option (named in details.option). */
  constructor(backend: Backend, options: SchedulerOptions = {}) {
    this.backendRef = backend;
    const int = (v: number | undefined, d: number, name: string): number => {
      const x = v ?? d;
      if (!Number.isSafeInteger(x) || x < 1) throw new BitNetError('BAD_OPTION', `${name}: expected an integer >= 1, got ${String(v)}`, { details: { option: name } });
      return x;
    };
    this.maxBatch = int(options.maxBatch, 8, 'maxBatch');
    this.prefillChunk = int(options.prefillChunk, 256, 'prefillChunk');
    this.maxBuffered = int(options.maxBuffered, 64, 'maxBuffered');
    this.maxContext = int(options.maxContext, backend.config.contextLength, 'maxContext');
    this.maxWaitMs = validateMaxWaitMs(options.maxWaitMs);
    this.queue = new AdmissionQueue<Active>({
      ...(options.agingPassOvers !== undefined ? { agingPassOvers: options.agingPassOvers } : {}),
      ...(options.agingMs !== undefined ? { agingMs: options.agingMs } : {}),
    });
    this.replaceBackend = options.replaceBackend;
  }

  get backend(): Backend {
    return this.backendRef;
  }

  /**
   * Queues a request; returns its id.
   * @throws BitNetError CONTEXT_OVERFLOW / BAD_INPUT for an unusable prompt, BAD_OPTION for an unknown priority.
   */
  submit(spec: SchedulerRequestSpec): number {
    if (this.closed) throw new BitNetError('DISPOSED', 'the scheduler has been closed');
    if (spec.priority !== undefined && !REQUEST_PRIORITIES.includes(spec.priority)) {
      throw new BitNetError('BAD_OPTION', `priority: expected ${REQUEST_PRIORITIES.join(' | ')}, got ${String(spec.priority)}`, { details: { option: 'priority' } });
    }
    if (spec.prompt.length === 0) throw new BitNetError('BAD_INPUT', 'the prompt has no tokens');
    const details = { promptTokens: spec.prompt.length, maxContext: this.maxContext };
    if (spec.prompt.length > this.maxContext) throw new BitNetError('CONTEXT_OVERFLOW', `the prompt has ${spec.prompt.length} tokens, the context holds ${this.maxContext}`, { details });
    const vocab = this.backendRef.config.vocabSize;
    const badToken = spec.prompt.find((t) => !Number.isInteger(t) || t < 0 || t >= vocab);
    if (badToken !== undefined) throw new BitNetError('BAD_INPUT', `token id ${badToken} is outside the vocabulary [0, ${vocab})`);
    const r = new Active(this.nextId++, spec);
    this.byId.set(r.id, r);
    this.queue.push(r);
    this.stats.promptTokens += spec.prompt.length;
    this.kick();
    return r.id;
  }

  /** Stops a request: its sink fails with AbortError and its KV sequence is freed. */
  cancel(id: number, reason?: unknown): void {
    const r = this.byId.get(id);
    if (!r || r.cancelled) return;
    r.cancelled = true;
    this.stats.cancelled++;
    this.leave(r);
    r.spec.sink.fail(abortError(reason));
  }

  /** The consumer pulled output: a paused request may run again. */
  resume(): void {
    this.kick();
  }

  /** Marks the backend lost (e.g. a GPU device-lost event); the next step moves to another backend. */
  notifyDeviceLost(error: unknown): void {
    this.lost ??= error ?? new BitNetError('DEVICE_LOST', 'the GPU device was lost');
    this.kick();
  }

  /** Runs `fn` with exclusive use of the backend (between steps). */
  exclusive<T>(fn: (backend: Backend) => Promise<T>): Promise<T> {
    const run = this.lock.then(async () => {
      if (this.lost !== null) await this.handoff();
      return fn(this.backendRef);
    });
    this.lock = run.then(() => undefined, () => undefined);
    return run;
  }

  snapshot(): SchedulerStats {
    return {
      active: this.admitted.length,
      queued: this.queue.length,
      queuedByPriority: { interactive: this.queue.count('interactive'), background: this.queue.count('background') },
      batchSizeCounts: [...this.batchSizeCounts],
      ...this.stats,
      latency: this.log.summary(),
      recent: this.log.recent(),
    };
  }

  /** Fails every request with `error` (DISPOSED by default) and stops. Sequences are freed. */
  close(error: unknown = new BitNetError('DISPOSED', 'the engine has been disposed')): void {
    this.closed = true;
    this.endHold();
    for (const r of [...this.admitted, ...this.queue.items()]) {
      this.leave(r);
      r.spec.sink.fail(error);
    }
  }

  private kick(): void {
    if (this.running || this.closed) return;
    if (this.queue.length === 0 && this.admitted.length === 0) return;
    this.running = true;
    // Start on a microtask so requests submitted in the same tick share the first step.
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (!this.closed) {
        if (this.holding()) break;
        this.admit();
        const runnable = this.admitted.filter((r) => r.spec.sink.backlog < this.maxBuffered);
        if (runnable.length === 0) break;
        const step = this.lock.then(() => this.step(runnable));
        this.lock = step.then(() => undefined, () => undefined);
        await step;
        await yieldToEventLoop();
      }
    } finally {
      this.running = false;
    }
    // Work may have arrived between the last check and `running = false` (a held batch waits for its timer).
    if (this.closed || this.holdTimer !== null) return;
    if (this.queue.length > 0 || this.admitted.some((r) => r.spec.sink.backlog < this.maxBuffered)) this.kick();
  }

  /** Admits waiting requests into free batch slots, in the admission queue's order. */
  private admit(): void {
    while (this.admitted.length < this.maxBatch && this.queue.length > 0) {
      const t = now();
      const next = this.queue.take(t)!;
      if (next.promoted) this.stats.promoted++;
      next.item.admittedAt = t;
      this.admitted.push(next.item);
    }
  }

  /** Applies the maxWaitMs rule (batch-window.ts); true while the first batch is held (a timer re-kicks). */
  private holding(): boolean {
    const t = now();
    const deadline = holdDeadline({
      maxWaitMs: this.maxWaitMs, maxBatch: this.maxBatch, admitted: this.admitted.length,
      queued: this.queue.length, oldestSubmittedAt: this.queue.oldestSubmittedAt(), now: t,
    });
    if (deadline === null) {
      this.endHold();
      return false;
    }
    if (this.holdStart === null) {
      this.holdStart = t;
      this.stats.holds++;
    }
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      this.kick();
    }, Math.max(0, Math.ceil(deadline - t)));
    return true;
  }

  private endHold(): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.holdStart !== null) this.stats.heldMs += now() - this.holdStart;
    this.holdStart = null;
  }

  private async step(runnable: Active[]): Promise<void> {
    if (this.lost !== null) {
      const ok = await this.handoff();
      if (!ok) return;
    }
    const backend = this.backendRef;
    const batch: Active[] = [];
    const items: ForwardItem[] = [];
    for (const r of runnable) {
      if (r.cancelled || !this.admitted.includes(r)) continue;
      if (r.fed >= this.maxContext) {
        this.finish(r, 'length');
        continue;
      }
      try {
        if (r.seq === null) {
          r.seq = backend.createSequence();
          r.seqOwner = backend;
        }
      } catch (e) {
        this.fail(r, e);
        continue;
      }
      const end = Math.min(r.tokens.length, r.fed + this.prefillChunk);
      batch.push(r);
      items.push({ seq: r.seq, tokens: r.tokens.slice(r.fed, end) });
    }
    if (items.length === 0) return;
    let logits: Float32Array[];
    try {
      logits = await backend.forward(items);
    } catch (e) {
      if (isBitNetError(e, 'DEVICE_LOST') && this.replaceBackend) {
        this.lost ??= e;
        return; // the next step hands off and retries these items from scratch
      }
      for (const r of batch) this.fail(r, e);
      return;
    }
    this.stats.steps++;
    this.stats.batchedSequences += batch.length;
    this.batchSizeCounts[batch.length] = (this.batchSizeCounts[batch.length] ?? 0) + 1;
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      r.steps++;
      r.batchSum += batch.length;
      if (r.cancelled) {
        this.freeSeq(r);
        continue;
      }
      r.fed += items[i]!.tokens.length;
      if (r.fed < r.tokens.length) continue; // more prompt to prefill
      try {
        this.sampleNext(r, logits[i]!);
      } catch (e) {
        this.fail(r, e);
      }
    }
  }

  private sampleNext(r: Active, logits: Float32Array): void {
    const sampledBefore = r.generated.length;
    const end = r.sampleNext(logits);
    this.stats.generatedTokens += r.generated.length - sampledBefore;
    if (end) this.finish(r, end.reason, end.flush);
  }

  private finish(r: Active, reason: FinishReason, flush = true): void {
    if (flush) r.flushText();
    this.leave(r);
    this.stats.completed++;
    const result = r.result(reason, now());
    this.log.add(r.id, result);
    r.spec.sink.finish(result);
  }

  private fail(r: Active, e: unknown): void {
    if (!this.byId.has(r.id)) return;
    this.stats.failed++;
    this.leave(r);
    r.spec.sink.fail(e);
  }

  /** Removes a request from the queues and frees its sequence (unless a step is using it right now). */
  private leave(r: Active): void {
    this.byId.delete(r.id);
    this.queue.remove(r);
    const ai = this.admitted.indexOf(r);
    if (ai >= 0) this.admitted.splice(ai, 1);
    if (!r.cancelled) this.freeSeq(r);
    else void this.lock.then(() => this.freeSeq(r));
  }

  private freeSeq(r: Active): void {
    if (r.seq === null) return;
    const seq = r.seq;
    const owner = r.seqOwner;
    r.seq = null;
    r.seqOwner = null;
    try {
      owner?.freeSequence(seq);
    } catch {
      /* the backend may already be gone (device lost / disposed) */
    }
  }

  /** Moves every admitted request to a replacement backend. False when no replacement exists. */
  private async handoff(): Promise<boolean> {
    const error = this.lost;
    const old = this.backendRef;
    if (!this.replaceBackend) {
      this.lost = null;
      for (const r of [...this.admitted]) this.fail(r, error);
      return false;
    }
    let next: Backend;
    try {
      next = await this.replaceBackend(old, error);
    } catch (e) {
      this.lost = null;
      for (const r of [...this.admitted, ...this.queue.items()]) this.fail(r, e);
      return false;
    }
    this.lost = null;
    this.stats.handoffs++;
    this.backendRef = next;
    for (const r of [...this.admitted, ...this.queue.items()]) {
      r.seq = null; // the old backend's caches are gone with it
      r.seqOwner = null;
      r.fed = 0;
    }
    await old.dispose().catch(() => undefined);
    return true;
  }
}
