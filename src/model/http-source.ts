/**
 * `ByteSource` over an HTTP(S) URL using Range requests.
 *
 * Construction probes the size with `GET` + `Range: bytes=0-0` (a 206 reply's `Content-Range` gives the
 * total; if it says `*`, a `HEAD` request's `Content-Length` is used). A server that ignores Range (200)
 * is refused with `RANGE_UNSUPPORTED` unless `allowFullDownload` is set, in which case the body is
 * streamed into a list of chunks (never one contiguous buffer). Non-2xx replies throw `HTTP_STATUS`
 * (details.status), transport failures throw `NETWORK`, aborts propagate as `AbortError`.
 */
import { BitNetError, isAbortError, throwIfAborted } from '../errors.js';
import { type ByteSource, checkRange, chunkedSource } from './byte-source.js';

export interface HttpSourceOptions {
  /** fetch implementation (default: global fetch). */
  readonly fetch?: typeof fetch;
  /** Extra request headers (e.g. Authorization). */
  readonly headers?: Record<string, string>;
  /** Accept servers without Range support by downloading the whole body (in chunks). */
  readonly allowFullDownload?: boolean;
  /** Aborts the probe and every later read. */
  readonly signal?: AbortSignal;
}

export async function httpSource(url: string, options: HttpSourceOptions = {}): Promise<ByteSource> {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new BitNetError('NETWORK', 'no fetch implementation available');
  const request = async (init: RequestInit, what: string): Promise<Response> => {
    throwIfAborted(options.signal);
    try {
      return await doFetch(url, { ...init, signal: options.signal ?? null });
    } catch (e) {
      if (isAbortError(e)) throw e;
      throw new BitNetError('NETWORK', `${what} ${url} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e, details: { url } });
    }
  };
  const headers = (extra: Record<string, string>): Record<string, string> => ({ ...(options.headers ?? {}), ...extra });
  const statusError = (res: Response, what: string): BitNetError =>
    new BitNetError('HTTP_STATUS', `${what} ${url}: HTTP ${res.status} ${res.statusText}`, { details: { url, status: res.status } });

  const probe = await request({ headers: headers({ Range: 'bytes=0-0' }) }, 'probing');
  let size: number | null = null;
  if (probe.status === 206 || probe.status === 416) {
    size = parseTotal(probe.headers.get('content-range'));
    await discard(probe);
    if (size === null) {
      const head = await request({ method: 'HEAD', headers: headers({}) }, 'HEAD');
      const len = head.headers.get('content-length');
      if (head.ok && len !== null && /^\d+$/.test(len.trim())) size = Number(len.trim());
    }
    if (size === null || !Number.isSafeInteger(size)) {
      throw new BitNetError('RANGE_UNSUPPORTED', `server for ${url} did not report the file size`, { details: { url } });
    }
  } else if (probe.ok) {
    if (!options.allowFullDownload) {
      await discard(probe);
      throw new BitNetError('RANGE_UNSUPPORTED', `server for ${url} ignores Range requests (HTTP ${probe.status}); pass allowFullDownload to download it whole`, {
        details: { url, status: probe.status },
      });
    }
    return chunkedSource(await readBodyChunks(probe, url));
  } else {
    await discard(probe);
    throw statusError(probe, 'probing');
  }

  const total = size;
  return {
    size: total,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkRange(total, offset, length);
      if (length === 0) return new Uint8Array(0);
      const res = await request({ headers: headers({ Range: `bytes=${offset}-${offset + length - 1}` }) }, 'reading');
      if (res.status === 200) {
        await discard(res);
        throw new BitNetError('RANGE_UNSUPPORTED', `server for ${url} stopped honouring Range requests`, { details: { url } });
      }
      if (res.status !== 206) {
        await discard(res);
        throw statusError(res, 'reading');
      }
      const start = parseStart(res.headers.get('content-range'));
      if (start !== null && start !== offset) {
        await discard(res);
        throw new BitNetError('RANGE_UNSUPPORTED', `server for ${url} answered range at ${start}, asked ${offset}`, { details: { url } });
      }
      const chunks = await readBodyChunks(res, url);
      const got = chunks.reduce((n, c) => n + c.length, 0);
      if (got !== length) {
        throw new BitNetError('NETWORK', `short range reply from ${url}: ${got} of ${length} bytes`, { details: { url, offset, length } });
      }
      if (chunks.length === 1) return chunks[0]!;
      const out = new Uint8Array(length);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
  };
}

/** Total size from a Content-Range header ("bytes a-b/TOTAL" or "bytes \*\/TOTAL"); null when absent or unknown. */
function parseTotal(h: string | null): number | null {
  const m = h ? /\/\s*(\d+)\s*$/.exec(h) : null;
  return m ? Number(m[1]) : null;
}

function parseStart(h: string | null): number | null {
  const m = h ? /^\s*bytes\s+(\d+)-/i.exec(h) : null;
  return m ? Number(m[1]) : null;
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // ignore: the body is not needed
  }
}

async function readBodyChunks(res: Response, url: string): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  try {
    if (!res.body) {
      chunks.push(new Uint8Array(await res.arrayBuffer()));
      return chunks;
    }
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value && value.length > 0) chunks.push(value);
    }
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new BitNetError('NETWORK', `reading response body of ${url} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e, details: { url } });
  }
  return chunks;
}
