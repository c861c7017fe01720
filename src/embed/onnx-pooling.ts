/**
 * Turning an ONNX embedding model's output into one L2-normalised vector per text:
 * - rank 2 `[batch, dim]` (a model that pools itself, e.g. `sentence_embedding`): each row as is;
 * - rank 3 `[batch, seq, dim]` (token states, e.g. `last_hidden_state`): the mean over the positions
 *   whose attention mask is 1 (the text's own tokens; padding is ignored), as sentence-transformers
 *   models are trained to be used.
 * Both are then L2-normalised. Anything else is `MODEL_IO_MISMATCH`.
 */
import { BitNetError } from '../errors.js';
import { normalizeInPlace } from './embedder.js';
import type { OrtTensor } from './ort-runtime.js';

export type Pooling = 'model' | 'mean';

/** Which pooling an output of this rank needs. @throws BitNetError MODEL_IO_MISMATCH */
export function poolingFor(output: OrtTensor, name: string): Pooling {
  if (output.type !== 'float32' || !(output.data instanceof Float32Array)) {
    throw new BitNetError('MODEL_IO_MISMATCH', `output ${name} has type ${output.type}; the embedder reads float32`, { details: { output: name, type: output.type } });
  }
  if (output.dims.length === 2) return 'model';
  if (output.dims.length === 3) return 'mean';
  throw new BitNetError('MODEL_IO_MISMATCH', `output ${name} has shape [${output.dims.join(', ')}]; expected [batch, dim] or [batch, seq, dim]`, {
    details: { output: name, dims: [...output.dims] },
  });
}

/**
 * One vector per batch row. `lengths[b]` is the number of mask-1 positions of row b (they come first:
 * rows are right-padded). Checks the output's batch and sequence sizes against the inputs.
 */
export function poolRows(output: OrtTensor, name: string, lengths: readonly number[], seq: number): Float32Array[] {
  const pooling = poolingFor(output, name);
  const data = output.data as Float32Array;
  const dims = output.dims;
  const dim = dims[dims.length - 1]!;
  if (dims[0] !== lengths.length || (pooling === 'mean' && dims[1] !== seq) || dim < 1) {
    throw new BitNetError('MODEL_IO_MISMATCH', `output ${name} has shape [${dims.join(', ')}] for a batch of ${lengths.length} × ${seq} tokens`, {
      details: { output: name, dims: [...dims] },
    });
  }
  const rows: Float32Array[] = [];
  for (let b = 0; b < lengths.length; b++) {
    if (pooling === 'model') {
      rows.push(normalizeInPlace(data.slice(b * dim, (b + 1) * dim)));
      continue;
    }
    const v = new Float32Array(dim);
    const n = lengths[b]!;
    const base = b * seq * dim;
    for (let t = 0; t < n; t++) {
      const off = base + t * dim;
      for (let d = 0; d < dim; d++) v[d]! += data[off + d]!;
    }
    if (n > 0) for (let d = 0; d < dim; d++) v[d]! /= n;
    rows.push(normalizeInPlace(v));
  }
  return rows;
}
