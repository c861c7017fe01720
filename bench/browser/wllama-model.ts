/**
 * Writes the comparison GGUF that wllama (llama.cpp compiled to wasm) runs: the same tensors, with
 * the same values and shapes, as one of our model files, re-encoded into what upstream llama.cpp
 * loads (Node only).
 *
 * - `general.architecture` becomes `bitnet` (the only BitNet name in wllama 3.8.1's llama.cpp; it has
 *   no `bitnet-b1.58` / `bitnet-25`), every `<old arch>.*` key is renamed `bitnet.*`, and
 *   `general.file_type` is set to match the ternary encoding (below).
 * - `ternaryType: 'tq2_0'` (default, what wllama's CPU path runs): ternary projections become TQ2_0
 *   (one f16 scale per 256 elements = the tensor's scale, so the values are those of the source up
 *   to the f16 rounding of the scale, which TQ2_0 imposes). A projection whose row length is not a
 *   multiple of 256 (the default model's ffn_down: 640) cannot be TQ2_0; like llama-quantize's
 *   fallback for TQ types it becomes Q4_0. `general.file_type` 37 (MOSTLY_TQ2_0).
 * - `ternaryType: 'q4_0'` (for wllama's WebGPU path: llama.cpp's WebGPU kernels have no TQ1_0/TQ2_0
 *   and would silently run those on the CPU): every ternary projection becomes Q4_0, exactly
 *   (src/model/formats/q4_0.ts: d = the f16 scale, q = t + 8 ∈ {7, 8, 9}; per-256-element block
 *   scales of TQ1_0/TQ2_0 sources become the d of the eight Q4_0 blocks inside each scale block).
 *   `general.file_type` 2 (MOSTLY_Q4_0). Row lengths must be multiples of 32.
 * - Every other tensor (F16 embedding, F32 norms) is copied byte for byte.
 *
 * Activation: our loader treats `bitnet` as SiLU-gated, the source (`bitnet-b1.58`) as ReLU²-gated;
 * the compute per token is the same, so the speed comparison is unaffected (see the report notes).
 */
import { existsSync, renameSync, statSync } from 'node:fs';
import { BitNetError } from '../../src/errors.js';
import { encodeTernary, encodeTernaryQ4_0, isTernaryType, ternaryFromTensor } from '../../src/model/formats/index.js';
import { type GGUFEntry, GGUFValueType } from '../../src/model/gguf-types.js';
import { type GGUFWriterTensor, writeGGUFToFile } from '../../src/model/gguf-writer.js';
import { openModelFile } from '../../src/model/load-model.js';

export const WLLAMA_ARCH = 'bitnet';
/** llama.cpp's LLAMA_FTYPE_MOSTLY_* ids of the two encodings. */
const FTYPE = { tq2_0: 37, q4_0: 2 } as const;

/** How ternary projections are stored in the comparison file. */
export type WllamaTernaryType = keyof typeof FTYPE;

export { encodeTernaryQ4_0 };

/** File name suffix of the comparison copy (`<model>.wllama-<type>.gguf`). */
export function wllamaTwinName(modelBase: string, ternaryType: WllamaTernaryType = 'tq2_0'): string {
  return `${modelBase}.wllama-${ternaryType}.gguf`;
}

export interface TwinSummary {
  readonly path: string;
  readonly bytes: number;
  /** Type written → number of tensors. */
  readonly types: Record<string, number>;
  /** TQ2_0 copies: ternary tensors written as Q4_0 because a row is not a multiple of 256. */
  readonly q4Fallback: readonly string[];
  readonly ternaryType: WllamaTernaryType;
}

/**
 * Writes the wllama twin of `src` to `dst` unless `dst` is already newer than `src`.
 * @throws BitNetError from the reader, BAD_OPTION for an unknown `ternaryType`, or BAD_TENSOR_SHAPE
 *   when a row length fits neither TQ2_0 nor Q4_0.
 */
export async function ensureWllamaTwin(
  src: string, dst: string, log: (l: string) => void = () => undefined, ternaryType: WllamaTernaryType = 'tq2_0',
): Promise<TwinSummary> {
  if (!(ternaryType in FTYPE)) throw new BitNetError('BAD_OPTION', `wllama comparison model: ternaryType must be tq2_0 or q4_0, got ${String(ternaryType)}`);
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
      const tq2 = ternaryType === 'tq2_0' && t.dims[0]! % 256 === 0;
      types[tq2 ? 'TQ2_0' : 'Q4_0'] = (types[tq2 ? 'TQ2_0' : 'Q4_0'] ?? 0) + 1;
      if (!tq2 && ternaryType === 'tq2_0') q4.push(t.name);
      return {
        name: t.name, dims: t.dims, type: tq2 ? 'TQ2_0' : 'Q4_0',
        data: async () => {
          const m = ternaryFromTensor(t, await f.readTensorBytes(t));
          return tq2 ? encodeTernary('TQ2_0', m) : encodeTernaryQ4_0(m);
        },
      };
    });
    if (existsSync(dst) && statSync(dst).mtimeMs > statSync(src).mtimeMs) return { path: dst, bytes: statSync(dst).size, types, q4Fallback: q4, ternaryType };
    const metadata: Array<[string, GGUFEntry]> = [];
    for (const [k, v] of f.metadata) {
      if (k === 'general.architecture') metadata.push([k, { type: GGUFValueType.STRING, value: WLLAMA_ARCH }]);
      else if (k === 'general.file_type') metadata.push([k, { type: GGUFValueType.UINT32, value: FTYPE[ternaryType] }]);
      else if (k === 'general.name' && typeof v.value === 'string') metadata.push([k, { type: GGUFValueType.STRING, value: `${v.value}-${ternaryType}` }]);
      else if (k.startsWith(arch + '.')) metadata.push([WLLAMA_ARCH + k.slice(arch.length), v]);
      else metadata.push([k, v]);
    }
    log(`writing wllama comparison model ${dst} (arch ${arch} → ${WLLAMA_ARCH}, ternary → ${ternaryType.toUpperCase()}${q4.length ? `, ${q4.length} tensors with rows not a multiple of 256 → Q4_0` : ''}) ...`);
    const tmp = dst + '.partial';
    const bytes = await writeGGUFToFile({ metadata, tensors, alignment: f.alignment }, tmp);
    renameSync(tmp, dst);
    return { path: dst, bytes, types, q4Fallback: q4, ternaryType };
  } finally {
    await f.close();
  }
}
