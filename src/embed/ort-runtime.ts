/**
 * Finding onnxruntime-web at run time. It is an optional peer dependency: the SDK never imports it
 * statically, so pages and Node programs that do not use the ONNX embedder neither load nor need it.
 *
 * `loadOrt` resolves, in order: the module the caller passed (`ort` option; e.g. after
 * `import * as ort from 'onnxruntime-web'`), a global `ort` (the `<script src=".../ort.min.js">`
 * build), or `import('onnxruntime-web')`. A missing package is `FEATURE_UNAVAILABLE`.
 *
 * Node 20: the package's "node" export runs the same wasm backend (ort-wasm-simd-threaded.wasm, found
 * next to the package's own files, no `wasmPaths` needed); it runs single-threaded there. The first
 * session in a process compiles the ~14 MB wasm, which takes seconds (8-30 s on a busy 2-core box).
 *
 * The types below are the small structural subset of onnxruntime-web's API the embedder uses, so that
 * the SDK's declarations do not depend on the package being installed.
 */
import { BitNetError } from '../errors.js';

/**
 * Imported through a computed specifier so bundlers of apps using bitnet-web do not pull the 28 MB
 * onnxruntime wasm into every build: in browsers pass `ort` (or load its script, global `ort`); in
 * Node and in bundlers that resolve bare specifiers at run time the package is found when installed.
 */
const ORT_PACKAGE: string = ['onnxruntime', 'web'].join('-');

export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  dispose?(): void;
}

export interface OrtValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Present in onnxruntime-web 1.21+. */
  readonly inputMetadata?: readonly OrtValueMetadata[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release?(): Promise<void>;
}

export interface OrtModule {
  readonly InferenceSession: { create(model: Uint8Array, options?: { executionProviders?: string[] }): Promise<OrtSession> };
  readonly Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => OrtTensor;
  readonly env: { wasm: { numThreads?: number; wasmPaths?: unknown; proxy?: boolean } };
}

export interface OrtLoadOptions {
  /** The onnxruntime-web module to use instead of finding one. */
  readonly ort?: OrtModule;
  /** Test hook replacing `import('onnxruntime-web')`. */
  readonly importOrt?: () => Promise<unknown>;
}

function isOrtModule(m: unknown): m is OrtModule {
  const o = m as Partial<OrtModule> | null;
  return typeof o === 'object' && o !== null && typeof o.InferenceSession?.create === 'function' && typeof o.Tensor === 'function' && typeof o.env === 'object';
}

/** @throws BitNetError FEATURE_UNAVAILABLE (not installed / not an onnxruntime module) */
export async function loadOrt(options: OrtLoadOptions = {}): Promise<OrtModule> {
  if (options.ort !== undefined) {
    if (!isOrtModule(options.ort)) throw new BitNetError('BAD_OPTION', 'ort: expected the onnxruntime-web module', { details: { option: 'ort' } });
    return options.ort;
  }
  const global = (globalThis as { ort?: unknown }).ort;
  if (options.importOrt === undefined && isOrtModule(global)) return global;
  let mod: unknown;
  try {
    mod = await (options.importOrt ?? (() => import(/* @vite-ignore */ ORT_PACKAGE) as Promise<unknown>))();
  } catch (e) {
    throw new BitNetError('FEATURE_UNAVAILABLE', `the ONNX embedder needs onnxruntime-web (npm install onnxruntime-web), which could not be loaded: ${(e as Error)?.message ?? String(e)}`, {
      cause: e,
      details: { package: 'onnxruntime-web' },
    });
  }
  const candidate = isOrtModule(mod) ? mod : (mod as { default?: unknown } | null)?.default;
  if (!isOrtModule(candidate)) throw new BitNetError('FEATURE_UNAVAILABLE', 'onnxruntime-web loaded but does not look like onnxruntime (no InferenceSession/Tensor/env)');
  return candidate;
}
