/**
 * Shared CLI steps: open a model (with a progress bar on a TTY) and create a backend by name.
 */
import { parseBackendChoice, selectBackendFactory } from '../backends/registry.js';
import type { Backend } from '../backends/backend.js';
import { loadModel, type LoadedModel } from '../model/load-model.js';
import { createProgress, type CliIO } from './io.js';

export interface CliSession {
  readonly model: LoadedModel;
  readonly backend: Backend;
  close(): Promise<void>;
}

/** Loads `modelSpec` ('default', a path or a URL) and creates the backend named by `backendName`. */
export async function openSession(io: CliIO, modelSpec: string, backendName = 'auto'): Promise<CliSession> {
  // Resolve the backend first so an unavailable one fails before any loading work.
  const factory = await selectBackendFactory(parseBackendChoice(backendName));
  const progress = createProgress(io.stderr);
  const signal = io.signal;
  let model: LoadedModel | undefined;
  try {
    model = await loadModel(modelSpec, {
      ...(signal ? { signal } : {}),
      onProgress: (done, total) => progress.update('loading weights', total > 0 ? done / total : 1),
      onWarning: (m) => io.stderr.write(`bitnet: warning: ${m}\n`),
    });
    const backend = await factory.create(model.weights, {
      ...(signal ? { signal } : {}),
      onProgress: (phase, f) => progress.update(phase === 'repack' ? 'preparing weights' : 'uploading weights', f),
    });
    progress.done();
    const m = model;
    return {
      model: m,
      backend,
      async close() {
        await backend.dispose();
        await m.file.close();
      },
    };
  } catch (e) {
    progress.done();
    await model?.file.close();
    throw e;
  }
}
