// Bindings and epilogue shared by the ternary GEMV and GEMM kernels (one bind group layout for both).
// Weights: row-major, `k16` u32 words per row (16 codes each, layout in the dot snippet).
// Scales: scale index = row · scaleRowStride + block (scaleRowStride 0 = one per-tensor scale).
// y[t · rowsTotal + rowOffset + row] = (Σ_b acc_b · s_b) / a_scale[t] · outScale (+ y when residual).
// With ACC_MODE the exact integer accumulators are added atomically into
// accOut[(t · rows + row) · bpr + b] instead (tests compare them with kernels.ts ternaryAccumulate).

struct MatParams {
  rows: u32,            // rows of this part
  k16: u32,             // words per row
  bpr: u32,             // scale blocks per row (1 = per-tensor)
  wordsPerBlock: u32,   // words per scale block
  scaleRowStride: u32,
  actStride: u32,       // vec4 groups between tokens in actQ / actSum
  rowOffset: u32,       // first output row of this part
  rowsTotal: u32,       // output row stride per token
  residual: u32,
  outScale: f32,
}

struct Step {
  nTokens: u32,
  nOut: u32,
}

@group(0) @binding(0) var<uniform> P: MatParams;
@group(0) @binding(1) var<storage, read> weights: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> actQ: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read> actSum: array<i32>;
@group(0) @binding(5) var<storage, read> actScale: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
@group(0) @binding(7) var<storage, read_write> accOut: array<atomic<i32>>;
@group(0) @binding(8) var<uniform> S: Step;

override ACC_MODE: bool = false;

// Folds one block's integer accumulator into the float sum (or the test output).
fn flushBlock(acc: i32, fsum: f32, row: u32, t: u32, b: u32) -> f32 {
  if (ACC_MODE) {
    atomicAdd(&accOut[(t * P.rows + row) * P.bpr + b], acc);
    return fsum;
  }
  return fsum + f32(acc) * scales[row * P.scaleRowStride + b];
}

fn storeOut(row: u32, t: u32, s: f32) {
  if (ACC_MODE) { return; }
  var v = s / actScale[t];
  v = v * P.outScale;
  let idx = t * P.rowsTotal + P.rowOffset + row;
  if (P.residual != 0u) { v = y[idx] + v; }
  y[idx] = v;
}
