enable f16;
// KV-cache element type: f16 (device feature 'shader-f16'); math stays f32.
alias KV = f16;
fn kvLoad(v: KV) -> f32 { return f32(v); }
fn kvStore(v: f32) -> KV { return f16(v); }
