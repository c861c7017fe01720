/**
 * Writes the comparison GGUF that wllama (llama.cpp compiled to wasm) runs: the same tensors, with
 * the same values and shapes, as one of our model files, re-encoded into what upstream llama.cpp
 * loads (Node only).
 *
 * - `general.architecture` becomes `bitnet` (the only BitNet name in wllama 3.8.1's llama.cpp; it has
 *   no `bitnet-b1.58` / `bitnet-25`), every `<old arch>.*` key is renamed `bitnet.*`, and
 *   `general.file_type` is 37 (LLAMA_FTYPE_MOSTLY_TQ2_0).
 * - Ternary projections become TQ2_0 (one f16 scale per 256 elements = the tensor's scale, so the
 *   values are those of the source up to the f16 rounding of the scale, which TQ2_0 imposes).
 *   A projection whose row length is not a multiple of 256 (the default model's ffn_down: 640)
 *   cannot be TQ2_0; like llama-quantize's fallback for TQ types it becomes Q4_0, with the ternary
 *   codes stored exactly (q = t + 8, d = scale).
 * - Every other tensor (F16 embedding, F32 norms) is copied byte for byte.
 *
 * Activation: our loader treats `bitnet` as SiLU-gated, the source (`bitnet-b1.58`) as ReLU²-gated;
 * the compute per token is the same, so the speed comparison is unaffected (see the report notes).
 */
import { existsSync, renameSync, statSync } from 'node:fs';
import { BitNetError } from '../../src/errors.js';
import { encodeTernary, f32ToF16, isTernaryType, ternaryFromTensor } from '../../src/model/formats/index.js';
import { type GGUFEntry, GGUFValueType } from '../../src/model/gguf-types.js';
import { type GGUFWriterTensor, writeGGUFToFile } from '../../src/model/gguf-writer.js';
import { openModelFile } from '../../src/model/load-model.js';
import type { TernaryMatrix } from '../../src/model/tensor.js';

export const WLLAMA_ARCH = 'bitnet';
const FTYPE_MOSTLY_TQ2_0 = 37;

export interface TwinSummary {
  readonly path: string;
  readonly bytes: number;
  /** Tensor name → type written. */
  readonly types: Record<string, number>;
  readonly q4Fallback: readonly string[];
}

/** Q4_0 blocks (32 elements: f16 d, 16 bytes of nibbles; element j low nibble of byte j, j+16 high). */
export function encodeTernaryQ4_0(m: TernaryMatrix): Uint8Array {
  if (m.cols % 32 !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `Q4_0 needs a row length that is a multiple of 32, got ${m.cols}`);
  const bpr = m.cols / 32;
  const rb = Math.ceil(m.cols / 4);
  const out = new Uint8Array(m.rows * bpr * 18);
  const code = (r: number, c: number): number => (m.packed[r * rb + (c >> 2)]! >> (2 * (c & 3))) & 3;
  for (let r = 0; r < m.rows; r++) {
    for (let b = 0; b < bpr; b++) {
      const o = (r * bpr + b) * 18;
      const s = m.blockScales ? m.blockScales[r * Math.ceil(m.cols / m.scaleBlock) + Math.floor((b * 32) / m.scaleBlock)]! : m.scale;
      const h = f32ToF16(s);
      out[o] = h & 0xff;
      out[o + 1] = h >> 8;
      // canonical code = t + 1, Q4_0 nibble = t + 8 → nibble = code + 7
      for (let j = 0; j < 16; j++) out[o + 2 + j] = (code(r, b * 32 + j) + 7) | ((code(r, b * 32 + j + 16) + 7) << 4);
    }
  }
  return out;
}

/**
 * Writes the wllama twin of `src` to `dst` unless `dst` is already newer than `src`.
 * @throws BitNetError from the reader, or BAD_TENSOR_SHAPE when a row length fits neither TQ2_0 nor Q4_0.
 */
export async function ensureWllamaTwin(src: string, dst: string, log: (l: string) => void = () => undefined): Promise<TwinSummary> {
  const f = await openModelFile(src);
  try {
    const arch = f.architecture ?? WLLAMA_ARCH;
    const types: Record<string, number> = {};
    const q4: string[] = [];
    const tensors: GGUFWriterTensor[] = f.tensors.map((t) => {
      if (!isTernaryType(t.type)) {
        types[t.type] = (types[t.type] ?? 0) + 1;
        return { name: t.name, dims: t.dims, type: t.typeId, data: () => f.readTensorBytes(t) };
      }
      const tq2 = t.dims[0]! % 256 === 0;
      types[tq2 ? 'TQ2_0' : 'Q4_0'] = (types[tq2 ? 'TQ2_0' : 'Q4_0'] ?? 0) + 1;
      if (!tq2) q4.push(t.name);
      return {
        name: t.name, dims: t.dims, type: tq2 ? 'TQ2_0' : 'Q4_0',
        data: async () => {
          const m = ternaryFromTensor(t, await f.readTensorBytes(t));
          return tq2 ? encodeTernary('TQ2_0', m) : encodeTernaryQ4_0(m);
        },
      };
    });
    if (existsSync(dst) && statSync(dst).mtimeMs > statSync(src).mtimeMs) return { path: dst, bytes: statSync(dst).size, types, q4Fallback: q4 };
    const metadata: Array<[string, GGUFEntry]> = [];
    for (const [k, v] of f.metadata) {
      if (k === 'general.architecture') metadata.push([k, { type: GGUFValueType.STRING, value: WLLAMA_ARCH }]);
      else if (k === 'general.file_type') metadata.push([k, { type: GGUFValueType.UINT32, value: FTYPE_MOSTLY_TQ2_0 }]);
      else if (k === 'general.name' && typeof v.value === 'string') metadata.push([k, { type: GGUFValueType.STRING, value: `${v.value}-tq2_0` }]);
      else if (k.startsWith(arch + '.')) metadata.push([WLLAMA_ARCH + k.slice(arch.length), v]);
      else metadata.push([k, v]);
    }
    log(`writing wllama comparison model ${dst} (arch ${arch} → ${WLLAMA_ARCH}, ternary → TQ2_0${q4.length ? `, ${q4.length} tensors with rows not a multiple of 256 → Q4_0` : ''}) ...`);
    const tmp = dst + '.partial';
    const bytes = await writeGGUFToFile({ metadata, tensors, alignment: f.alignment }, tmp);
    renameSync(tmp, dst);
    return { path: dst, bytes, types, q4Fallback: q4 };
  } finally {
    await f.close();
  }
}
