/*
 * W1.58A8 ternary matrix × int8-activation kernels (GEMV for one token, GEMM for many).
 *
 * Arithmetic (FORMATS.md §2.5 / kernels.ts): per output row r, token t and scale block b,
 *   acc = Σ_c code[r,c] · q[t,c] − Σ_c q[t,c]        (exact i32, codes 0..2, = Σ T·q)
 *   y   = (Σ_b f32(acc_b · s_b)) / a_scale[t] · out_scale   (f32, in this order)
 * Inner step: eight u16 lanes of 2-bit codes, (lane >> 2j) & 3 → i16 codes, _mm_madd_epi16 with
 * eight permuted i16 activations → four i32 partial sums (a product pair is at most 2·2·128 in
 * magnitude, so nothing saturates; i32 sums are exact for any row length below 2^22).
 * Why not _mm_maddubs_epi16 on 2-bit codes as in bitnet.cpp: wasm SIMD128 has no u8×i8 dot, and
 * emcc emulates maddubs with 8 instructions; measured on V8 x64 (6912×2560 GEMV) the i16 madd form
 * runs 16.5 G MAC/s vs 11.5 for maddubs and 8.6 for i16x8.extmul.
 * Tiles: 2 rows × 1–2 tokens or 1 row × 3–4 tokens share each decoded code vector / activation
 * load; rows are walked in groups of 16 so a group's weights stay in L1 across token tiles.
 */
#include "bitnet.h"

BN_INLINE __m128i bn_codes(__m128i p, int j) {
  if (j == 7) return _mm_srli_epi16(p, 14);
  if (j == 0) return _mm_and_si128(p, _mm_set1_epi16(3));
  return _mm_and_si128(_mm_srli_epi16(p, 2 * j), _mm_set1_epi16(3));
}

/* One tile: rows r..r+R-1 of m, tokens t0..t0+T-1. */
BN_INLINE void bn_tile(const bn_tjob *jb, const bn_tmat *m, uint32_t r, uint32_t t0, const int R, const int T) {
  const uint32_t nchunks = jb->cols_pad >> 6;
  const uint32_t bc = m->block_chunks ? m->block_chunks : nchunks;
  const uint32_t nblk = (nchunks + bc - 1) / bc;
  const size_t rb = jb->cols_pad >> 2;
  const uint8_t *w[2];
  const int16_t *a[4];
  float f[2][4];
  for (int i = 0; i < R; i++) w[i] = m->w + (size_t)(r + i) * rb;
  for (int t = 0; t < T; t++) a[t] = jb->act + (size_t)(t0 + t) * jb->cols_pad;
  for (int i = 0; i < R; i++)
    for (int t = 0; t < T; t++) f[i][t] = 0.0f;
  for (uint32_t b = 0; b < nblk; b++) {
    uint32_t k0 = b * bc, k1 = k0 + bc < nchunks ? k0 + bc : nchunks;
    __m128i acc[2][4];
    for (int i = 0; i < R; i++)
      for (int t = 0; t < T; t++) acc[i][t] = _mm_setzero_si128();
    for (uint32_t k = k0; k < k1; k++) {
      __m128i p[2];
      for (int i = 0; i < R; i++) p[i] = _mm_load_si128((const __m128i *)(w[i] + 16 * k));
      for (int j = 0; j < 8; j++) {
        __m128i c[2];
        for (int i = 0; i < R; i++) c[i] = bn_codes(p[i], j);
        for (int t = 0; t < T; t++) {
          __m128i x = _mm_load_si128((const __m128i *)(a[t] + 64 * k + 8 * j));
          for (int i = 0; i < R; i++) acc[i][t] = _mm_add_epi32(acc[i][t], _mm_madd_epi16(c[i], x));
        }
      }
    }
    for (int t = 0; t < T; t++) {
      int32_t bs = m->blk_sum[(size_t)(t0 + t) * nblk + b];
      for (int i = 0; i < R; i++) {
        int32_t s = bn_hsum_epi32(acc[i][t]) - bs;
        if (jb->acc_mode) {
          ((int32_t *)m->out)[(size_t)(t0 + t) * m->ldo + (size_t)(r + i) * nblk + b] = s;
        } else if (m->block_chunks) {
          f[i][t] += (float)s * m->scales[(size_t)(r + i) * nblk + b];
        } else {
          f[i][t] = (float)s * m->scales[0];
        }
      }
    }
  }
  if (jb->acc_mode) return;
  for (int t = 0; t < T; t++) {
    float as = jb->act_scale[t0 + t];
    for (int i = 0; i < R; i++) {
      float v = f[i][t] / as;
      if (m->out_scale != 1.0f) v *= m->out_scale;
      ((float *)m->out)[(size_t)(t0 + t) * m->ldo + r + i] = v;
    }
  }
}

