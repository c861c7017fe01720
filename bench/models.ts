/**
 * Model files of the benchmarks (Node). Names:
 *   - `kjv`  → models/bitnet-kjv.gguf (the default model);
 *   - `2b4t` → a synthetic model with the exact microsoft/bitnet-b1.58-2B-4T shapes (30 layers, I2_S
 *     projections, F16 tied embedding, LLaMA-3 vocabulary; ~1.18 GB), written once by the fixture
 *     generator into bench/.cache/ (gitignored) and reused;
 *   - anything else is taken as a path.
 * Generating the 2B-4T file takes a few minutes of one core; it is done on first use only.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFixtureFile } from '../src/model/fixtures.js';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const CACHE_DIR = REPO + 'bench/.cache/';
export const DEFAULT_SYNTHETIC = CACHE_DIR + 'bitnet-2b4t-synthetic.gguf';

/** Writes the synthetic model with the exact 2B-4T shapes (I2_S projections, F16 tied embedding, LLaMA-3 vocabulary). */
export async function writeSynthetic2b4t(path: string): Promise<number> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = path + '.partial';
  const n = await writeFixtureFile({ shape: '2b4t', ternaryType: 'I2_S', embeddingType: 'F16', seed: 1 }, tmp);
  renameSync(tmp, path);
  return n;
}

/** Path of a benchmark model, generating the synthetic one when missing; null when the file is absent. */
export async function benchModelPath(name: string, syntheticPath = DEFAULT_SYNTHETIC, log: (l: string) => void = () => undefined): Promise<string | null> {
  if (name === 'kjv') return REPO + 'models/bitnet-kjv.gguf';
  if (name === '2b4t') {
    if (!existsSync(syntheticPath)) {
      log(`generating the synthetic 2B-4T-shaped model (I2_S, F16 embedding, ~1.18 GB) at ${syntheticPath} (a few minutes, once) ...`);
      await writeSynthetic2b4t(syntheticPath);
    }
    return syntheticPath;
  }
  return existsSync(name) ? name : null;
}
