// Ternary GEMM (prefill / batches): 64 rows × 32 tokens per workgroup of 256 threads; thread
// (tr, tt) = (li % 16, li / 16) owns rows tr + 16i (i < 4) and tokens tt + 16j (j < 2).
// K is walked in chunks of 4 words (64 elements) staged in workgroup memory.
// Each output keeps an exact i32 accumulator per scale block and folds it into f32 in block order
// (the same order of f32 operations as kernels.ts scaleAccumulators).

const TM: u32 = 64u;
const TN: u32 = 32u;
const KC: u32 = 4u;
var<workgroup> sW: array<u32, 256>;          // [row][kc]
var<workgroup> sA: array<vec4<u32>, 128>;    // [token][kc]
var<workgroup> sS: array<i32, 128>;          // [token][kc]

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row0 = wg.x * TM;
  let tok0 = wg.y * TN;
  let tr = li % 16u;
  let tt = li / 16u;
  var acc: array<i32, 8>;
  var fsum: array<f32, 8>;
  for (var i = 0u; i < 8u; i = i + 1u) { acc[i] = 0; fsum[i] = 0.0; }
  var cur: u32 = 0u;
  for (var k0 = 0u; k0 < P.k16; k0 = k0 + KC) {
    // Stage weights: thread li loads row li / 4, word li % 4.
    {
      let r = row0 + li / KC;
      let k = k0 + li % KC;
      var wv: u32 = 0x55555555u;
      if (r < P.rows && k < P.k16) { wv = weights[r * P.k16 + k]; }
      sW[li] = wv;
    }
    if (li < TN * KC) {
      let t = tok0 + li / KC;
      let k = k0 + li % KC;
      var av = vec4<u32>(0u);
      var sv: i32 = 0;
      if (t < S.nTokens && k < P.k16) {
        av = actQ[t * P.actStride + k];
        sv = actSum[t * P.actStride + k];
      }
      sA[li] = av;
      sS[li] = sv;
    }
    workgroupBarrier();
    for (var kc = 0u; kc < KC; kc = kc + 1u) {
      let k = k0 + kc;
      if (k < P.k16) {
        let b = k / P.wordsPerBlock;
        if (b != cur) {
          for (var i = 0u; i < 4u; i = i + 1u) {
            for (var j = 0u; j < 2u; j = j + 1u) {
              let o = i * 2u + j;
              let row = row0 + tr + 16u * i;
              let t = tok0 + tt + 16u * j;
              if (row < P.rows && t < S.nTokens) { fsum[o] = flushBlock(acc[o], fsum[o], row, t, cur); }
              acc[o] = 0;
            }
          }
          cur = b;
        }
        let a0 = sA[tt * KC + kc];
        let s0 = sS[tt * KC + kc];
        let a1 = sA[(tt + 16u) * KC + kc];
        let s1 = sS[(tt + 16u) * KC + kc];
        for (var i = 0u; i < 4u; i = i + 1u) {
          let wv = sW[(tr + 16u * i) * KC + kc];
          acc[i * 2u] = acc[i * 2u] + wordDot(wv, a0, s0);
          acc[i * 2u + 1u] = acc[i * 2u + 1u] + wordDot(wv, a1, s1);
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i = i + 1u) {
    for (var j = 0u; j < 2u; j = j + 1u) {
      let o = i * 2u + j;
      let row = row0 + tr + 16u * i;
      let t = tok0 + tt + 16u * j;
      if (row < P.rows && t < S.nTokens) {
        storeOut(row, t, flushBlock(acc[o], fsum[o], row, t, cur));
      }
    }
  }
}
