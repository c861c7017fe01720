/*
 * Table-lookup GEMM for ternary projections over a block of up to 8 tokens (batched decode steps
 * and prefill). Same job descriptor and the same arithmetic as bn_ternary (ternary.c), bit for bit:
 *   acc = Σ_c code[r,c] · q[t,c] − Σ_c q[t,c]   (exact i32 per scale block)
 *   y   = (Σ_b f32(acc_b · s_b)) / a_scale[t] · out_scale
 *
 * Why: bn_ternary spends one i32x4.dot_i16x8 plus one add per 8 multiply-adds for every
 * (row, token) pair, so a batch of N tokens costs about N single-token passes. Here each weight
 * byte (4 codes of 4 consecutive columns) indexes a table entry holding Σ code_i · q[t, col_i] for
 * all 8 tokens at once (one i16x8 vector): one load and one add per 4 columns × 8 tokens.
 *
 * bn_lut_build: table lut[g·256 + w] (i16x8, lane t = token t, zero for t ≥ n_tok) for every
 *   group g of 4 columns and every byte value w; groups split across parts.
 * bn_ternary_lut: rows split across parts (multiples of 4, like bn_ternary); rows are walked in
 *   groups of BN_LUT_ROWS with their accumulators on the stack, chunk by chunk, so each 64 KiB
 *   table slice of a chunk serves the whole row group. Within a chunk the 16 lookups add in i16:
 *   |entry| ≤ 4·2·128, so |Σ| ≤ 16384 never overflows; chunk sums widen to i32.
 * Needs n_tok ≤ 8 (the caller offsets act / act_scale / blk_sum / out to the block's first token)
 * and `lut` pointing at cols_pad · 1024 bytes, 16-byte aligned.
 */
#include "bitnet.h"

#define BN_LUT_ROWS 128

BN_EXPORT void bn_lut_build(const bn_tjob *jb, uint32_t part, uint32_t nparts) {
  const uint32_t cp = jb->cols_pad, ngroups = cp >> 2, nt = jb->n_tok < 8 ? jb->n_tok : 8;
  __m128i *lut = (__m128i *)jb->lut;
  uint32_t g0, g1;
  bn_split(ngroups, 16, part, nparts, &g0, &g1);
  for (uint32_t g = g0; g < g1; g++) {
    /* Group g = columns 4g..4g+3 = byte b of chunk k; in the permuted activation layout column
     * 64k + 8L + j sits at 64k + 8j + L, with L = b/2 and j = 4·(b&1) + i. */
    const uint32_t k = g >> 4, b = g & 15, L = b >> 1, h = b & 1;
    int16_t q[4][8];
    for (int i = 0; i < 4; i++)
      for (uint32_t t = 0; t < 8; t++)
        q[i][t] = t < nt ? jb->act[(size_t)t * cp + 64 * k + 8 * (4 * h + i) + L] : 0;
    __m128i m[4][4];
    for (int i = 0; i < 4; i++) {
      __m128i x = _mm_loadu_si128((const __m128i *)q[i]);
      m[i][0] = _mm_setzero_si128();
      m[i][1] = x;
      m[i][2] = _mm_add_epi16(x, x);
      m[i][3] = _mm_add_epi16(m[i][2], x);
    }
    __m128i lo[16], hi[16];
    for (int c = 0; c < 16; c++) {
      lo[c] = _mm_add_epi16(m[0][c & 3], m[1][c >> 2]);
      hi[c] = _mm_add_epi16(m[2][c & 3], m[3][c >> 2]);
    }
    __m128i *tg = lut + (size_t)g * 256;
    for (int w = 0; w < 256; w++) _mm_store_si128(tg + w, _mm_add_epi16(lo[w & 15], hi[w >> 4]));
  }
}

