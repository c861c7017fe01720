/**
 * Turning Hugging Face tensor bytes into the SDK's in-memory forms (FORMATS.md §4.1, §5.3):
 *
 * - `unpackHFTernary`: packed uint8 `[out/4, in]` → canonical `TernaryMatrix` `[out, in]`. Byte
 *   `(r, c)` holds 4 values of column c in rows `r, r + R, r + 2R, r + 3R` (`R = out/4`), LSB first:
 *   `T[k·R + r, c] = ((byte >> 2k) & 3) − 1`. Code 3 is BAD_TENSOR_DATA.
 * - `weightScaleValue`: the scalar `weight_scale` → per-tensor multiplier (`multiply`: as is,
 *   autobitlinear; `divide`: 1 / weight_scale, bitlinear), as f32. Must be finite and > 0.
 * - `ternarizeAbsmean`: bf16/f16/f32 master weights → `m = max(mean|W|, 1e-5)` (mean accumulated in
 *   f64, stored as f32), `T = clamp(round_half_even(W / m), −1, 1)`, scale `m`.
 * - `floatsFromBytes` / `toF16Bytes`: float dtype conversions for norms (→ f32) and embeddings (→ f16,
 *   round to nearest even; bf16 → f16 through a 64 K-entry table).
 */
import { BitNetError } from '../errors.js';
import { f16Table, f32ToF16 } from './formats/f16.js';
import { HOST_LE, gatherCodes, lanesHaveCode3, leWords, perTensorTernary, ternaryRowBytes } from './formats/ternary.js';
import type { SafetensorsDtype } from './safetensors.js';
import type { TernaryMatrix } from './tensor.js';

export type FloatDtype = 'BF16' | 'F16' | 'F32';

let BF16_F32: Float32Array | null = null;
let BF16_F16: Uint16Array | null = null;

function bf16Table(): Float32Array {
  if (!BF16_F32) {
    // bf16 bits are the high half of the f32 bits.
    const u = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) u[h] = h << 16;
    BF16_F32 = new Float32Array(u.buffer);
  }
  return BF16_F32;
}

function bf16ToF16Table(): Uint16Array {
  if (!BF16_F16) {
    const t = bf16Table();
    BF16_F16 = new Uint16Array(65536);
    for (let h = 0; h < 65536; h++) BF16_F16[h] = f32ToF16(t[h]!);
  }
  return BF16_F16;
}

function asFloatDtype(dtype: SafetensorsDtype): FloatDtype {
  if (dtype !== 'BF16' && dtype !== 'F16' && dtype !== 'F32') throw new BitNetError('BAD_TENSOR_TYPE', `dtype ${dtype} is not a float type`);
  return dtype;
}

