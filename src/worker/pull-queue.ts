/**
 * The output buffer of one request, read by pulling: the scheduler pushes chunks, the consumer
 * (through the RPC `next` call) takes everything buffered so far, or waits for the next push.
 * The number of unread tokens is the scheduler's backpressure signal.
 */
import type { RequestResult, RequestSink } from '../runtime/scheduler.js';

export interface PulledChunk {
  readonly text: string;
  readonly tokenIds: number[];
}

export interface PullResult {
  readonly chunks: PulledChunk[];
  /** True once the request ended; `result` is then set. */
  readonly done: boolean;
  readonly result?: RequestResult;
}

export class PullQueue implements RequestSink {
  private chunks: PulledChunk[] = [];
  private tokens = 0;
  private result: RequestResult | null = null;
  private error: { e: unknown } | null = null;
  private wake: (() => void) | null = null;
  private readonly onPull: () => void;

  /** `onPull` runs after every pull that freed buffer space (the scheduler resumes paused requests). */
  constructor(onPull: () => void = () => undefined) {
    this.onPull = onPull;
  }

  get backlog(): number {
    return this.tokens;
  }

  get settled(): boolean {
    return this.result !== null || this.error !== null;
  }

  push(text: string, tokenIds: readonly number[]): void {
    if (this.settled) return;
    if (text.length === 0 && tokenIds.length === 0) return;
    this.chunks.push({ text, tokenIds: [...tokenIds] });
    this.tokens += tokenIds.length;
    this.signal();
  }

  finish(result: RequestResult): void {
    if (this.settled) return;
    this.result = result;
    this.signal();
  }

  fail(error: unknown): void {
    if (this.settled) return;
    this.error = { e: error };
    this.signal();
  }

  /**
   * Resolves with the buffered chunks as soon as there are any (or the request ended). A failure is
   * thrown after the chunks produced before it have been delivered.
   */
  async pull(): Promise<PullResult> {
    while (this.chunks.length === 0 && !this.settled) {
      await new Promise<void>((r) => (this.wake = r));
    }
    if (this.chunks.length === 0 && this.error) throw this.error.e;
    const chunks = this.chunks;
    this.chunks = [];
    const freed = this.tokens > 0;
    this.tokens = 0;
    if (freed) this.onPull();
    const done = this.result !== null && this.error === null;
    return done ? { chunks, done, result: this.result! } : { chunks, done: false };
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