/* Rows [r0, r1) of matrix m (r1 − r0 ≤ BN_LUT_ROWS). */
static void bn_lut_rows(const bn_tjob *jb, const bn_tmat *m, uint32_t r0, uint32_t r1) {
  const uint32_t nchunks = jb->cols_pad >> 6, nt = jb->n_tok < 8 ? jb->n_tok : 8; /* more is a caller bug: never past the 8 lanes */
  const uint32_t bc = m->block_chunks ? m->block_chunks : nchunks;
  const uint32_t nblk = (nchunks + bc - 1) / bc;
  const size_t rb = jb->cols_pad >> 2;
  const __m128i *lut = (const __m128i *)jb->lut;
  __m128i acc[BN_LUT_ROWS][2];
  float f[BN_LUT_ROWS][8];
  const uint32_t n = r1 - r0;
  for (uint32_t i = 0; i < n; i++)
    for (int t = 0; t < 8; t++) f[i][t] = 0.0f;
  for (uint32_t b = 0; b < nblk; b++) {
    const uint32_t k0 = b * bc, k1 = k0 + bc < nchunks ? k0 + bc : nchunks;
    for (uint32_t i = 0; i < n; i++) acc[i][0] = acc[i][1] = _mm_setzero_si128();
    for (uint32_t k = k0; k < k1; k++) {
      const __m128i *tk = lut + (size_t)k * 16 * 256;
      uint32_t i = 0;
      for (; i + 4 <= n; i += 4) {
        const uint8_t *w0 = m->w + (size_t)(r0 + i) * rb + 16 * k, *w1 = w0 + rb, *w2 = w1 + rb, *w3 = w2 + rb;
        __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
        for (int j = 0; j < 16; j++) {
          const __m128i *tj = tk + 256 * j;
          s0 = _mm_add_epi16(s0, _mm_load_si128(tj + w0[j]));
          s1 = _mm_add_epi16(s1, _mm_load_si128(tj + w1[j]));
          s2 = _mm_add_epi16(s2, _mm_load_si128(tj + w2[j]));
          s3 = _mm_add_epi16(s3, _mm_load_si128(tj + w3[j]));
        }
        const __m128i s[4] = {s0, s1, s2, s3};
        for (int u = 0; u < 4; u++) {
          acc[i + u][0] = _mm_add_epi32(acc[i + u][0], _mm_cvtepi16_epi32(s[u]));
          acc[i + u][1] = _mm_add_epi32(acc[i + u][1], _mm_cvtepi16_epi32(_mm_unpackhi_epi64(s[u], s[u])));
        }
      }
      for (; i < n; i++) {
        const uint8_t *w0 = m->w + (size_t)(r0 + i) * rb + 16 * k;
        __m128i s0 = _mm_setzero_si128();
        for (int j = 0; j < 16; j++) s0 = _mm_add_epi16(s0, _mm_load_si128(tk + 256 * j + w0[j]));
        acc[i][0] = _mm_add_epi32(acc[i][0], _mm_cvtepi16_epi32(s0));
        acc[i][1] = _mm_add_epi32(acc[i][1], _mm_cvtepi16_epi32(_mm_unpackhi_epi64(s0, s0)));
      }
    }
    /* Block epilogue: exactly bn_tile's per-block step. */
    for (uint32_t i = 0; i < n; i++) {
      int32_t a[8];
      _mm_storeu_si128((__m128i *)a, acc[i][0]);
      _mm_storeu_si128((__m128i *)(a + 4), acc[i][1]);
      const uint32_t r = r0 + i;
      for (uint32_t t = 0; t < nt; t++) {
        int32_t s = a[t] - m->blk_sum[(size_t)t * nblk + b];
        if (jb->acc_mode) ((int32_t *)m->out)[(size_t)t * m->ldo + (size_t)r * nblk + b] = s;
        else if (m->block_chunks) f[i][t] += (float)s * m->scales[(size_t)r * nblk + b];
        else f[i][t] = (float)s * m->scales[0];
      }
    }
  }
  if (jb->acc_mode) return;
  for (uint32_t t = 0; t < nt; t++) {
    const float as = jb->act_scale[t];
    for (uint32_t i = 0; i < n; i++) {
      float v = f[i][t] / as;
      if (m->out_scale != 1.0f) v *= m->out_scale;
      ((float *)m->out)[(size_t)t * m->ldo + r0 + i] = v;
    }
  }
}

/* Rows [lo, hi) of matrix m, in groups of BN_LUT_ROWS. */
static void bn_lut_range(const bn_tjob *jb, const bn_tmat *m, uint32_t lo, uint32_t hi) {
  for (uint32_t r = lo; r < hi; r += BN_LUT_ROWS) bn_lut_rows(jb, m, r, r + BN_LUT_ROWS < hi ? r + BN_LUT_ROWS : hi);
}

/* Part `part` of `nparts` of a table-lookup ternary job (rows of all matrices split as bn_ternary). */
BN_EXPORT void bn_ternary_lut(const bn_tjob *jb, uint32_t part, uint32_t nparts) {
  bn_job_rows(jb, part, nparts, bn_lut_range);
}