/** Decodes little-endian BF16 / F16 / F32 bytes to f32 values. */
export function floatsFromBytes(bytes: Uint8Array, dtype: SafetensorsDtype): Float32Array {
  const dt = asFloatDtype(dtype);
  if (dt === 'F32') {
    const out = new Float32Array(bytes.length / 4);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = v.getFloat32(4 * i, true);
    return out;
  }
  const t = dt === 'BF16' ? bf16Table() : f16Table();
  const out = new Float32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = t[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
  return out;
}

/** Converts BF16 / F16 / F32 bytes to F16 bytes (little-endian). */
export function toF16Bytes(bytes: Uint8Array, dtype: SafetensorsDtype): Uint8Array {
  const dt = asFloatDtype(dtype);
  if (dt === 'F16') return bytes;
  const n = dt === 'F32' ? bytes.length / 4 : bytes.length / 2;
  const out = new Uint8Array(2 * n);
  if (dt === 'BF16') {
    const t = bf16ToF16Table();
    if (HOST_LE && bytes.byteOffset % 2 === 0) {
      const src = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const dst = new Uint16Array(out.buffer);
      for (let i = 0; i < n; i++) dst[i] = t[src[i]!]!;
      return out;
    }
    for (let i = 0; i < n; i++) {
      const h = t[bytes[2 * i]! | (bytes[2 * i + 1]! << 8)]!;
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >> 8;
    }
    return out;
  }
  const f = floatsFromBytes(bytes, 'F32');
  for (let i = 0; i < n; i++) {
    const h = f32ToF16(f[i]!);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >> 8;
  }
  return out;
}

function dataError(name: string, msg: string): BitNetError {
  return new BitNetError('BAD_TENSOR_DATA', `tensor "${name}": ${msg}`, { details: { tensor: name } });
}

/**
 * The per-tensor multiplier of a packed projection from its `weight_scale` bytes.
 * @throws BitNetError BAD_TENSOR_DATA for a non-finite or non-positive value.
 */
export function weightScaleValue(bytes: Uint8Array, dtype: SafetensorsDtype, mode: 'multiply' | 'divide', name = 'weight_scale'): number {
  const ws = floatsFromBytes(bytes, dtype)[0]!;
  if (!Number.isFinite(ws) || ws <= 0) throw dataError(name, `weight_scale ${ws} must be a finite positive number`);
  const s = Math.fround(mode === 'multiply' ? ws : 1 / ws);
  if (!Number.isFinite(s) || s <= 0) throw dataError(name, `scale 1/${ws} is not representable as f32`);
  return s;
}

/**
 * Unpacks an HF packed ternary weight (§5.3) of `rows` = out features (a multiple of 4) × `cols`.
 * `packed` holds `rows/4 × cols` bytes.
 */
export function unpackHFTernary(packed: Uint8Array, rows: number, cols: number, scale: number, name = 'weight'): TernaryMatrix {
  if (rows % 4 !== 0) throw new BitNetError('BAD_TENSOR_SHAPE', `tensor "${name}": ${rows} output rows is not a multiple of 4`);
  const R = rows / 4;
  if (packed.length !== R * cols) throw dataError(name, `${packed.length} packed bytes for [${R}, ${cols}]`);
  const rb = ternaryRowBytes(cols);
  const out = new Uint8Array(rows * rb).fill(0x55);
  if (cols % 4 === 0) {
    // One LE u32 = 4 consecutive columns of packed row r; shifting by 2k and masking leaves the codes of
    // row k·R + r in byte lanes, which gatherCodes packs into one canonical byte.
    const words = leWords(packed, packed.length / 4);
    for (let r = 0; r < R; r++) {
      for (let j = 0; j < rb; j++) {
        const w = words[r * rb + j]!;
        for (let k = 0; k < 4; k++) {
          const x = (w >>> (2 * k)) & 0x03030303;
          if (lanesHaveCode3(x)) throw dataError(name, `packed byte at [${r}, ${4 * j}..${4 * j + 3}] holds the invalid code 3`);
          out[(k * R + r) * rb + j] = gatherCodes(x);
        }
      }
    }
  } else {
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < cols; c++) {
        const b = packed[r * cols + c]!;
        for (let k = 0; k < 4; k++) {
          const code = (b >> (2 * k)) & 3;
          if (code === 3) throw dataError(name, `packed byte at [${r}, ${c}] holds the invalid code 3`);
          const o = (k * R + r) * rb + (c >> 2);
          const s = (c & 3) * 2;
          out[o] = (out[o]! & ~(3 << s)) | (code << s);
        }
      }
    }
  }
  return perTensorTernary(rows, cols, out, scale, 'hf-packed');
}

/**
 * Absmean ternarization (§4.1) of `rows × cols` float master weights given as raw bytes.
 * @throws BitNetError BAD_TENSOR_DATA for non-finite weights.
 */
export function ternarizeAbsmean(bytes: Uint8Array, dtype: SafetensorsDtype, rows: number, cols: number, name = 'weight'): TernaryMatrix {
  const w = floatsFromBytes(bytes, dtype);
  const n = rows * cols;
  if (w.length !== n) throw dataError(name, `${w.length} values for [${rows}, ${cols}]`);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = w[i]!;
    if (!Number.isFinite(v)) throw dataError(name, `non-finite weight ${v} at element ${i}`);
    sum += Math.abs(v);
  }
  const m = Math.fround(Math.max(Math.fround(sum / n), 1e-5));
  const rb = ternaryRowBytes(cols);
  const out = new Uint8Array(rows * rb).fill(0x55);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = w[r * cols + c]!;
      // clamp(round_half_even(v / m), -1, 1): only |v/m| > 0.5 leaves zero (0.5 itself rounds to 0).
      const q = v / m;
      const code = q > 0.5 ? 2 : q < -0.5 ? 0 : 1;
      if (code === 1) continue;
      const o = r * rb + (c >> 2);
      const s = (c & 3) * 2;
      out[o] = (out[o]! & ~(3 << s)) | (code << s);
    }
  }
  return perTensorTernary(rows, cols, out, m, 'hf-absmean');
}
