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
import { type ModelInput, openModel } from './open-model.js';
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

/**
 * Content identity of a model input the engine was given directly (not an http(s) URL: those get
 * their fingerprint from the download). Null when the input is an http(s) URL or cannot be read.
 * Safe to run while the engine loads the same input (it only reads).
 */
export async function contentIdentity(input: unknown): Promise<string | null> {
  try {
    if (typeof input === 'string' || input instanceof URL) {
      const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(String(input))?.[1]?.toLowerCase();
      if (scheme === 'http' || scheme === 'https') return null;
    }
    // The same byte sources the engine loads from (paths and file: URLs in Node, Blobs, buffers, blob:/data: URLs).
    const { source } = await openModel(input as ModelInput, { cache: false });
    try {
      return await fingerprintOfRange(source.size, (start, end) => source.read(start, end - start));
    } finally {
      await source.close?.();
    }
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
