// KV-cache element type: f32 (always available).
alias KV = f32;
fn kvLoad(v: KV) -> f32 { return v; }
fn kvStore(v: f32) -> KV { return v; }
