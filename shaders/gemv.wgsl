// Ternary GEMV (decode): 256 / LANES rows per workgroup, LANES lanes per row (default 32: 8 rows);
// lane l reads words l, l+LANES, … (coalesced along the row). Token = workgroup_id.y (a handful of
// tokens at most). LANES = 1 (one invocation per row, no reduction barriers) suits CPU adapters.
// Per-tensor scale: the row's exact integer accumulator is reduced across lanes, then scaled once.
// Block scales: each lane folds its partial block sums into f32 as the block changes; the f32
// partials are then reduced (integers stay exact per block; only the f32 summation order differs).

override LANES: u32 = 32u;
var<workgroup> redI: array<i32, 256>;
var<workgroup> redF: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let lane = li % LANES;
  let rl = li / LANES;
  let row = wg.x * (256u / LANES) + rl;
  let t = wg.y;
  let live = row < P.rows && t < S.nTokens;
  var acc: i32 = 0;
  var fsum: f32 = 0.0;
  if (live) {
    let wbase = row * P.k16;
    let abase = t * P.actStride;
    var cur: u32 = 0u;
    for (var w = lane; w < P.k16; w = w + LANES) {
      let b = w / P.wordsPerBlock;
      if (P.bpr > 1u && b != cur) {
        fsum = flushBlock(acc, fsum, row, t, cur);
        acc = 0;
        cur = b;
      }
      acc = acc + wordDot(weights[wbase + w], actQ[abase + w], actSum[abase + w]);
    }
    if (P.bpr > 1u) {
      fsum = flushBlock(acc, fsum, row, t, cur);
      acc = 0;
    }
  }
  redI[li] = acc;
  redF[li] = fsum;
  for (var s = LANES / 2u; s > 0u; s = s / 2u) {
    workgroupBarrier();
    if (lane < s) {
      redI[li] = redI[li] + redI[li + s];
      redF[li] = redF[li] + redF[li + s];
    }
  }
  workgroupBarrier();
  if (live && lane == 0u) {
    var total = redF[li];
    if (P.bpr == 1u) { total = flushBlock(redI[li], 0.0, row, t, 0u); }
    storeOut(row, t, total);
  }
}
