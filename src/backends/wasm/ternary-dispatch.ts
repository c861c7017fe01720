/**
 * How a ternary projection over n tokens is dispatched to the kernels: when the job has at least
 * `minRows` output rows (default LUT_MIN_ROWS), consecutive blocks of up to LUT_TOKENS (8) tokens,
 * as long as at least LUT_MIN_TOKENS remain, run on the table-lookup GEMM (wasm/ternary-lut.c:
 * bn_lut_build then bn_ternary_lut; measured ~2× the multiply-add kernel per token at 8 tokens on
 * 2560-wide projections); the remaining tokens run on bn_ternary in one dispatch. Building a table
 * costs about as much as looking it up for 256 rows, so small projections (the 3.5M-param default
 * model) stay on bn_ternary. Both kernels compute the same bits, so the split never changes a result. Each block
 * gets its own job descriptor with the per-token pointers (activations, a_scale, Σq, outputs)
 * offset to its first token. `lut = 0` sends everything to bn_ternary.
 */
import { LUT_TOKENS, writeTJob, type TJobDesc } from './abi.js';
import type { WasmRuntime } from './wasm-runtime.js';

/** Smallest token block worth a table build (below it the padded lanes cost more than they save). */
export const LUT_MIN_TOKENS = 6;
/** Fewest output rows (all matrices of a job) for which the table build pays off. */
export const LUT_MIN_ROWS = 2048;

/** Runs job `d` (written at `job`, TJOB_BYTES) over all its tokens; `lut`: table memory or 0. */
export function runTernary(rt: WasmRuntime, job: number, d: TJobDesc, lut: number, minRows = LUT_MIN_ROWS): void {
  const n = d.nTok;
  const nChunks = d.colsPad / 64;
  let rows = 0;
  for (const m of d.mats) rows += m.rows;
  const lutOk = lut !== 0 && rows >= minRows;
  for (let t0 = 0; t0 < n;) {
    const left = n - t0;
    const useLut = lutOk && left >= LUT_MIN_TOKENS;
    const m = useLut ? Math.min(LUT_TOKENS, left) : left;
    const v = rt.arena.v;
    writeTJob(v.u32, v.f32, job, {
      nTok: m,
      colsPad: d.colsPad,
      accMode: d.accMode,
      act: d.act + t0 * d.colsPad * 2,
      actScale: d.actScale + t0 * 4,
      lut: useLut ? lut : 0,
      // The first block (the only one in a decode step without the table) uses `d.mats` as is.
      mats: t0 === 0 ? d.mats : d.mats.map((x) => {
        const nblk = x.blockChunks ? Math.ceil(nChunks / x.blockChunks) : 1;
        return { ...x, blkSum: x.blkSum + t0 * nblk * 4, out: x.out + t0 * x.ldo * 4 };
      }),
    });
    if (useLut) {
      rt.run('bn_lut_build', job, d.colsPad * 256);
      rt.run('bn_ternary_lut', job, rows * d.colsPad * m);
    } else {
      rt.run('bn_ternary', job, rows * d.colsPad * m);
    }
    t0 += m;
  }
}
