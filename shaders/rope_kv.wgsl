// RoPE on Q (in place) and K, then K and V appended to one layer's KV cache.
// One workgroup per token; tokInfo[t] = (cache slot, position). Cache layout per layer:
// [slot][position][kvDim]. The cos/sin table is computed on the host in f64:
// rope[pos · (ropeDim/2) + i] = (cos θ, sin θ), θ = pos · theta^(−2i/ropeDim) (kernels.ts rope).
// neox rotates (i, i + ropeDim/2), normal rotates (2i, 2i+1); dims ≥ ropeDim pass through.

struct RopeParams {
  nHead: u32,
  nHeadKv: u32,
  headDim: u32,
  ropeDim: u32,
  neox: u32,
  maxCtx: u32,
}

@group(0) @binding(0) var<uniform> P: RopeParams;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> rope: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> kc: array<KV>;
@group(0) @binding(6) var<storage, read_write> vc: array<KV>;
@group(0) @binding(7) var<storage, read> tokInfo: array<vec2<u32>>;

const WG: u32 = 64u;

fn pairIndex(i: u32) -> vec2<u32> {
  if (P.neox != 0u) { return vec2<u32>(i, i + P.ropeDim / 2u); }
  return vec2<u32>(2u * i, 2u * i + 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = wg.x;
  let info = tokInfo[t];
  let pos = info.y;
  let half = P.ropeDim / 2u;
  let hd = P.headDim;
  let qDim = P.nHead * hd;
  let kvDim = P.nHeadKv * hd;
  // Q: rotate pairs in place.
  for (var idx = li; idx < P.nHead * half; idx = idx + WG) {
    let h = idx / half;
    let i = idx % half;
    let cs = rope[pos * half + i];
    let pi = pairIndex(i) + vec2<u32>(t * qDim + h * hd);
    let a = q[pi.x];
    let b = q[pi.y];
    q[pi.x] = a * cs.x - b * cs.y;
    q[pi.y] = a * cs.y + b * cs.x;
  }
  // K: rotated into the cache; V copied.
  let cbase = (info.x * P.maxCtx + pos) * kvDim;
  for (var d = li; d < kvDim; d = d + WG) {
    let h = d / hd;
    let e = d % hd;
    var val = k[t * kvDim + d];
    if (e < P.ropeDim) {
      var i: u32;
      var first: bool;
      if (P.neox != 0u) { first = e < half; i = select(e - half, e, first); } else { first = (e % 2u) == 0u; i = e / 2u; }
      let cs = rope[pos * half + i];
      let pi = pairIndex(i) + vec2<u32>(t * kvDim + h * hd);
      let a = k[pi.x];
      let b = k[pi.y];
      val = select(a * cs.y + b * cs.x, a * cs.x - b * cs.y, first);
    }
    kc[cbase + d] = kvStore(val);
    vc[cbase + d] = kvStore(v[t * kvDim + d]);
  }
}
