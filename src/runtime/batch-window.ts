/**
 * `maxWaitMs`: how long an idle scheduler may hold back its first batch so that requests arriving
 * shortly after each other share one prefill step and decode together from the start.
 *
 * Rule (`holdDeadline`): the scheduler holds (runs no step) while ALL of these are true:
 *  - `maxWaitMs > 0`;
 *  - no sequence is admitted (nothing is decoding or prefilling, so holding stalls nobody);
 *  - at least one and fewer than `maxBatch` requests wait (a full batch is never delayed);
 *  - less than `maxWaitMs` has passed since the OLDEST waiting request was submitted.
 * The hold ends at the first of: the `maxBatch`-th request arriving, the deadline
 * (oldest submission + maxWaitMs). While sequences are running, requests that arrive join at the
 * next step boundary with no wait at all; steps of running sequences are never delayed.
 * Requests submitted in the same tick share the first step even with `maxWaitMs = 0`.
 */
import { BitNetError } from '../errors.js';

export interface BatchWindowState {
  readonly maxWaitMs: number;
  readonly maxBatch: number;
  /** Sequences admitted into the running batch. */
  readonly admitted: number;
  /** Requests waiting for admission. */
  readonly queued: number;
  /** Submission time of the oldest waiting request (null when none waits). */
  readonly oldestSubmittedAt: number | null;
  readonly now: number;
}

/** The time until which to hold the first batch, or null to run a step now. */
export function holdDeadline(s: BatchWindowState): number | null {
  if (s.maxWaitMs <= 0 || s.admitted > 0 || s.queued === 0 || s.queued >= s.maxBatch || s.oldestSubmittedAt === null) return null;
  const deadline = s.oldestSubmittedAt + s.maxWaitMs;
  return s.now < deadline ? deadline : null;
}

/** @throws BitNetError BAD_OPTION unless `v` is a finite number >= 0 (undefined → 0). */
export function validateMaxWaitMs(v: unknown): number {
  const x = v ?? 0;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) {
    throw new BitNetError('BAD_OPTION', `maxWaitMs: expected a finite number >= 0, got ${String(v)}`, { details: { option: 'maxWaitMs' } });
  }
  return x;
}
