/*
 * Float-matrix × f32-vector products (the output / logits projection): out[t, r] = Σ_c W[r,c]·x[t,c]
 * for F32, F16, BF16 and repacked Q8 storage, tiles of one row × up to 4 tokens, f32 accumulation.
 * F16 decode is exact: bits (sign-extended, << 13, masked) reinterpreted as f32, times 2^112 —
 * correct for normals, subnormals and zeros without a lookup table.
 * Q8 has two paths: f32 activations (Σ_block (Σ q·x)·d), or int8 activations quantized per 32-block
 * by bn_quantize_q8 (Σ_block (Σ q_w·q_x)·d_w·d_x, exact i32 inner sums) — faster, slightly less exact.
 */
#include <math.h>
#include "bitnet.h"

BN_INLINE __m128 bn_f16x4(__m128i h_lo_sext) {
  __m128i b = _mm_and_si128(_mm_slli_epi32(h_lo_sext, 13), _mm_set1_epi32((int)0x8FFFE000u));
  return _mm_mul_ps(_mm_castsi128_ps(b), _mm_set1_ps(0x1p112f));
}

/* Decodes 8 elements at column c of row `row` into two f32x4. */
BN_INLINE void bn_load8(const void *row, uint32_t fmt, uint32_t c, __m128 *lo, __m128 *hi) {
  if (fmt == BN_F32) {
    *lo = _mm_loadu_ps((const float *)row + c);
    *hi = _mm_loadu_ps((const float *)row + c + 4);
  } else if (fmt == BN_F16) {
    __m128i v = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + c));
    *lo = bn_f16x4(_mm_cvtepi16_epi32(v));
    *hi = bn_f16x4(_mm_cvtepi16_epi32(_mm_unpackhi_epi64(v, v)));
  } else {
    __m128i v = _mm_loadu_si128((const __m128i *)((const uint16_t *)row + c));
    *lo = _mm_castsi128_ps(_mm_unpacklo_epi16(_mm_setzero_si128(), v));
    *hi = _mm_castsi128_ps(_mm_unpackhi_epi16(_mm_setzero_si128(), v));
  }
}

static inline float bn_elem(const void *row, uint32_t fmt, uint32_t c) {
  union { uint32_t u; float f; } v;
  if (fmt == BN_F32) return ((const float *)row)[c];
  uint16_t h = ((const uint16_t *)row)[c];
  if (fmt == BN_BF16) {
    v.u = (uint32_t)h << 16;
    return v.f;
  }
  return bn_f16_to_f32(h);
}

BN_INLINE void bn_float_row(const bn_ljob *jb, uint32_t r, uint32_t t0, const int T) {
  const uint32_t cols = jb->cols, fmt = jb->fmt;
  const size_t esz = fmt == BN_F32 ? 4 : 2;
  const void *row = (const uint8_t *)jb->mat + (size_t)r * cols * esz;
  const float *x[4];
  __m128 a0[4], a1[4];
  for (int t = 0; t < T; t++) {
    x[t] = jb->x + (size_t)(t0 + t) * jb->ldx;
    a0[t] = _mm_setzero_ps();
    a1[t] = _mm_setzero_ps();
  }
  uint32_t c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m128 lo, hi;
    bn_load8(row, fmt, c, &lo, &hi);
    for (int t = 0; t < T; t++) {
      a0[t] = _mm_add_ps(a0[t], _mm_mul_ps(lo, _mm_loadu_ps(x[t] + c)));
      a1[t] = _mm_add_ps(a1[t], _mm_mul_ps(hi, _mm_loadu_ps(x[t] + c + 4)));
    }
  }
  for (int t = 0; t < T; t++) {
    float s = bn_hsum_ps(_mm_add_ps(a0[t], a1[t]));
    for (uint32_t k = c; k < cols; k++) s += bn_elem(row, fmt, k) * x[t][k];
    jb->out[(size_t)(t0 + t) * jb->ldo + r] = s;
  }
}

