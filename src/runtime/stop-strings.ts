/**
 * Streaming stop-string matcher. Text is pushed piece by piece; `push` returns the part that is
 * safe to show. Text that could still become the beginning of a stop string is held back, so a
 * stop string never leaks into the output, not even partially. When a stop string completes,
 * the text before it is released and `stopped` becomes true.
 */
export class StopStringMatcher {
  private held = '';
  private done = false;
  private readonly stops: readonly string[];

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  get stopped(): boolean {
    return this.done;
  }

  /** Returns the text that can be emitted now (empty after a stop). */
  push(text: string): string {
    if (this.done) return '';
    if (this.stops.length === 0) return text;
    const buf = this.held + text;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.done = true;
      this.held = '';
      return buf.slice(0, cut);
    }
    const keep = this.partialSuffix(buf);
    this.held = buf.slice(buf.length - keep);
    return buf.slice(0, buf.length - keep);
  }

  /** Releases held-back text at the end of generation (no stop string completed). */
  flush(): string {
    const t = this.done ? '' : this.held;
    this.held = '';
    return t;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  private partialSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
