/**
 * I/O plumbing for the CLI: the streams a command writes to (injectable for tests), JSON
 * printing, reading a JSON input file, the one-line error format, and a progress bar on stderr
 * when it is a terminal.
 */
import { readFile } from 'node:fs/promises';
import { BitNetError, isAbortError, isBitNetError } from '../errors.js';

export interface OutStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIO {
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  /** Aborts long work (SIGINT in the real CLI). */
  readonly signal?: AbortSignal;
}

/** JSON with bigint as decimal strings and typed arrays as plain arrays. */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === 'bigint' ? x.toString() : x));
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    },
    indent,
  );
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(toJson(value) + '\n');
}

/**
 * Reads and parses a JSON file named on the command line; the caller checks the value's shape.
 * @throws BitNetError IO (unreadable file), BAD_INPUT (not JSON)
 */
export async function readJsonFile(path: string): Promise<unknown> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    throw new BitNetError('IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch (e) {
    throw new BitNetError('BAD_INPUT', `${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** `bitnet: <code>: <message>` (one line) and the exit status for an error. */
export function formatError(e: unknown): { line: string; status: number } {
  const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, ' ').trim();
  if (isBitNetError(e)) return { line: `bitnet: ${e.code}: ${oneLine(e.message)}`, status: e.code === 'BAD_OPTION' ? 2 : 1 };
  if (isAbortError(e)) return { line: 'bitnet: ABORTED: interrupted', status: 130 };
  const msg = e instanceof Error ? e.message : String(e);
  return { line: `bitnet: INTERNAL: ${oneLine(msg)}`, status: 1 };
}

export interface Progress {
  /** `fraction` in [0, 1]. */
  update(label: string, fraction: number): void;
  /** Clears the bar. */
  done(): void;
}

/** A redrawn single-line bar on a TTY stderr (throttled to ~10 Hz); silent otherwise. */
export function createProgress(stream: OutStream): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  let last = 0;
  let shown = false;
  return {
    update(label, fraction) {
      const t = Date.now();
      if (t - last < 100 && fraction < 1) return;
      last = t;
      const f = Math.min(1, Math.max(0, fraction));
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - 12));
      const fill = Math.round(f * width);
      stream.write(`\r\x1b[2K[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${(f * 100).toFixed(0).padStart(3)}% ${label}`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}