BN_INLINE void bn_q8_row(const bn_ljob *jb, uint32_t r, uint32_t t0, const int T) {
  const uint32_t cols = jb->cols, nb = cols >> 5;
  const int8_t *q = (const int8_t *)jb->mat + (size_t)r * cols;
  const float *d = BN_Q8_DPLANE(jb->mat, jb->rows, cols) + (size_t)r * nb;
  const float *x[4];
  __m128 acc[4];
  for (int t = 0; t < T; t++) {
    x[t] = jb->x + (size_t)(t0 + t) * jb->ldx;
    acc[t] = _mm_setzero_ps();
  }
  for (uint32_t b = 0; b < nb; b++) {
    __m128i v0 = _mm_loadu_si128((const __m128i *)(q + 32 * b)), v1 = _mm_loadu_si128((const __m128i *)(q + 32 * b + 16));
    /* i8 → i16 → i32 → f32 with widening ops only (emcc lowers each to one wasm instruction). */
    __m128i h0 = _mm_cvtepi8_epi16(v0), h1 = _mm_cvtepi8_epi16(_mm_unpackhi_epi64(v0, v0));
    __m128i h2 = _mm_cvtepi8_epi16(v1), h3 = _mm_cvtepi8_epi16(_mm_unpackhi_epi64(v1, v1));
    __m128 w[8];
    w[0] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(h0));
    w[1] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(_mm_unpackhi_epi64(h0, h0)));
    w[2] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(h1));
    w[3] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(_mm_unpackhi_epi64(h1, h1)));
    w[4] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(h2));
    w[5] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(_mm_unpackhi_epi64(h2, h2)));
    w[6] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(h3));
    w[7] = bn_small_i32_to_ps(_mm_cvtepi16_epi32(_mm_unpackhi_epi64(h3, h3)));
    __m128 db = _mm_set1_ps(d[b]);
    for (int t = 0; t < T; t++) {
      const float *xb = x[t] + 32 * b;
      __m128 s0 = _mm_mul_ps(w[0], _mm_loadu_ps(xb)), s1 = _mm_mul_ps(w[1], _mm_loadu_ps(xb + 4));
      s0 = _mm_add_ps(s0, _mm_mul_ps(w[2], _mm_loadu_ps(xb + 8)));
      s1 = _mm_add_ps(s1, _mm_mul_ps(w[3], _mm_loadu_ps(xb + 12)));
      s0 = _mm_add_ps(s0, _mm_mul_ps(w[4], _mm_loadu_ps(xb + 16)));
      s1 = _mm_add_ps(s1, _mm_mul_ps(w[5], _mm_loadu_ps(xb + 20)));
      s0 = _mm_add_ps(s0, _mm_mul_ps(w[6], _mm_loadu_ps(xb + 24)));
      s1 = _mm_add_ps(s1, _mm_mul_ps(w[7], _mm_loadu_ps(xb + 28)));
      acc[t] = _mm_add_ps(acc[t], _mm_mul_ps(_mm_add_ps(s0, s1), db));
    }
  }
  for (int t = 0; t < T; t++) jb->out[(size_t)(t0 + t) * jb->ldo + r] = bn_hsum_ps(acc[t]);
}

BN_INLINE void bn_q8q8_row(const bn_ljob *jb, uint32_t r, uint32_t t0, const int T) {
  const uint32_t cols = jb->cols, nb = cols >> 5;
  const int8_t *q = (const int8_t *)jb->mat + (size_t)r * cols;
  const float *d = BN_Q8_DPLANE(jb->mat, jb->rows, cols) + (size_t)r * nb;
  const int16_t *xq[4];
  const float *xd[4];
  __m128 acc[4];
  for (int t = 0; t < T; t++) {
    xq[t] = jb->xq + (size_t)(t0 + t) * cols;
    xd[t] = jb->xq_scale + (size_t)(t0 + t) * nb;
    acc[t] = _mm_setzero_ps();
  }
  for (uint32_t b = 0; b < nb; b++) {
    __m128i v0 = _mm_loadu_si128((const __m128i *)(q + 32 * b)), v1 = _mm_loadu_si128((const __m128i *)(q + 32 * b + 16));
    __m128i w0 = _mm_cvtepi8_epi16(v0), w1 = _mm_cvtepi8_epi16(_mm_unpackhi_epi64(v0, v0));
    __m128i w2 = _mm_cvtepi8_epi16(v1), w3 = _mm_cvtepi8_epi16(_mm_unpackhi_epi64(v1, v1));
    float db = d[b];
    for (int t = 0; t < T; t++) {
      const __m128i *xb = (const __m128i *)(xq[t] + 32 * b);
      __m128i s = _mm_add_epi32(_mm_add_epi32(_mm_madd_epi16(w0, _mm_loadu_si128(xb)), _mm_madd_epi16(w1, _mm_loadu_si128(xb + 1))),
                                _mm_add_epi32(_mm_madd_epi16(w2, _mm_loadu_si128(xb + 2)), _mm_madd_epi16(w3, _mm_loadu_si128(xb + 3))));
      acc[t] = _mm_add_ps(acc[t], _mm_mul_ps(_mm_cvtepi32_ps(s), _mm_set1_ps(db * xd[t][b])));
    }
  }
  for (int t = 0; t < T; t++) jb->out[(size_t)(t0 + t) * jb->ldo + r] = bn_hsum_ps(acc[t]);
}

