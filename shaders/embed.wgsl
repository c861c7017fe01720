// Embedding lookup from one shard of token_embd: x[t] = E[token[t]] for tokens this shard holds.
// Dispatched once per shard: workgroup_id = (column block of 256, token).

@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let t = wg.y;
  let c = wg.x * 256u + li;
  let id = tokens[t];
  if (c >= T.cols || id < T.rowStart || id >= T.rowEnd) { return; }
  x[t * T.nEmbd + c] = tableAt(id - T.rowStart, c);
}
