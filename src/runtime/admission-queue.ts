/**
 * The scheduler's waiting room: requests submitted but not yet admitted into the running batch,
 * in two FIFO lanes by priority, and the rule that picks the next one to admit.
 *
 * Admission rule, applied each time a batch slot is free (`take`):
 *  1. Aging first. The oldest waiting background request is admitted next, ahead of any waiting
 *     interactive request (a "promotion"), when either
 *     - `agingPassOvers` interactive requests in a row have been admitted while background work
 *       was waiting (the streak restarts at every background admission), or
 *     - it has waited at least `agingMs` since its submission.
 *  2. Otherwise the oldest waiting interactive request is admitted.
 *  3. Otherwise (no interactive request waits) the oldest background request is admitted.
 * Within a lane the order is arrival order. No starvation: the k-th waiting background request is
 * admitted after at most k·`agingPassOvers` interactive admissions, and once it has waited
 * `agingMs` it goes at the first free slot after the (older) background requests ahead of it.
 * Interactive work keeps at least `agingPassOvers` of every `agingPassOvers + 1` admissions while
 * no background request is older than `agingMs`. Running sequences are never preempted: priority
 * only orders admission.
 */
import { BitNetError } from '../errors.js';
import type { RequestPriority } from './scheduler-types.js';

/** What the queue needs to know about a waiting request (the scheduler's request state). */
export interface Waiting {
  readonly priority: RequestPriority;
  /** Submission time (same clock as the `now` passed to `take`). */
  readonly submittedAt: number;
}

export interface AgingOptions {
  /** Interactive admissions in a row (background waiting) after which a background one goes first (default 4). */
  readonly agingPassOvers?: number;
  /** Milliseconds of waiting after which the oldest background request goes first (default 2000). */
  readonly agingMs?: number;
}

export interface Admission<T> {
  readonly item: T;
  /** True when aging chose a background request while an interactive one was waiting. */
  readonly promoted: boolean;
}

export const DEFAULT_AGING_PASS_OVERS = 4;
export const DEFAULT_AGING_MS = 2000;

export class AdmissionQueue<T extends Waiting> {
  readonly agingPassOvers: number;
  readonly agingMs: number;
  private readonly interactive: T[] = [];
  private readonly background: T[] = [];
  /** Interactive admissions since the last background admission, counted while background work waited. */
  private streak = 0;

  /** @throws BitNetError BAD_OPTION for a pass-over bound that is not an integer >= 1 or a negative agingMs. */
  constructor(options: AgingOptions = {}) {
    const passes = options.agingPassOvers ?? DEFAULT_AGING_PASS_OVERS;
    if (!Number.isSafeInteger(passes) || passes < 1) {
      throw new BitNetError('BAD_OPTION', `agingPassOvers: expected an integer >= 1, got ${String(options.agingPassOvers)}`, { details: { option: 'agingPassOvers' } });
    }
    const ms = options.agingMs ?? DEFAULT_AGING_MS;
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      throw new BitNetError('BAD_OPTION', `agingMs: expected a number >= 0, got ${String(options.agingMs)}`, { details: { option: 'agingMs' } });
    }
    this.agingPassOvers = passes;
    this.agingMs = ms;
  }

  get length(): number {
    return this.interactive.length + this.background.length;
  }

  /** Waiting requests of one priority. */
  count(priority: RequestPriority): number {
    return priority === 'interactive' ? this.interactive.length : this.background.length;
  }

  push(item: T): void {
    (item.priority === 'background' ? this.background : this.interactive).push(item);
  }

  /** Removes a waiting request; false if it was not waiting. */
  remove(item: T): boolean {
    for (const lane of [this.interactive, this.background]) {
      const i = lane.indexOf(item);
      if (i >= 0) {
        lane.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Every waiting request, interactive lane first (for close / hand-off). */
  items(): T[] {
    return [...this.interactive, ...this.background];
  }

  /** Submission time of the oldest waiting request, or null when none waits. */
  oldestSubmittedAt(): number | null {
    const a = this.interactive[0]?.submittedAt;
    const b = this.background[0]?.submittedAt;
    if (a === undefined) return b ?? null;
    return b === undefined ? a : Math.min(a, b);
  }

  /** Whether the oldest background request is due for promotion at `now` (rule 1). */
  aged(now: number): boolean {
    const head = this.background[0];
    return head !== undefined && (this.streak >= this.agingPassOvers || now - head.submittedAt >= this.agingMs);
  }

  /** Removes and returns the next request to admit under the rule above, or null when none waits. */
  take(now: number): Admission<T> | null {
    if (this.aged(now)) {
      this.streak = 0;
      return { item: this.background.shift()!, promoted: this.interactive.length > 0 };
    }
    const item = this.interactive.shift();
    if (item !== undefined) {
      if (this.background.length > 0) this.streak++;
      return { item, promoted: false };
    }
    this.streak = 0;
    const bg = this.background.shift();
    return bg === undefined ? null : { item: bg, promoted: false };
  }
}
