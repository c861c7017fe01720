// Element access to a row-sharded float matrix stored raw as u32 words (FORMATS.md §2.1–2.2):
// storage 0 = f32, 1 = f16 (unpack2x16float, low half = lower index), 2 = bf16, 3 = Q8_0 (34-byte
// blocks: f16 d, 32 × i8; value = f32(d) · q). Rows of this shard start at byte row · rowBytes.

struct TableParams {
  rowStart: u32,   // first vocabulary row held by this shard
  rowEnd: u32,     // one past the last
  cols: u32,
  storage: u32,
  rowBytes: u32,
  nEmbd: u32,      // hidden stride (== cols)
  vocab: u32,      // logits stride
  _pad: u32,
}

@group(0) @binding(0) var<uniform> T: TableParams;
@group(0) @binding(2) var<storage, read> table: array<u32>;

fn tableByte(off: u32) -> u32 {
  return (table[off >> 2u] >> (8u * (off & 3u))) & 0xffu;
}

fn tableHalf(off: u32) -> f32 {
  // off is the byte offset of an f16, possibly not 4-byte aligned (Q8_0).
  let bits = tableByte(off) | (tableByte(off + 1u) << 8u);
  return unpack2x16float(bits).x;
}

/** Element c of local row r (0-based within the shard). */
fn tableAt(r: u32, c: u32) -> f32 {
  switch (T.storage) {
    case 0u: { return bitcast<f32>(table[r * T.cols + c]); }
    case 1u: {
      let e = r * T.cols + c;
      let pair = unpack2x16float(table[e >> 1u]);
      return select(pair.x, pair.y, (e & 1u) == 1u);
    }
    case 2u: {
      let e = r * T.cols + c;
      let word = table[e >> 1u];
      let h = select(word & 0xffffu, word >> 16u, (e & 1u) == 1u);
      return bitcast<f32>(h << 16u);
    }
    default: {
      let blk = r * T.rowBytes + (c / 32u) * 34u;
      let d = tableHalf(blk);
      let qb = tableByte(blk + 2u + (c % 32u));
      let q = bitcast<i32>(qb << 24u) >> 24u;
      return d * f32(q);
    }
  }
}
