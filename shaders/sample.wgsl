// Token sampling on the GPU, one workgroup (256 threads) per item; only token ids are read back.
// Same pipeline and candidate order as src/runtime/sampler.ts: repetition penalty (distinct ids
// uploaded by the host), temperature 0 → argmax (ties → lowest id), else logits / T, top-k, top-p,
// min-p, renormalize, pick the first candidate whose cumulative probability exceeds u (u drawn by
// the host from the sequence's seeded RNG). Candidates are sorted by logit descending, id ascending.
// Exact path: when the candidate set fits in 1024 (top-k ≤ 1024, or the top-p / min-p cut falls
// within the 1024 most likely tokens) the 1024 best are found by radix select, compacted in index
// order and bitonic-sorted in workgroup memory. Otherwise (rare: huge top-k, or a nucleus wider
// than 1024 tokens) the kept set is {value ≥ τ} with τ from radix select / bisection over order-
// preserving keys, drawn in index order (same distribution, different token for a given u; ties at
// the top-k boundary are all kept there).

struct SampleParams {
  vocab: u32,
  penaltyStride: u32,
}

struct Item {
  temperature: f32,
  topK: u32,
  topP: f32,
  minP: f32,
  penalty: f32,
  nPenalty: u32,
  u: f32,
  row: u32,
}

@group(0) @binding(0) var<uniform> P: SampleParams;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;
@group(0) @binding(2) var<storage, read> items: array<Item>;
@group(0) @binding(3) var<storage, read> penaltyIds: array<u32>;
@group(0) @binding(4) var<storage, read_write> outIds: array<u32>;

const WG: u32 = 256u;
const CAP: u32 = 1024u;

var<workgroup> itemW: Item;
var<workgroup> redF: array<f32, 256>;
var<workgroup> redU: array<u32, 256>;
var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> cntA: array<u32, 256>;
var<workgroup> cntB: array<u32, 256>;
var<workgroup> ck: array<u32, 1024>;
var<workgroup> ci: array<u32, 1024>;
var<workgroup> ctl: vec4<u32>;      // scratch broadcast values
var<workgroup> bcastF: f32;

var<private> base: u32;
var<private> invT: f32;
var<private> temp: f32;

fn val(i: u32) -> f32 { return logits[base + i] / temp; }

fn keyOf(f: f32) -> u32 {
  let b = bitcast<u32>(f);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn sumReduce(li: u32, v: f32) -> f32 {
  redF[li] = v;
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    workgroupBarrier();
    if (li < s) { redF[li] = redF[li] + redF[li + s]; }
  }
  workgroupBarrier();
  if (li == 0u) { bcastF = redF[0]; }
  return workgroupUniformLoad(&bcastF);
}

fn maxReduce(li: u32, v: f32) -> f32 {
  redF[li] = v;
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    workgroupBarrier();
    if (li < s) { redF[li] = max(redF[li], redF[li + s]); }
  }
  workgroupBarrier();
  if (li == 0u) { bcastF = redF[0]; }
  return workgroupUniformLoad(&bcastF);
}

/** Σ exp(val − top) over elements with key ≥ tau (same value on every thread). */
fn massFrom(li: u32, tau: u32, top: f32) -> f32 {
  var s: f32 = 0.0;
  for (var i = li; i < P.vocab; i = i + WG) {
    let v = val(i);
    if (keyOf(v) >= tau) { s = s + exp(v - top); }
  }
  return sumReduce(li, s);
}

