/**
 * The scheduler's state for one request, from submission to its end: the token history
 * (`prompt ++ generated`; `fed` of them are in the KV cache), its KV sequence and the backend that
 * owns it, timestamps, and how its result statistics are derived from them.
 */
import type { Backend } from '../backends/backend.js';
import type { FinishReason } from './generate.js';
import { StopStringMatcher } from './stop-strings.js';
import type { Waiting } from './admission-queue.js';
import type { RequestPriority, RequestResult, SchedulerRequestSpec } from './scheduler-types.js';

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export class ActiveRequest implements Waiting {
  readonly tokens: number[];
  readonly generated: number[] = [];
  readonly matcher: StopStringMatcher;
  readonly priority: RequestPriority;
  readonly submittedAt: number;
  seq: number | null = null;
  /** The backend `seq` belongs to (a hand-off may have replaced the scheduler's backend since). */
  seqOwner: Backend | null = null;
  fed = 0;
  cancelled = false;
  admittedAt = 0;
  tPrefill = 0; tFirst = 0; tLast = 0;
  steps = 0; batchSum = 0;

  constructor(readonly id: number, readonly spec: SchedulerRequestSpec, submittedAt = now()) {
    this.tokens = [...spec.prompt];
    this.matcher = new StopStringMatcher(spec.stop);
    this.priority = spec.priority ?? 'interactive';
    this.submittedAt = submittedAt;
  }

  /**
   * Samples the next token from the logits of the request's last fed position and pushes the newly
   * visible text to the sink. Returns how the request ends now ('stop' on a stop token or stop
   * string, 'length' at maxTokens; `flush`: held-back text still has to be flushed), or null to go on.
   */
  sampleNext(logits: Float32Array): { readonly reason: FinishReason; readonly flush: boolean } | null {
    const { spec } = this;
    if (this.generated.length === 0 && this.tPrefill === 0) this.tPrefill = now();
    if (spec.maxTokens === 0) return { reason: 'length', flush: true };
    const id = spec.sampler.sample(logits, this.tokens);
    this.tLast = now();
    if (this.generated.length === 0) this.tFirst = this.tLast;
    this.generated.push(id);
    this.tokens.push(id);
    if (spec.stopIds.has(id)) {
      spec.sink.push(this.matcher.push(spec.decoder.flush()) + this.matcher.flush(), [id]);
      return { reason: 'stop', flush: false };
    }
    spec.sink.push(this.matcher.push(spec.decoder.push(id)), [id]);
    if (this.matcher.stopped) return { reason: 'stop', flush: false };
    return this.generated.length >= spec.maxTokens ? { reason: 'length', flush: true } : null;
  }

  /** Pushes text held back by the decoder or the stop-string matcher (at the end of the request). */
  flushText(): void {
    const tail = this.matcher.push(this.spec.decoder.flush()) + this.matcher.flush();
    if (tail.length > 0) this.spec.sink.push(tail, []);
  }

  /** Statistics of a request that ends now (`end`) with `reason`. */
  result(reason: FinishReason, end: number): RequestResult {
    const n = this.generated.length;
    const prefillS = ((this.tPrefill || end) - this.submittedAt) / 1000;
    const decodeS = (this.tLast - this.tFirst) / 1000;
    return {
      finishReason: reason,
      promptTokens: this.spec.prompt.length,
      generatedTokens: n,
      ttftMs: n > 0 ? this.tFirst - this.submittedAt : 0,
      prefillTokensPerS: prefillS > 0 ? this.spec.prompt.length / prefillS : 0,
      decodeTokensPerS: n > 1 && decodeS > 0 ? (n - 1) / decodeS : 0,
      totalMs: end - this.submittedAt,
      meanBatch: this.steps > 0 ? this.batchSum / this.steps : 0,
      priority: this.priority,
      queueMs: (this.admittedAt || end) - this.submittedAt,
    };
  }
}
