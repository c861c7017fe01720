/**
 * Reads a whole small file (an ONNX embedder model, a tokenizer.json) from wherever the caller keeps it:
 *
 * | source                                         | how                                             |
 * |------------------------------------------------|-------------------------------------------------|
 * | `ArrayBuffer` / typed array                     | used as is (a view, no copy)                    |
 * | `http(s):`, `blob:`, `data:` URL (string or URL) | `fetch` (options.fetch, default global fetch)   |
 * | `file:` URL, or any other string in Node        | a local path, read with `node:fs/promises`      |
 * | relative string in a browser                    | resolved against the page URL, then fetched     |
 *
 * Failures are `BitNetError`s: `BAD_OPTION` (empty or unusable source), `NETWORK` (transport),
 * `HTTP_STATUS` (non-2xx reply, details.status), `IO` (local file, details.path); an aborted `signal`
 * rejects with `AbortError`, also in the middle of a download.
 */
import { BitNetError, isAbortError, throwIfAborted } from '../errors.js';

export type BinarySource = string | URL | ArrayBuffer | ArrayBufferView;

export interface ReadBytesOptions {
  readonly fetch?: typeof fetch;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

const FETCHED = new Set(['http:', 'https:', 'blob:', 'data:']);

function inNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

function parseAbsolute(s: string): URL | null {
  try {
    const u = new URL(s);
    // "C:\models\x.onnx" parses as scheme "c:"; a one-letter scheme is a Windows drive, not a URL.
    return u.protocol.length === 2 ? null : u;
  } catch {
    return null;
  }
}

/** `what` names the file in messages ("embedder model", "tokenizer"). */
export async function readAllBytes(source: BinarySource, what: string, options: ReadBytesOptions = {}): Promise<Uint8Array> {
  throwIfAborted(options.signal);
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (!(source instanceof URL) && typeof source !== 'string') {
    throw new BitNetError('BAD_OPTION', `${what}: expected a URL, path, ArrayBuffer or typed array`, { details: { option: what } });
  }
  if (typeof source === 'string' && source.length === 0) throw new BitNetError('BAD_OPTION', `${what}: empty string`, { details: { option: what } });
  let url = source instanceof URL ? source : parseAbsolute(source);
  if (url === null && !inNode()) {
    const base = (globalThis as { location?: { href?: string } }).location?.href;
    try {
      url = new URL(source as string, base);
    } catch (e) {
      throw new BitNetError('BAD_OPTION', `${what}: cannot resolve ${String(source)} to a URL`, { cause: e, details: { option: what } });
    }
  }
  if (url === null || url.protocol === 'file:') return readLocal(url ?? (source as string), what, options.signal);
  if (!FETCHED.has(url.protocol)) {
    throw new BitNetError('BAD_OPTION', `${what}: unsupported URL scheme ${url.protocol} (use http(s), blob, data or file)`, { details: { option: what, url: url.href } });
  }
  return download(url.href, what, options);
}

async function download(href: string, what: string, options: ReadBytesOptions): Promise<Uint8Array> {
  const doFetch = options.fetch ?? globalThis.fetch;
  if (typeof doFetch !== 'function') throw new BitNetError('NETWORK', `${what}: no fetch implementation available`);
  let res: Response;
  try {
    res = await doFetch(href, { headers: options.headers ?? {}, signal: options.signal ?? null });
  } catch (e) {
    if (isAbortError(e)) throw e;
    throwIfAborted(options.signal);
    throw new BitNetError('NETWORK', `${what}: fetching ${href} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e, details: { url: href } });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new BitNetError('HTTP_STATUS', `${what}: ${href}: HTTP ${res.status} ${res.statusText}`, { details: { url: href, status: res.status } });
  }
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (isAbortError(e)) throw e;
    throwIfAborted(options.signal);
    throw new BitNetError('NETWORK', `${what}: reading ${href} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e, details: { url: href } });
  }
}

async function readLocal(path: string | URL, what: string, signal?: AbortSignal): Promise<Uint8Array> {
  const modName = 'node:fs/promises';
  let fs: { readFile(path: string | URL, options?: { signal?: AbortSignal }): Promise<Uint8Array> };
  try {
    fs = (await import(/* @vite-ignore */ modName)) as typeof fs;
  } catch (e) {
    throw new BitNetError('IO', `${what}: local paths can only be read in Node`, { cause: e });
  }
  const name = path instanceof URL ? path.href : path;
  try {
    const buf = await fs.readFile(path, signal ? { signal } : undefined);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (isAbortError(e)) throw e;
    throwIfAborted(signal);
    throw new BitNetError('IO', `${what}: cannot read ${name}: ${(e as Error).message}`, { cause: e, details: { path: name, errno: (e as { code?: unknown }).code } });
  }
}
