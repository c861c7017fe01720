/**
 * The model identity the result cache scopes its entries by, strongest first:
 *
 * 1. `sha256:<fingerprint>`: the content fingerprint the model cache computes for URL downloads
 *    (`ModelInfo.fingerprint`: sha256 over the sha256 of each chunk of the file).
 * 2. `sha256:<fingerprint>` computed here from the bytes with the same scheme and the default 32 MiB
 *    chunks, for models given as bytes, a Blob / File, a Node path or a blob: / data: URL. An
 *    identical file therefore gets the same identity however it is loaded (a URL download with a
 *    non-default `cache.chunkSize` gets a different, still content-derived, identity).
 * 3. `sampled:<sha256>`: where no `crypto.subtle` exists (pages served over plain http) and the model
 *    is larger than 64 MiB, hashing it all in script would stall the page; the identity then hashes
 *    the size plus 33 spread 64 KiB samples of the file (including its header, which names every
 *    tensor). Weaker: two files equal at every sample would collide.
 * 4. `meta:<sha256>` of the model's name, architecture, shape, size and location, only when the
 *    bytes cannot be read again (a revoked blob: URL); documented as the weakest identity.
 *
 * Never throws: a failure to read the bytes falls through to the next identity.
 */
import { DEFAULT_CHUNK_SIZE, fingerprintOf } from './download.js';
import { sha256Hex } from './sha256.js';
import type { ModelInfo } from '../worker/protocol.js';

/** Reads `[start, end)` of a model's bytes. */
type ReadRange = (start: number, end: number) => Promise<Uint8Array>;

const SAMPLED_LIMIT = 64 * 1024 * 1024;
const SAMPLE = 64 * 1024;

function hasSubtle(): boolean {
  return typeof (globalThis as { crypto?: { subtle?: unknown } }).crypto?.subtle === 'object';
}

async function fingerprintOfRange(size: number, read: ReadRange): Promise<string> {
  if (!hasSubtle() && size > SAMPLED_LIMIT) {
    const parts: Uint8Array[] = [new TextEncoder().encode(`size:${size};`)];
    for (let i = 0; i <= 32; i++) {
      const at = Math.min(size - SAMPLE, Math.floor(((size - SAMPLE) * i) / 32));
      parts.push(await read(Math.max(0, at), Math.max(0, at) + SAMPLE));
    }
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return `sampled:${await sha256Hex(all)}`;
  }
  const hashes: string[] = [];
  for (let start = 0; start < size || (size === 0 && hashes.length === 0); start += DEFAULT_CHUNK_SIZE) {
    hashes.push(await sha256Hex(await read(start, Math.min(size, start + DEFAULT_CHUNK_SIZE))));
  }
  return `sha256:${await fingerprintOf(hashes)}`;
}

function bytesOf(input: ArrayBuffer | ArrayBufferView): Uint8Array {
  return input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
}

async function fileIdentity(path: string): Promise<string> {
  const modName = 'node:fs/promises';
  const fs = (await import(/* @vite-ignore */ modName)) as typeof import('node:fs/promises');
  const p = path.startsWith('file:') ? decodeURIComponent(new URL(path).pathname) : path;
  const h = await fs.open(p, 'r');
  try {
    const { size } = await h.stat();
    return await fingerprintOfRange(size, async (start, end) => {
      const buf = new Uint8Array(end - start);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await h.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return buf.subarray(0, got);
    });
  } finally {
    await h.close();
  }
}

/**
 * Content identity of a model input the engine was given directly (not an http(s) URL: those get
 * their fingerprint from the download). Null when the input is an http(s) URL or cannot be read.
 * Safe to run while the engine loads the same input (it only reads).
 */
export async function contentIdentity(input: unknown): Promise<string | null> {
  try {
    if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
      const b = bytesOf(input as ArrayBuffer | ArrayBufferView);
      return await fingerprintOfRange(b.length, async (s, e) => b.subarray(s, e));
    }
    if (typeof Blob !== 'undefined' && input instanceof Blob) {
      return await fingerprintOfRange(input.size, async (s, e) => new Uint8Array(await input.slice(s, e).arrayBuffer()));
    }
    if (typeof input !== 'string' && !(input instanceof URL)) return null;
    const s = String(input);
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(s)?.[1]?.toLowerCase();
    if (scheme === 'http' || scheme === 'https') return null;
    if (scheme === 'blob' || scheme === 'data') {
      const b = new Uint8Array(await (await fetch(s)).arrayBuffer());
      return await fingerprintOfRange(b.length, async (st, e) => b.subarray(st, e));
    }
    const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
    return isNode && (scheme === undefined || scheme === 'file' || /^[a-z]:[\\/]/i.test(s)) ? await fileIdentity(s) : null;
  } catch {
    return null;
  }
}

/** The weakest identity (4 in the module comment), from what the engine reports about the model. */
export async function metadataIdentity(m: ModelInfo): Promise<string> {
  const desc = JSON.stringify([m.name, m.architecture, m.source, m.location, m.sizeBytes, m.vocabSize, m.contextLength, m.nLayer, m.nEmbd, m.chatFormat]);
  return `meta:${await sha256Hex(new TextEncoder().encode(desc))}`;
}

/** Picks the strongest identity available (see the module comment). */
export async function resultModelIdentity(model: ModelInfo, computed: Promise<string | null>): Promise<string> {
  if (model.fingerprint) return `sha256:${model.fingerprint}`;
  return (await computed) ?? (await metadataIdentity(model));
}
