/**
 * A small static file server for the built demo and examples: serves mounted directories on
 * 127.0.0.1 with COOP/COEP (unless disabled, or per document with `?coi=0`), HTTP Range requests
 * (the engine downloads models in ranged chunks), and `Cache-Control: no-store` so every load
 * really asks the server (what the reload tests count).
 *
 * With `testHooks`, it also answers under `/__test/`:
 * - `GET /__test/log` — the requests served so far (method, path, range, status, bytes sent);
 *   `POST /__test/log/clear` empties it.
 * - `POST /__test/fault?suffix=.gguf&after=N` — responses for paths ending with `suffix` stop after
 *   byte offset N of the file (the connection is destroyed mid-body, like a dropped download);
 *   `POST /__test/fault/clear` removes the fault.
 * - `POST /__test/delay?suffix=.gguf&ms=N` — responses for such paths wait N ms before the body
 *   (a slow network, to watch progress); `POST /__test/delay/clear` removes it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { isolationHeaders } from './headers.js';

export interface Mount {
  /** URL prefix ending with '/' (e.g. '/examples/react/'); '/' is the fallback. */
  readonly prefix: string;
  readonly dir: string;
}

export interface StaticServerOptions {
  readonly mounts: readonly Mount[];
  readonly host?: string;
  readonly port?: number;
  /** Send COOP/COEP (default true). */
  readonly isolation?: boolean;
  readonly testHooks?: boolean;
}

export interface LogEntry {
  readonly method: string;
  readonly path: string;
  readonly range: string | null;
  readonly status: number;
  /** Body bytes written (after a fault: what was sent before the cut). */
  bytes: number;
  readonly at: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly log: LogEntry[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.gguf': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

interface Fault {
  suffix: string;
  after: number;
}

/** Parses a single `bytes=a-b` / `bytes=a-` / `bytes=-n` range; null = none or unsatisfiable form. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // multi-range or junk: serve the whole file
  const [, a, b] = m;
  let start: number;
  let end: number;
  if (a === '' && b === '') return 'invalid';
  if (a === '') {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

function resolveFile(mounts: readonly Mount[], urlPath: string): string | null {
  const sorted = [...mounts].sort((x, y) => y.prefix.length - x.prefix.length);
  for (const m of sorted) {
    if (!urlPath.startsWith(m.prefix)) continue;
    const rel = decodeURIComponent(urlPath.slice(m.prefix.length));
    const base = resolve(m.dir);
    const full = normalize(join(base, rel));
    if (full !== base && !full.startsWith(base + sep)) return null;
    return full;
  }
  return null;
}

export async function startStaticServer(o: StaticServerOptions): Promise<RunningServer> {
  const log: LogEntry[] = [];
  let fault: Fault | null = null;
  let delay: { suffix: string; ms: number } | null = null;
  const isolation = o.isolation ?? true;

  async function handleTest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/__test/log' && req.method === 'GET') return send(200, log);
    if (url.pathname === '/__test/log/clear' && req.method === 'POST') {
      log.length = 0;
      return send(200, { ok: true });
    }
    if (url.pathname === '/__test/fault' && req.method === 'POST') {
      fault = { suffix: url.searchParams.get('suffix') ?? '.gguf', after: Number(url.searchParams.get('after') ?? '0') };
      return send(200, fault);
    }
    if (url.pathname === '/__test/fault/clear' && req.method === 'POST') {
      fault = null;
      return send(200, { ok: true });
    }
    if (url.pathname === '/__test/delay' && req.method === 'POST') {
      delay = { suffix: url.searchParams.get('suffix') ?? '.gguf', ms: Number(url.searchParams.get('ms') ?? '0') };
      return send(200, delay);
    }
    if (url.pathname === '/__test/delay/clear' && req.method === 'POST') {
      delay = null;
      return send(200, { ok: true });
    }
    send(404, { error: 'unknown test hook' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (o.testHooks && url.pathname.startsWith('/__test/')) return handleTest(req, res, url);
    const headers: Record<string, string> = { ...isolationHeaders(req.url ?? '/', isolation), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
    const entry: LogEntry = { method: req.method ?? 'GET', path: url.pathname, range: (req.headers.range as string | undefined) ?? null, status: 0, bytes: 0, at: Date.now() };
    log.push(entry);
    const finish = (status: number, body?: string): void => {
      (entry as { status: number }).status = status;
      res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(body ?? '');
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return finish(405, 'method not allowed');
    let file = resolveFile(o.mounts, url.pathname);
    if (!file) return finish(404, 'not found');
    let st = await stat(file).catch(() => null);
    if (st?.isDirectory()) {
      file = join(file, 'index.html');
      st = await stat(file).catch(() => null);
    }
    if (!st || !st.isFile()) return finish(404, 'not found');
    const size = st.size;
    const range = parseRange(req.headers.range as string | undefined, size);
    const type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    if (range === 'invalid') {
      (entry as { status: number }).status = 416;
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
      return void res.end();
    }
    const start = range ? range.start : 0;
    const end = range ? range.end : size - 1;
    const status = range ? 206 : 200;
    (entry as { status: number }).status = status;
    res.writeHead(status, {
      ...headers,
      'Content-Type': type,
      'Accept-Ranges': 'bytes',
      'Last-Modified': st.mtime.toUTCString(),
      ETag: `"${size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      'Content-Length': String(size === 0 ? 0 : end - start + 1),
      ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD' || size === 0) return void res.end();
    if (delay && delay.ms > 0 && url.pathname.endsWith(delay.suffix)) await new Promise((r) => setTimeout(r, delay!.ms));
    const f = fault && url.pathname.endsWith(fault.suffix) ? fault : null;
    if (f && end >= f.after) {
      // Send what lies before the cut, then drop the connection mid-body.
      const until = f.after - 1;
      if (until < start) {
        res.flushHeaders();
        setTimeout(() => res.destroy(), 10);
        return;
      }
      const s = createReadStream(file, { start, end: until });
      s.on('data', (c) => (entry.bytes += (c as Buffer).length));
      s.on('end', () => setTimeout(() => res.destroy(), 10));
      s.pipe(res, { end: false });
      return;
    }
    const s = createReadStream(file, { start, end });
    s.on('data', (c) => (entry.bytes += (c as Buffer).length));
    s.on('error', () => res.destroy());
    s.pipe(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    });
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(o.port ?? 0, host, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    server,
    log,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}
