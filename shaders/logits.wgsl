// Logits from one shard of the output matrix: logits[o · vocab + rowStart + r] = Σ_c W[r, c] · h[rows[o], c]
// for output rows o < S.nOut (rows[] = which hidden rows to project: last tokens, or all).
// 256 / LANES matrix rows per workgroup, LANES lanes split the columns (default 32; 1 = one
// invocation per row without reduction barriers, for CPU adapters); workgroups are laid out 2-D
// (index = wg.x + wg.y · nwg.x) because large vocabularies exceed 65535 groups per dimension.

struct Step {
  nTokens: u32,
  nOut: u32,
}

@group(0) @binding(1) var<storage, read> hidden: array<f32>;
@group(0) @binding(3) var<storage, read> outRows: array<u32>;
@group(0) @binding(4) var<storage, read_write> logits: array<f32>;
@group(0) @binding(5) var<uniform> S: Step;

override LANES: u32 = 32u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let lane = li % LANES;
  let rl = li / LANES;
  let r = (wg.x + wg.y * nwg.x) * (256u / LANES) + rl;
  let nRows = T.rowEnd - T.rowStart;
  let live = r < nRows;
  for (var o = 0u; o < S.nOut; o = o + 1u) {
    var acc: f32 = 0.0;
    if (live) {
      let hb = outRows[o] * T.nEmbd;
      for (var c = lane; c < T.cols; c = c + LANES) { acc = acc + tableAt(r, c) * hidden[hb + c]; }
    }
    red[li] = acc;
    for (var s = LANES / 2u; s > 0u; s = s / 2u) {
      workgroupBarrier();
      if (lane < s) { red[li] = red[li] + red[li + s]; }
    }
    workgroupBarrier();
    if (live && lane == 0u) { logits[o * T.vocab + T.rowStart + r] = red[li]; }
    workgroupBarrier();
  }
}