/* One small non-inlined function per (format, tokens) tile, for V8's per-function register allocation. */
#define BN_ROW_FN(kind, T) \
  __attribute__((noinline)) static void bn_##kind##_##T(const bn_ljob *jb, uint32_t r0, uint32_t r1, uint32_t t) { \
    for (uint32_t r = r0; r < r1; r++) bn_##kind##_row(jb, r, t, T);                                              \
  }
BN_ROW_FN(float, 1) BN_ROW_FN(float, 2) BN_ROW_FN(float, 3) BN_ROW_FN(float, 4)
BN_ROW_FN(q8, 1) BN_ROW_FN(q8, 2) BN_ROW_FN(q8, 3) BN_ROW_FN(q8, 4)
BN_ROW_FN(q8q8, 1) BN_ROW_FN(q8q8, 2) BN_ROW_FN(q8q8, 3) BN_ROW_FN(q8q8, 4)

static void bn_logits_rows(const bn_ljob *jb, uint32_t r0, uint32_t r1) {
  static void (*const fns[3][4])(const bn_ljob *, uint32_t, uint32_t, uint32_t) = {
    {bn_float_1, bn_float_2, bn_float_3, bn_float_4},
    {bn_q8_1, bn_q8_2, bn_q8_3, bn_q8_4},
    {bn_q8q8_1, bn_q8q8_2, bn_q8q8_3, bn_q8q8_4},
  };
  const int kind = jb->fmt != BN_Q8 ? 0 : jb->xq ? 2 : 1;
  for (uint32_t t = 0; t < jb->n_tok; t += 4) {
    uint32_t T = jb->n_tok - t < 4 ? jb->n_tok - t : 4;
    fns[kind][T - 1](jb, r0, r1, t);
  }
}

/* Part `part` of `nparts` of a logits job: rows split in slices of 16, walked in groups of 64 rows
 * so that up to 4 token vectors are reused while a group's rows are cache resident. */
BN_EXPORT void bn_logits(const bn_ljob *jb, uint32_t part, uint32_t nparts) {
  uint32_t r0, r1;
  bn_split(jb->rows, 16, part, nparts, &r0, &r1);
  for (uint32_t rb = r0; rb < r1; rb += 64) bn_logits_rows(jb, rb, rb + 64 < r1 ? rb + 64 : r1);
}

/*
 * Converts n_rows consecutive rows of a float matrix (F32/F16/BF16, cols % 32 == 0) to the BN_Q8
 * layout with the Q8_0 reference encoding (llama.cpp quantize_row_q8_0_ref, FORMATS.md §2.2):
 * d = absmax/127, q = roundf(x · (1/d)), d stored rounded to f16 (kept here as that f16 value in f32).
 * dq / dd point at the rows' place in the int8 plane and the scale plane.
 */
BN_EXPORT void bn_to_q8(const void *src, uint32_t fmt, uint32_t n_rows, uint32_t cols, int8_t *dq, float *dd) {
  const size_t esz = fmt == BN_F32 ? 4 : 2;
  const uint32_t nb = cols >> 5;
  for (uint32_t r = 0; r < n_rows; r++) {
    const void *row = (const uint8_t *)src + (size_t)r * cols * esz;
    int8_t *q = dq + (size_t)r * cols;
    for (uint32_t b = 0; b < nb; b++) {
      float v[32], amax = 0.0f;
      for (int i = 0; i < 32; i++) {
        v[i] = bn_elem(row, fmt, 32 * b + i);
        float a = v[i] < 0 ? -v[i] : v[i];
        if (a > amax) amax = a;
      }
      float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
      for (int i = 0; i < 32; i++) {
        int qi = (int)roundf(v[i] * id); /* half away from zero */
        q[32 * b + i] = (int8_t)(qi > 127 ? 127 : qi < -128 ? -128 : qi);
      }
      dd[(size_t)r * nb + b] = bn_f16_to_f32(bn_f32_to_f16(d));
    }
  }
}

/* Splits n_rows rows of GGUF Q8_0 blocks (34 bytes: f16 d, 32 × i8) into the BN_Q8 planes. */
BN_EXPORT void bn_q8_0_unpack(const uint8_t *src, uint32_t n_rows, uint32_t cols, int8_t *dq, float *dd) {
  const uint32_t nb = cols >> 5;
  for (size_t b = 0; b < (size_t)n_rows * nb; b++) {
    const uint8_t *blk = src + b * 34;
    dd[b] = bn_f16_to_f32((uint16_t)(blk[0] | (blk[1] << 8)));
    _mm_storeu_si128((__m128i *)(dq + 32 * b), _mm_loadu_si128((const __m128i *)(blk + 2)));
    _mm_storeu_si128((__m128i *)(dq + 32 * b + 16), _mm_loadu_si128((const __m128i *)(blk + 18)));
  }
}
