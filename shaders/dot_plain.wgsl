// Ternary word · activation dot product without packed-dot built-ins (any WGSL implementation).
// Same weight layout as dot_dp4a.wgsl; codes become −1/0/+1 per lane and the int8 lanes are
// sign-extended by shifts. `s` (Σ q) is not needed here.
fn laneDot(c: u32, a: u32) -> i32 {
  var acc: i32 = 0;
  for (var k = 0u; k < 4u; k = k + 1u) {
    let t = i32((c >> (8u * k)) & 3u) - 1;
    let q = bitcast<i32>(a << (24u - 8u * k)) >> 24u;
    acc = acc + t * q;
  }
  return acc;
}

fn wordDot(w: u32, a: vec4<u32>, s: i32) -> i32 {
  return laneDot(w, a.x) + laneDot(w >> 2u, a.y) + laneDot(w >> 4u, a.z) + laneDot(w >> 6u, a.w);
}