/* Each (R, T) specialisation is its own small function: V8 allocates registers per function, and
 * one function holding every variant degrades badly (spills) in the 3- and 4-token variants. */
#define BN_TILE_FN(R, T) \
  __attribute__((noinline)) static void bn_tile_##R##_##T(const bn_tjob *jb, const bn_tmat *m, uint32_t r, uint32_t t0) { bn_tile(jb, m, r, t0, R, T); }
BN_TILE_FN(1, 1) BN_TILE_FN(1, 2) BN_TILE_FN(1, 3) BN_TILE_FN(1, 4)
BN_TILE_FN(2, 1) BN_TILE_FN(2, 2)

static void bn_tile_dispatch(const bn_tjob *jb, const bn_tmat *m, uint32_t r, uint32_t t0, int R, int T) {
  if (R == 2) {
    if (T == 1) bn_tile_2_1(jb, m, r, t0);
    else bn_tile_2_2(jb, m, r, t0);
    return;
  }
  switch (T) {
    case 1: bn_tile_1_1(jb, m, r, t0); return;
    case 2: bn_tile_1_2(jb, m, r, t0); return;
    case 3: bn_tile_1_3(jb, m, r, t0); return;
    default: bn_tile_1_4(jb, m, r, t0); return;
  }
}

static void bn_ternary_rows(const bn_tjob *jb, const bn_tmat *m, uint32_t r0, uint32_t r1) {
  for (uint32_t rb = r0; rb < r1; rb += 16) {
    uint32_t re = rb + 16 < r1 ? rb + 16 : r1;
    for (uint32_t t = 0; t < jb->n_tok; t += 4) {
      int T = jb->n_tok - t < 4 ? (int)(jb->n_tok - t) : 4;
      uint32_t r = rb;
      /* 2-row tiles only up to 2 tokens: with 2×3 / 2×4 accumulators V8 spills xmm registers and
       * the tile runs ~1.5× slower per MAC than 1-row tiles (measured in CPU time, V8 11.3 x64). */
      for (; T <= 2 && r + 2 <= re; r += 2) bn_tile_dispatch(jb, m, r, t, 2, T);
      for (; r < re; r++) bn_tile_dispatch(jb, m, r, t, 1, T);
    }
  }
}

/* Part `part` of `nparts` of a ternary job (row split: bn_job_rows in bitnet.h). */
BN_EXPORT void bn_ternary(const bn_tjob *jb, uint32_t part, uint32_t nparts) {
  bn_job_rows(jb, part, nparts, bn_ternary_rows);
}

/* Block sums Σq per scale block: out[t*nblk + b] = Σ chunk_sum[t*nchunks + k], k in block b. */
BN_EXPORT void bn_block_sums(const int32_t *chunk_sum, uint32_t n_tok, uint32_t nchunks, uint32_t bc, int32_t *out) {
  if (bc == 0) bc = nchunks;
  uint32_t nblk = (nchunks + bc - 1) / bc;
  for (uint32_t t = 0; t < n_tok; t++) {
    const int32_t *cs = chunk_sum + (size_t)t * nchunks;
    for (uint32_t b = 0; b < nblk; b++) {
      int32_t s = 0;
      uint32_t k1 = (b + 1) * bc < nchunks ? (b + 1) * bc : nchunks;
      for (uint32_t k = b * bc; k < k1; k++) s += cs[k];
      out[(size_t)t * nblk + b] = s;
    }
  }
}