/** Key of the k-th largest value (1-based) and how many of the k are ties at that key: (tau, ties). */
fn radixSelect(li: u32, k: u32) -> vec2<u32> {
  if (li == 0u) { ctl = vec4<u32>(0u, 0u, k, 0u); }   // prefix, mask, remaining
  workgroupBarrier();
  for (var rp = 0u; rp < 4u; rp = rp + 1u) {
    let shift = 24u - 8u * rp;
    atomicStore(&hist[li], 0u);
    let c = workgroupUniformLoad(&ctl);
    for (var i = li; i < P.vocab; i = i + WG) {
      let key = keyOf(val(i));
      if ((key & c.y) == c.x) { atomicAdd(&hist[(key >> shift) & 0xffu], 1u); }
    }
    workgroupBarrier();
    if (li == 0u) {
      var cum = 0u;
      var d = 255i;
      loop {
        if (d < 0i) { break; }
        let n = atomicLoad(&hist[u32(d)]);
        if (cum + n >= c.z) {
          ctl = vec4<u32>(c.x | (u32(d) << shift), c.y | (0xffu << shift), c.z - cum, 0u);
          break;
        }
        cum = cum + n;
        d = d - 1i;
      }
    }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&ctl);
  return vec2<u32>(r.x, r.z);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let item = wg.x;
  if (li == 0u) { itemW = items[item]; }
  let it = workgroupUniformLoad(&itemW);
  let V = P.vocab;
  base = it.row * V;
  temp = 1.0;
  // 1. Repetition penalty on distinct ids.
  for (var i = li; i < it.nPenalty; i = i + WG) {
    let id = penaltyIds[item * P.penaltyStride + i];
    if (id < V) {
      let l = logits[base + id];
      logits[base + id] = select(l * it.penalty, l / it.penalty, l > 0.0);
    }
  }
  storageBarrier();
  workgroupBarrier();
  // 2. Greedy.
  if (it.temperature == 0.0) {
    var best: f32 = -3.4e38;
    var bi: u32 = 0xffffffffu;
    for (var i = li; i < V; i = i + WG) {
      let v = logits[base + i];
      if (bi == 0xffffffffu || v > best) { best = v; bi = i; }
    }
    redF[li] = best;
    redU[li] = bi;
    for (var s = WG / 2u; s > 0u; s = s / 2u) {
      workgroupBarrier();
      if (li < s) {
        let ob = redF[li + s];
        let oi = redU[li + s];
        if (oi != 0xffffffffu && (redU[li] == 0xffffffffu || ob > redF[li] || (ob == redF[li] && oi < redU[li]))) {
          redF[li] = ob;
          redU[li] = oi;
        }
      }
    }
    workgroupBarrier();
    if (li == 0u) { outIds[item] = redU[0]; }
    return;
  }
  temp = it.temperature;
  // 3. Scaled values, max.
  var m: f32 = -3.4e38;
  for (var i = li; i < V; i = i + WG) { m = max(m, val(i)); }
  let top = maxReduce(li, m);
  var K = V;
  if (it.topK > 0u && it.topK < V) { K = it.topK; }
  // Threshold of the full top-k set and its mass (normalizer when the list below is truncated).
  var tauK = 0u;
  if (K < V) { tauK = radixSelect(li, K).x; }
  let zK = massFrom(li, tauK, top);
  // 4. The min(K, CAP) best candidates, compacted in index order, then sorted.
  let nc = min(K, CAP);
  let sel = radixSelect(li, nc);
  let tau = sel.x;
  let ties = sel.y;
  let chunk = (V + WG - 1u) / WG;
  let lo = min(V, li * chunk);
  let hi = min(V, lo + chunk);
  var ng = 0u;
  var ne = 0u;
  for (var i = lo; i < hi; i = i + 1u) {
    let key = keyOf(val(i));
    if (key > tau) { ng = ng + 1u; } else if (key == tau) { ne = ne + 1u; }
  }
  cntA[li] = ng;
  cntB[li] = ne;
  for (var e = 0u; e < 4u; e = e + 1u) { ck[li + e * WG] = 0u; ci[li + e * WG] = 0xffffffffu; }
  workgroupBarrier();
  if (li == 0u) {
    var a = 0u;
    var b = 0u;
    for (var j = 0u; j < WG; j = j + 1u) {
      let x = cntA[j];
      let y = cntB[j];
      cntA[j] = a;
      cntB[j] = b;
      a = a + x;
      b = b + y;
    }
  }
  workgroupBarrier();
  let greater = nc - ties;
  var pg = cntA[li];
  var pe = cntB[li];
  for (var i = lo; i < hi; i = i + 1u) {
    let key = keyOf(val(i));
    if (key > tau) {
      ck[pg] = key;
      ci[pg] = i;
      pg = pg + 1u;
    } else if (key == tau) {
      if (pe < ties) {
        ck[greater + pe] = key;
        ci[greater + pe] = i;
      }
      pe = pe + 1u;
    }
  }
  workgroupBarrier();
  for (var k = 2u; k <= CAP; k = k * 2u) {
    for (var j = k / 2u; j > 0u; j = j / 2u) {
      for (var e = 0u; e < 4u; e = e + 1u) {
        let i = li + e * WG;
        let l = i ^ j;
        if (l > i) {
          let lBefore = ck[l] > ck[i] || (ck[l] == ck[i] && ci[l] < ci[i]);
          let iBefore = ck[i] > ck[l] || (ck[i] == ck[l] && ci[i] < ci[l]);
          if (((i & k) == 0u && lBefore) || ((i & k) != 0u && iBefore)) {
            let tk = ck[i]; ck[i] = ck[l]; ck[l] = tk;
            let ti = ci[i]; ci[i] = ci[l]; ci[l] = ti;
          }
        }
      }
      workgroupBarrier();
    }
  }
  // 5. Unnormalized probabilities of the sorted list, then a sequential walk by thread 0:
  // top-p, min-p, renormalize, draw (same arithmetic order as sampler.ts, in f32).
  // (ck is reused to hold them as f32 bits: the sort is done.)
  for (var e = 0u; e < 4u; e = e + 1u) {
    let i = li + e * WG;
    var p: f32 = 0.0;
    if (i < nc) { p = exp(val(ci[i]) - top); }
    ck[i] = bitcast<u32>(p);
  }
  workgroupBarrier();
  if (li == 0u) {
    var s = zK;
    if (K <= CAP) {
      s = 0.0;
      for (var i = 0u; i < nc; i = i + 1u) { s = s + bitcast<f32>(ck[i]); }
    }
    var keep = nc;
    var fallback = false;
    if (it.topP < 1.0) {
      var mass: f32 = 0.0;
      var found = false;
      for (var i = 0u; i < nc; i = i + 1u) {
        mass = mass + bitcast<f32>(ck[i]) / s;
        if (mass >= it.topP) { keep = i + 1u; found = true; break; }
      }
      fallback = !found && K > nc;
    } else if (K > nc) {
      fallback = it.minP <= 0.0 || bitcast<f32>(ck[nc - 1u]) >= it.minP;
    }
    if (!fallback && it.minP > 0.0) {
      let floor = (bitcast<f32>(ck[0]) / s) * it.minP;
      var mm = 1u;
      while (mm < keep && bitcast<f32>(ck[mm]) / s >= floor) { mm = mm + 1u; }
      keep = mm;
    }
    var chosen = ci[max(keep, 1u) - 1u];
    if (!fallback) {
      var ks: f32 = 0.0;
      for (var i = 0u; i < keep; i = i + 1u) { ks = ks + bitcast<f32>(ck[i]) / s; }
      var acc: f32 = 0.0;
      for (var i = 0u; i < keep; i = i + 1u) {
        acc = acc + (bitcast<f32>(ck[i]) / s) / ks;
        if (it.u < acc) { chosen = ci[i]; break; }
      }
    }
    ctl = vec4<u32>(select(0u, 1u, fallback), chosen, 0u, 0u);
  }
  let dec = workgroupUniformLoad(&ctl);
  if (dec.x == 0u) {
    if (li == 0u) { outIds[item] = dec.y; }
    return;
  }
  // 6. Fallback: kept = {key ≥ τ}, τ = max(top-k threshold, top-p bisection, min-p floor).
  var tk = tauK;
  if (it.minP > 0.0) { tk = max(tk, keyOf(top + log(it.minP))); }
  if (it.topP < 1.0) {
    var blo = tk;
    var bhi = keyOf(top) + 1u;
    let goal = it.topP * zK;
    loop {
      if (bhi - blo <= 1u) { break; }
      let mid = blo + (bhi - blo) / 2u;
      if (massFrom(li, mid, top) >= goal) { blo = mid; } else { bhi = mid; }
    }
    tk = max(tk, blo);
  }
  // Index-order draw: per-thread chunk masses, prefix by thread 0, scan of the chosen chunk.
  var cm: f32 = 0.0;
  var lastKept = 0u;
  for (var i = lo; i < hi; i = i + 1u) {
    let v = val(i);
    if (keyOf(v) >= tk) { cm = cm + exp(v - top); lastKept = i + 1u; }
  }
  redF[li] = cm;
  redU[li] = lastKept;
  workgroupBarrier();
  if (li == 0u) {
    var total: f32 = 0.0;
    var lastAll = 0u;
    for (var j = 0u; j < WG; j = j + 1u) { total = total + redF[j]; lastAll = max(lastAll, redU[j]); }
    let goal = it.u * total;
    var acc: f32 = 0.0;
    var chosen = max(lastAll, 1u) - 1u;
    var done = false;
    for (var j = 0u; j < WG && !done; j = j + 1u) {
      if (acc + redF[j] > goal) {
        let clo = min(V, j * chunk);
        let chi = min(V, clo + chunk);
        for (var i = clo; i < chi; i = i + 1u) {
          let v = val(i);
          if (keyOf(v) >= tk) {
            acc = acc + exp(v - top);
            if (goal < acc) { chosen = i; done = true; break; }
          }
        }
        done = true;
      } else {
        acc = acc + redF[j];
      }
    }
    outIds[item] = chosen;
  }
}
