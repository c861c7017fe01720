/**
 * A local HTTP file server on 127.0.0.1 for download tests: serves in-memory files with Range support,
 * and can misbehave on demand (ignore Range, cut a body off midway, fail with a status).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RangeServer {
  readonly origin: string;
  url(path: string): string;
  /** Every request seen: path and Range header. */
  readonly requests: { path: string; range: string | null }[];
  files: Map<string, Uint8Array>;
  /** Behaviour switches, changeable between requests. */
  mode: {
    ignoreRange: boolean;
    /** Send only this many body bytes, then destroy the socket (for the next `cutCount` replies). */
    cutAfter: number | null;
    cutCount: number;
    /** Reply with this status to every request. */
    status: number | null;
    etag: string;
  };
  close(): Promise<void>;
}

export async function startRangeServer(files: Record<string, Uint8Array>): Promise<RangeServer> {
  const s: Omit<RangeServer, 'origin' | 'url' | 'close'> = {
    requests: [],
    files: new Map(Object.entries(files)),
    mode: { ignoreRange: false, cutAfter: null, cutCount: 0, status: null, etag: '"v1"' },
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    const range = req.headers.range ?? null;
    s.requests.push({ path, range });
    if (s.mode.status !== null) {
      res.writeHead(s.mode.status, { 'content-type': 'text/plain' });
      res.end('error');
      return;
    }
    const file = s.files.get(path);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    let start = 0;
    let end = file.length;
    let status = 200;
    const m = range && !s.mode.ignoreRange ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    const headers: Record<string, string> = { etag: s.mode.etag, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]) + 1, file.length) : file.length;
      if (start >= file.length) {
        res.writeHead(416, { 'content-range': `bytes */${file.length}` });
        res.end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end - 1}/${file.length}`;
    }
    headers['content-length'] = String(end - start);
    res.writeHead(status, headers);
    const body = file.subarray(start, end);
    if (s.mode.cutAfter !== null && s.mode.cutCount > 0) {
      s.mode.cutCount--;
      res.write(body.subarray(0, Math.min(s.mode.cutAfter, body.length)), () => res.destroy());
      return;
    }
    res.end(body);
  };
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(s, {
    origin,
    url: (p: string) => origin + p,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}

/** Deterministic pseudo-random bytes starting with the GGUF magic. */
export function fakeGguf(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out.set([0x47, 0x47, 0x55, 0x46], 0);
  return out;
}
