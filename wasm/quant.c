/*
 * Per-token activation quantization (FORMATS.md §4.1, bit-exact with kernels.ts
 * quantizeActivations):
 *   a_scale = f32(127 / max(absmax, 1e-5))    (division in f64, rounded once, as JS does)
 *   q_i     = clamp(round_half_even(f32(x_i · a_scale)), -128, 127)
 * Rounding uses _mm_round_ps(nearest) (wasm f32x4.nearest = roundeven), then an exact truncating
 * conversion — never _mm_cvtps_epi32, which emcc 3.1.6 emulates with scalar lrint.
 * Output is the permuted i16 layout the ternary kernels read (see bitnet.h), zero padded to
 * cols_pad, plus Σq per 64-element chunk.
 */
#include "bitnet.h"

BN_INLINE __m128i bn_q8x8(const float *x, __m128 s) {
  __m128i lo = _mm_cvttps_epi32(_mm_round_ps(_mm_mul_ps(_mm_loadu_ps(x), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  __m128i hi = _mm_cvttps_epi32(_mm_round_ps(_mm_mul_ps(_mm_loadu_ps(x + 4), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  __m128i v = _mm_packs_epi32(lo, hi);
  return _mm_min_epi16(_mm_max_epi16(v, _mm_set1_epi16(-128)), _mm_set1_epi16(127));
}

/* max |x_i| over n floats. */
static float bn_absmax(const float *x, uint32_t n) {
  const __m128 mask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
  __m128 m0 = _mm_setzero_ps(), m1 = _mm_setzero_ps();
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    m0 = _mm_max_ps(m0, _mm_and_ps(_mm_loadu_ps(x + i), mask));
    m1 = _mm_max_ps(m1, _mm_and_ps(_mm_loadu_ps(x + i + 4), mask));
  }
  m0 = _mm_max_ps(m0, m1);
  m0 = _mm_max_ps(m0, _mm_movehl_ps(m0, m0));
  m0 = _mm_max_ss(m0, _mm_shuffle_ps(m0, m0, 0x55));
  float m = _mm_cvtss_f32(m0);
  for (; i < n; i++) {
    float a = x[i] < 0 ? -x[i] : x[i];
    if (a > m) m = a;
  }
  return m;
}

/*
 * Quantizes n_tok vectors x[t*ldx .. t*ldx+n) into act[t*cols_pad ..] (permuted i16 codes),
 * chunk_sum[t*(cols_pad/64) + k] = Σ of the 64 codes of chunk k, scale[t] = a_scale.
 */
BN_EXPORT void bn_quantize(const float *x, uint32_t ldx, uint32_t n, uint32_t n_tok, int16_t *act, uint32_t cols_pad,
                           int32_t *chunk_sum, float *scale) {
  const uint32_t nchunks = cols_pad >> 6;
  const __m128i ones = _mm_set1_epi16(1);
  float tail[64];
  for (uint32_t t = 0; t < n_tok; t++) {
    const float *xt = x + (size_t)t * ldx;
    float amax = bn_absmax(xt, n);
    double d = 127.0 / (amax > 1e-5 ? (double)amax : 1e-5);
    float sc = (float)d;
    scale[t] = sc;
    const __m128 s = _mm_set1_ps(sc);
    int16_t *at = act + (size_t)t * cols_pad;
    for (uint32_t k = 0; k < nchunks; k++) {
      const float *src = xt + 64 * k;
      if (64 * k + 64 > n) {
        uint32_t have = n > 64 * k ? n - 64 * k : 0;
        for (uint32_t i = 0; i < 64; i++) tail[i] = i < have ? src[i] : 0.0f;
        src = tail;
      }
      __m128i r0 = bn_q8x8(src, s), r1 = bn_q8x8(src + 8, s), r2 = bn_q8x8(src + 16, s), r3 = bn_q8x8(src + 24, s);
      __m128i r4 = bn_q8x8(src + 32, s), r5 = bn_q8x8(src + 40, s), r6 = bn_q8x8(src + 48, s), r7 = bn_q8x8(src + 56, s);
      __m128i sum = _mm_add_epi16(_mm_add_epi16(_mm_add_epi16(r0, r1), _mm_add_epi16(r2, r3)),
                                  _mm_add_epi16(_mm_add_epi16(r4, r5), _mm_add_epi16(r6, r7)));
      chunk_sum[(size_t)t * nchunks + k] = bn_hsum_epi32(_mm_madd_epi16(sum, ones));
      /* 8×8 transpose of i16: row L (elements 8L..8L+7) → column. */
      __m128i t0 = _mm_unpacklo_epi16(r0, r1), t1 = _mm_unpackhi_epi16(r0, r1);
      __m128i t2 = _mm_unpacklo_epi16(r2, r3), t3 = _mm_unpackhi_epi16(r2, r3);
      __m128i t4 = _mm_unpacklo_epi16(r4, r5), t5 = _mm_unpackhi_epi16(r4, r5);
      __m128i t6 = _mm_unpacklo_epi16(r6, r7), t7 = _mm_unpackhi_epi16(r6, r7);
      __m128i u0 = _mm_unpacklo_epi32(t0, t2), u1 = _mm_unpackhi_epi32(t0, t2);
      __m128i u2 = _mm_unpacklo_epi32(t1, t3), u3 = _mm_unpackhi_epi32(t1, t3);
      __m128i u4 = _mm_unpacklo_epi32(t4, t6), u5 = _mm_unpackhi_epi32(t4, t6);
      __m128i u6 = _mm_unpacklo_epi32(t5, t7), u7 = _mm_unpackhi_epi32(t5, t7);
      __m128i *o = (__m128i *)(at + 64 * k);
      _mm_store_si128(o + 0, _mm_unpacklo_epi64(u0, u4));
      _mm_store_si128(o + 1, _mm_unpackhi_epi64(u0, u4));
      _mm_store_si128(o + 2, _mm_unpacklo_epi64(u1, u5));
      _mm_store_si128(o + 3, _mm_unpackhi_epi64(u1, u5));
      _mm_store_si128(o + 4, _mm_unpacklo_epi64(u2, u6));
      _mm_store_si128(o + 5, _mm_unpackhi_epi64(u2, u6));
      _mm_store_si128(o + 6, _mm_unpacklo_epi64(u3, u7));
      _mm_store_si128(o + 7, _mm_unpackhi_epi64(u3, u7));
    }
  }
}

/*
 * Per-32-block int8 quantization for the Q8_0 × int8 logits option: for each block,
 * d = absmax/127 and q = clamp(round_half_even(x · 127/absmax)); an all-zero block gives d = 0, q = 0.
 * n must be a multiple of 32. q: n_tok*n codes stored as i16 (ready for _mm_madd_epi16),
 * d: n_tok*(n/32) f32.
 */
BN_EXPORT void bn_quantize_q8(const float *x, uint32_t ldx, uint32_t n, uint32_t n_tok, int16_t *q, float *d) {
  const uint32_t nb = n >> 5;
  for (uint32_t t = 0; t < n_tok; t++) {
    const float *xt = x + (size_t)t * ldx;
    for (uint32_t b = 0; b < nb; b++) {
      const float *src = xt + 32 * b;
      float amax = bn_absmax(src, 32);
      float s = amax > 0.0f ? 127.0f / amax : 0.0f;
      d[(size_t)t * nb + b] = amax / 127.0f;
      __m128 sv = _mm_set1_ps(s);
      __m128i a = bn_q8x8(src, sv), bb = bn_q8x8(src + 8, sv), c = bn_q8x8(src + 16, sv), e = bn_q8x8(src + 24, sv);
      int16_t *o = q + (size_t)t * n + 32 * b;
      _mm_storeu_si128((__m128i *)o, a);
      _mm_storeu_si128((__m128i *)(o + 8), bb);
      _mm_storeu_si128((__m128i *)(o + 16), c);
      _mm_storeu_si128((__m128i *)(o + 24), e);
    }
  }
}
