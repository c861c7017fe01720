/**
 * Opens the public engine (`createEngine`) for CLI commands that generate text.
 *
 * The engine runs in-process (`worker: false`): a CLI invocation serves one request, so a worker
 * would add a thread hop per pulled chunk and module resolution for the worker script (the sources
 * run through tsx, the build from dist/) without freeing anything useful; the wasm backend still
 * spreads its kernels over worker_threads. Load progress draws the stderr bar (TTY only); engine
 * warnings are printed as `bitnet: warning: <message>` lines; SIGINT (io.signal) aborts loading.
 */
import { createEngine, type Engine } from '../api/engine.js';
import type { LoadProgress } from '../api/events.js';
import type { BackendChoice } from '../backends/registry.js';
import { createProgress, type CliIO } from './io.js';

const LABELS: Readonly<Record<LoadProgress['phase'], string>> = {
  download: 'reading model',
  verify: 'verifying cached model',
  repack: 'preparing weights',
  upload: 'uploading weights',
  ready: 'ready',
};

/**
 * Loads `modelSpec` ('default', a path or a URL) on `backend`.
 * @throws BitNetError BAD_OPTION (unknown backend, before any work), IO / NETWORK / HTTP_STATUS / BAD_MAGIC
 *   and the other load errors of `createEngine`; AbortError on SIGINT.
 */
export async function openEngine(io: CliIO, modelSpec: string, backend: string): Promise<Engine> {
  const progress = createProgress(io.stderr);
  try {
    return await createEngine({
      model: modelSpec,
      backend: backend as BackendChoice, // validated by createEngine (BAD_OPTION naming `backend`)
      worker: false,
      onProgress: (p) => (p.phase === 'ready' ? progress.done() : progress.update(LABELS[p.phase], p.fraction)),
      onWarning: (w) => io.stderr.write(`bitnet: warning: ${w.message}\n`),
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } finally {
    progress.done();
  }
}
