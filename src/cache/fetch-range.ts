/**
 * One HTTP Range request for bytes `[start, end)` of a model file, read into a preallocated buffer
 * with byte-level progress, plus retry for transient failures.
 *
 * Outcomes:
 * - 206 with a matching `Content-Range` → the bytes, the file's total size and its validators.
 * - 200 (the server ignored Range) → accepted only when the whole file fits in the requested window
 *   (a small file asked for from offset 0); otherwise `RANGE_UNSUPPORTED` and the body is cancelled, so
 *   a multi-gigabyte body is never pulled by accident.
 * - other statuses → `HTTP_STATUS` (details.status); fetch rejections → `NETWORK`; a body that ends
 *   early (connection cut) → `NETWORK` with details.retryable.
 */
import { BitNetError, abortError, isAbortError, throwIfAborted } from '../errors.js';

export interface RangeResult {
  readonly data: Uint8Array;
  readonly total: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
}

export interface RangeRequestOptions {
  readonly fetch?: typeof fetch;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
  /** Called with the number of new bytes each time some arrive. */
  readonly onBytes?: (n: number) => void;
}

function parseContentRange(h: string | null): { start: number; end: number; total: number | null } | null {
  const m = h ? /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(h) : null;
  if (!m) return null;
  return { start: Number(m[1]), end: Number(m[2]) + 1, total: m[3] === '*' ? null : Number(m[3]) };
}

async function cancelBody(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // the body is being thrown away; a failing cancel changes nothing
  }
}

/** Reads exactly `length` bytes of a body (throws NETWORK when it ends early or runs long). */
async function readExactly(res: Response, length: number, url: string, onBytes?: (n: number) => void): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let got = 0;
  try {
    if (!res.body) {
      const buf = new Uint8Array(await res.arrayBuffer());
      if (buf.length > length) throw new BitNetError('NETWORK', `reply from ${url} is longer than the requested ${length} bytes`, { details: { url } });
      out.set(buf);
      got = buf.length;
      onBytes?.(got);
    } else {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!value || value.length === 0) continue;
        if (got + value.length > length) {
          await reader.cancel().catch(() => undefined);
          throw new BitNetError('NETWORK', `reply from ${url} is longer than the requested ${length} bytes`, { details: { url } });
        }
        out.set(value, got);
        got += value.length;
        onBytes?.(value.length);
      }
    }
  } catch (e) {
    if (isAbortError(e) || e instanceof BitNetError) throw e;
    throw new BitNetError('NETWORK', `download of ${url} was interrupted after ${got} of ${length} bytes: ${(e as Error)?.message ?? String(e)}`, {
      cause: e,
      details: { url, received: got, expected: length, retryable: true },
    });
  }
  if (got !== length) {
    throw new BitNetError('NETWORK', `connection to ${url} closed after ${got} of ${length} bytes`, { details: { url, received: got, expected: length, retryable: true } });
  }
  return out;
}

/**
 * Fetches `[start, end)`. `end` may run past the end of the file; the reply is then shorter and
 * `total` says where the file ends. Pass `end = start + 1` style windows only with a known size.
 */
export async function fetchRange(url: string, start: number, end: number, o: RangeRequestOptions = {}): Promise<RangeResult> {
  const doFetch = o.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new BitNetError('NETWORK', 'no fetch implementation available in this environment');
  throwIfAborted(o.signal);
  let res: Response;
  try {
    res = await doFetch(url, { headers: { ...(o.headers ?? {}), Range: `bytes=${start}-${end - 1}` }, signal: o.signal ?? null });
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new BitNetError('NETWORK', `cannot reach ${url}: ${(e as Error)?.message ?? String(e)}`, { cause: e, details: { url, retryable: true } });
  }
  const etag = res.headers.get('etag');
  const lastModified = res.headers.get('last-modified');
  if (res.status === 206) {
    const cr = parseContentRange(res.headers.get('content-range'));
    if (!cr || cr.start !== start || cr.total === null || cr.end > cr.total || cr.end <= cr.start) {
      await cancelBody(res);
      throw new BitNetError('RANGE_UNSUPPORTED', `server for ${url} sent an unusable Content-Range (${res.headers.get('content-range') ?? 'none'}) for bytes ${start}-${end - 1}`, {
        details: { url },
      });
    }
    const data = await readExactly(res, cr.end - cr.start, url, o.onBytes);
    return { data, total: cr.total, etag, lastModified };
  }
  if (res.status === 200) {
    const len = res.headers.get('content-length');
    const declared = len !== null && /^\d+$/.test(len.trim()) ? Number(len.trim()) : null;
    if (start === 0 && declared !== null && declared <= end) {
      const data = await readExactly(res, declared, url, o.onBytes);
      return { data, total: declared, etag, lastModified };
    }
    await cancelBody(res);
    throw new BitNetError(
      'RANGE_UNSUPPORTED',
      `server for ${url} ignores HTTP Range requests (answered 200 to bytes=${start}-${end - 1}); models are downloaded in resumable chunks, ` +
        'so serve the file from a server with Range support (any static file server or CDN), or pass the model as a File/Blob/ArrayBuffer',
      { details: { url, status: 200 } },
    );
  }
  await cancelBody(res);
  throw new BitNetError('HTTP_STATUS', `downloading ${url} failed: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`, {
    details: { url, status: res.status, retryable: res.status >= 500 || res.status === 429 || res.status === 408 },
  });
}

/** Runs `fn` again (up to `retries` more times, with growing pauses) while it fails with a retryable error. */
export async function withRetries<T>(fn: () => Promise<T>, retries: number, signal?: AbortSignal, baseDelayMs = 200): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const retryable = e instanceof BitNetError && e.details?.retryable === true;
      if (!retryable || attempt >= retries) throw e;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, baseDelayMs * 2 ** attempt);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(abortError(signal.reason));
        }, { once: true });
      });
      throwIfAborted(signal);
    }
  }
}
