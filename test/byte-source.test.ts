import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BitNetError } from '../src/errors.js';
import { blobSource, bufferSource, chunkedSource, fileSource, httpSource } from '../src/model/byte-source.js';
import { makeFixture } from '../src/model/fixtures.js';
import { openGGUF } from '../src/model/gguf.js';

const DATA = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BitNetError);
    return (err as BitNetError).code;
  }
  throw new Error('expected a rejection');
}

describe('memory, blob and file sources', () => {
  it('read exact ranges and reject out-of-range reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bytesrc-'));
    try {
      await writeFile(join(dir, 'f.bin'), DATA);
      const file = await fileSource(join(dir, 'f.bin'));
      const sources = [
        bufferSource(DATA),
        bufferSource(DATA.buffer),
        chunkedSource([DATA.subarray(0, 3), DATA.subarray(3, 3), DATA.subarray(3, 500), DATA.subarray(500)]),
        blobSource(new Blob([DATA])),
        file,
      ];
      for (const s of sources) {
        expect(s.size).toBe(1000);
        expect(Array.from(await s.read(0, 0))).toEqual([]);
        expect(Array.from(await s.read(2, 5))).toEqual(Array.from(DATA.subarray(2, 7)));
        expect(Array.from(await s.read(490, 20))).toEqual(Array.from(DATA.subarray(490, 510)));
        expect(Array.from(await s.read(999, 1))).toEqual([DATA[999]]);
        expect(await codeOf(s.read(995, 10))).toBe('OUT_OF_BOUNDS');
        expect(await codeOf(s.read(-1, 1))).toBe('OUT_OF_BOUNDS');
        expect(await codeOf(s.read(1.5, 1))).toBe('OUT_OF_BOUNDS');
      }
      await file.close!();
      expect(await codeOf(file.read(0, 1))).toBe('DISPOSED');
      expect(await codeOf(fileSource(join(dir, 'missing.bin')))).toBe('IO');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

type Handler = (init: RequestInit | undefined) => Response | Promise<Response>;

function fakeFetch(handler: Handler): typeof fetch & { calls: Array<{ method: string; range: string | null }> } {
  const calls: Array<{ method: string; range: string | null }> = [];
  const f = (async (_url: unknown, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({ method: init?.method ?? 'GET', range: headers.get('range') });
    return handler(init);
  }) as typeof fetch & { calls: typeof calls };
  f.calls = calls;
  return f;
}

/** A well-behaved range server over DATA. */
function rangeReply(init: RequestInit | undefined, total: string = String(DATA.length)): Response {
  const range = new Headers(init?.headers).get('range');
  const m = /bytes=(\d+)-(\d+)/.exec(range ?? '');
  if (!m) return new Response(DATA, { status: 200 });
  const a = Number(m[1]);
  const b = Math.min(Number(m[2]), DATA.length - 1);
  return new Response(DATA.slice(a, b + 1), { status: 206, headers: { 'content-range': `bytes ${a}-${b}/${total}` } });
}

describe('httpSource', () => {
  it('probes the size with a one-byte range and reads ranges', async () => {
    const f = fakeFetch((init) => rangeReply(init));
    const s = await httpSource('http://x/m.gguf', { fetch: f });
    expect(s.size).toBe(1000);
    expect(Array.from(await s.read(10, 4))).toEqual(Array.from(DATA.subarray(10, 14)));
    expect(f.calls).toEqual([{ method: 'GET', range: 'bytes=0-0' }, { method: 'GET', range: 'bytes=10-13' }]);
    expect(await codeOf(s.read(999, 2))).toBe('OUT_OF_BOUNDS');
  });

  it('falls back to HEAD when Content-Range has no total', async () => {
    const f = fakeFetch((init) => (init?.method === 'HEAD' ? new Response(null, { status: 200, headers: { 'content-length': '1000' } }) : rangeReply(init, '*')));
    const s = await httpSource('http://x/m.gguf', { fetch: f });
    expect(s.size).toBe(1000);
  });

  it('refuses servers that ignore Range unless a full download is allowed', async () => {
    const f = fakeFetch(() => new Response(DATA, { status: 200 }));
    expect(await codeOf(httpSource('http://x/m.gguf', { fetch: f }))).toBe('RANGE_UNSUPPORTED');
    const s = await httpSource('http://x/m.gguf', { fetch: f, allowFullDownload: true });
    expect(s.size).toBe(1000);
    expect(Array.from(await s.read(500, 3))).toEqual(Array.from(DATA.subarray(500, 503)));
  });

  it('maps HTTP errors, network failures, mid-session Range loss and aborts', async () => {
    expect(await codeOf(httpSource('http://x', { fetch: fakeFetch(() => new Response('no', { status: 404 })) }))).toBe('HTTP_STATUS');
    const err = await httpSource('http://x', { fetch: fakeFetch(() => new Response('no', { status: 403 })) }).catch((x: unknown) => x);
    expect((err as BitNetError).details?.status).toBe(403);
    const down = fakeFetch(() => {
      throw new TypeError('fetch failed');
    });
    expect(await codeOf(httpSource('http://x', { fetch: down }))).toBe('NETWORK');

    let n = 0;
    const flaky = fakeFetch((init) => (n++ === 0 ? rangeReply(init) : new Response(DATA, { status: 200 })));
    const s = await httpSource('http://x', { fetch: flaky });
    expect(await codeOf(s.read(0, 10))).toBe('RANGE_UNSUPPORTED');

    let m = 0;
    const failing = fakeFetch((init) => (m++ === 0 ? rangeReply(init) : new Response('', { status: 500 })));
    const s2 = await httpSource('http://x', { fetch: failing });
    expect(await codeOf(s2.read(0, 10))).toBe('HTTP_STATUS');

    const short = fakeFetch((init) => {
      const r = rangeReply(init);
      return r.status === 206 && new Headers(init?.headers).get('range') !== 'bytes=0-0'
        ? new Response(DATA.slice(0, 2), { status: 206, headers: { 'content-range': 'bytes 0-1/1000' } })
        : r;
    });
    const s3 = await httpSource('http://x', { fetch: short });
    expect(await codeOf(s3.read(0, 10))).toBe('NETWORK');

    const ac = new AbortController();
    ac.abort();
    const abortErr = await httpSource('http://x', { fetch: fakeFetch((i) => rangeReply(i)), signal: ac.signal }).catch((x: unknown) => x);
    expect((abortErr as Error).name).toBe('AbortError');
  });

  describe('against a real HTTP server', () => {
    let server: ReturnType<typeof createServer>;
    let base = '';
    let file: Uint8Array;
    beforeAll(async () => {
      file = await makeFixture({ arch: 'bitnet', ternaryType: 'TQ2_0', nLayer: 1, nFf: 256, vocab: 300, nMerges: 10 });
      server = createServer((req, res) => {
        const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
        if (!m) {
          res.writeHead(200, { 'content-length': file.length });
          res.end(Buffer.from(file));
          return;
        }
        const a = Number(m[1]);
        const b = Math.min(Number(m[2]), file.length - 1);
        res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${file.length}`, 'content-length': b - a + 1 });
        res.end(Buffer.from(file.subarray(a, b + 1)));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('opens a GGUF over HTTP Range requests', async () => {
      const f = await openGGUF(await httpSource(`${base}/m.gguf`));
      expect(f.architecture).toBe('bitnet');
      const t = f.tensor('blk.0.ffn_down.weight')!;
      const bytes = await f.readTensorBytes(t);
      expect(Array.from(bytes)).toEqual(Array.from(file.subarray(f.dataOffset + t.offset, f.dataOffset + t.offset + t.nbytes)));
    });
  });
});
