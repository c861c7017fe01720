// Per-token "prep" kernel: optional gated activation (relu² / SiLU of g times u), optional RMSNorm,
// then either an f32 copy and/or per-token absmax int8 quantization (FORMATS.md §4.1).
// One workgroup per token (workgroup_id.x). Quantized output per token:
//   actQ[t * stride + g]   vec4<u32>: 16 int8 codes of elements 16g..16g+15 (4 per u32, lane 0 = LSB)
//   actSum[t * stride + g] i32: Σ of those 16 codes (used by the dp4a GEMV/GEMM)
//   actScale[t]            f32: a_scale = 127 / max(absmax, 1e-5), correctly rounded
// Codes equal kernels.ts quantizeActivations bit for bit given the same f32 input: absmax is exact,
// the division is done exactly in integers (WGSL `/` is not correctly rounded), x·scale is one
// correctly rounded f32 multiply and WGSL round() is half-to-even.

struct PrepParams {
  n: u32,          // elements per token
  flags: u32,      // bit0 gate, bit1 gate is SiLU (else relu²), bit2 RMSNorm, bit3 write f32, bit4 quantize
  inStride: u32,   // f32 elements between tokens in x / u
  outStride: u32,  // f32 elements between tokens in hOut
  qStride: u32,    // vec4 groups between tokens in actQ / actSum
  eps: f32,
}

@group(0) @binding(0) var<uniform> P: PrepParams;
@group(0) @binding(1) var<storage, read> xIn: array<f32>;
@group(0) @binding(2) var<storage, read> uIn: array<f32>;
@group(0) @binding(3) var<storage, read> gain: array<f32>;
@group(0) @binding(4) var<storage, read_write> hOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> actQ: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read_write> actSum: array<i32>;
@group(0) @binding(7) var<storage, read_write> actScale: array<f32>;

// Threads per token: 256 on GPUs; 1 on CPU adapters (no barrier round trips). Power of two ≤ 256.
override WG: u32 = 256u;
var<workgroup> red: array<f32, 256>;

fn inputAt(t: u32, i: u32) -> f32 {
  let x = xIn[t * P.inStride + i];
  if ((P.flags & 1u) == 0u) { return x; }
  var a: f32;
  if ((P.flags & 2u) != 0u) { a = x / (1.0 + exp(-x)); } else { a = select(0.0, x * x, x > 0.0); }
  return a * uIn[t * P.inStride + i];
}

// Reduces red[] over the workgroup: op 0 = sum, 1 = max. Result in red[0] (read after return).
fn reduce(li: u32, op: u32) {
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    workgroupBarrier();
    if (li < s) {
      if (op == 0u) { red[li] = red[li] + red[li + s]; } else { red[li] = max(red[li], red[li + s]); }
    }
  }
  workgroupBarrier();
}

// Correctly rounded (half-to-even) f32 quotient 127 / m for a normal m > 0, by long division.
fn div127(m: f32) -> f32 {
  let bits = bitcast<u32>(m);
  let e = i32((bits >> 23u) & 0xffu) - 127;
  let M = (bits & 0x7fffffu) | 0x800000u;    // m = M · 2^(e-23)
  var r: u32 = 127u;
  var q: u32 = 0u;
  var k: i32 = 0;                             // q = floor(127 · 2^k / M)
  loop {
    if (q >= 0x2000000u) { break; }           // 26 significant bits: 24 + guard + round
    r = r << 1u;
    q = q << 1u;
    if (r >= M) { r = r - M; q = q | 1u; }
    k = k + 1;
  }
  var mant = q >> 2u;
  let low = q & 3u;
  let sticky = r != 0u;
  if (low == 3u || (low == 2u && (sticky || (mant & 1u) == 1u))) { mant = mant + 1u; }
  // 127/m = q · 2^(-k) · 2^(23-e) = mant · 2^(2-k+23-e)
  return ldexp(f32(mant), 25 - k - e);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = wg.x;
  let n = P.n;
  let doNorm = (P.flags & 4u) != 0u;
  var inv: f32 = 1.0;
  if (doNorm) {
    var ss: f32 = 0.0;
    for (var i = li; i < n; i = i + WG) { let v = inputAt(t, i); ss = ss + v * v; }
    red[li] = ss;
    reduce(li, 0u);
    inv = 1.0 / sqrt(red[0] / f32(n) + P.eps);
    workgroupBarrier();
  }
  var amax: f32 = 0.0;
  for (var i = li; i < n; i = i + WG) {
    var h = inputAt(t, i);
    if (doNorm) { h = gain[i] * (h * inv); }
    amax = max(amax, abs(h));
    if ((P.flags & 8u) != 0u) { hOut[t * P.outStride + i] = h; }
  }
  if ((P.flags & 16u) == 0u) { return; }
  red[li] = amax;
  reduce(li, 1u);
  let scale = div127(max(red[0], 1e-5));
  if (li == 0u) { actScale[t] = scale; }
  let groups = (n + 15u) / 16u;
  for (var g = li; g < groups; g = g + WG) {
    var words = vec4<u32>(0u);
    var sum: i32 = 0;
    for (var e = 0u; e < 16u; e = e + 1u) {
      let i = g * 16u + e;
      var q: i32 = 0;
      if (i < n) {
        var h = inputAt(t, i);
        if (doNorm) { h = gain[i] * (h * inv); }
        q = i32(clamp(round(h * scale), -128.0, 127.0));
      }
      sum = sum + q;
      words[e / 4u] = words[e / 4u] | ((u32(q) & 0xffu) << (8u * (e % 4u)));
    }
    actQ[t * P.qStride + g] = words;
    actSum[t * P.qStride + g] = sum;
  }
}
