// Causal attention with GQA over one layer's KV cache, online softmax in chunks of 64 keys.
// One workgroup per (query head, token): workgroup_id = (head, token). Query head h reads KV head
// h / (nHead / nHeadKv); token t at position p attends positions 0..p of its slot.
// Thread d accumulates output dims d, d+64, d+128, d+192 (headDim ≤ 256).

struct AttnParams {
  nHead: u32,
  nHeadKv: u32,
  headDim: u32,
  maxCtx: u32,
  scale: f32,     // 1 / sqrt(headDim)
}

@group(0) @binding(0) var<uniform> P: AttnParams;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> kc: array<KV>;
@group(0) @binding(3) var<storage, read> vc: array<KV>;
@group(0) @binding(4) var<storage, read> tokInfo: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> outp: array<f32>;

const WG: u32 = 64u;
var<workgroup> sq: array<f32, 256>;
var<workgroup> sp: array<f32, 64>;
var<workgroup> nKeysW: u32;
var<workgroup> baseW: u32;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let h = wg.x;
  let t = wg.y;
  let hd = P.headDim;
  let qDim = P.nHead * hd;
  let kvDim = P.nHeadKv * hd;
  let kvOff = (h / (P.nHead / P.nHeadKv)) * hd;
  if (li == 0u) {
    let info = tokInfo[t];
    nKeysW = info.y + 1u;
    baseW = info.x * P.maxCtx * kvDim + kvOff;
  }
  for (var d = li; d < hd; d = d + WG) { sq[d] = q[t * qDim + h * hd + d]; }
  let nKeys = workgroupUniformLoad(&nKeysW);
  let base = workgroupUniformLoad(&baseW);
  var o = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
  var mRun: f32 = -3.0e38;
  var lRun: f32 = 0.0;
  for (var c0 = 0u; c0 < nKeys; c0 = c0 + WG) {
    let j = c0 + li;
    var s: f32 = -3.0e38;
    if (j < nKeys) {
      var dotv: f32 = 0.0;
      let kb = base + j * kvDim;
      for (var d = 0u; d < hd; d = d + 1u) { dotv = dotv + sq[d] * kvLoad(kc[kb + d]); }
      s = dotv * P.scale;
    }
    sp[li] = s;
    workgroupBarrier();
    let cnt = min(WG, nKeys - c0);
    var cmax: f32 = -3.0e38;
    for (var i = 0u; i < cnt; i = i + 1u) { cmax = max(cmax, sp[i]); }
    let mNew = max(mRun, cmax);
    let alpha = exp(mRun - mNew);
    workgroupBarrier();
    if (li < cnt) { sp[li] = exp(sp[li] - mNew); }
    workgroupBarrier();
    var psum: f32 = 0.0;
    for (var i = 0u; i < cnt; i = i + 1u) { psum = psum + sp[i]; }
    lRun = lRun * alpha + psum;
    for (var m = 0u; m < 4u; m = m + 1u) {
      let d = li + m * WG;
      if (d < hd) {
        var acc = o[m] * alpha;
        for (var i = 0u; i < cnt; i = i + 1u) { acc = acc + sp[i] * kvLoad(vc[base + (c0 + i) * kvDim + d]); }
        o[m] = acc;
      }
    }
    mRun = mNew;
    workgroupBarrier();
  }
  for (var m = 0u; m < 4u; m = m + 1u) {
    let d = li + m * WG;
    if (d < hd) { outp[t * qDim + h * hd + d] = o[m] / lRun; }
  }
}
