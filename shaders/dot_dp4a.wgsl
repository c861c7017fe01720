requires packed_4x8_integer_dot_product;
// Ternary word · activation dot product with the packed 4×8-bit integer dot product.
// `w` holds 16 2-bit codes (0,1,2 = −1,0,+1): element 16i+4j+k at bits 2j+8k, so
// (w >> 2j) & 0x03030303 has the codes of elements 4j..4j+3 in byte lanes, matching act word a[j].
// Codes are accumulated raw (0..2) and Σ q of the 16 activations (`s`) is subtracted once:
// Σ (code−1)·q = Σ code·q − Σ q, exactly.
fn wordDot(w: u32, a: vec4<u32>, s: i32) -> i32 {
  return dot4I8Packed(w & 0x03030303u, a.x)
       + dot4I8Packed((w >> 2u) & 0x03030303u, a.y)
       + dot4I8Packed((w >> 4u) & 0x03030303u, a.z)
       + dot4I8Packed((w >> 6u) & 0x03030303u, a.w) - s;
}
