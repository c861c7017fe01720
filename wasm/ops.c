/*
 * Element-wise and per-token kernels: RMSNorm, residual add, gated FFN activation, embedding
 * lookup, RoPE. All operate on n_tok rows of a row-major f32 matrix with row stride `ld`.
 * Float arithmetic mirrors kernels.ts / transformer.ts where that is cheap (f64 sums of squares,
 * f64 RoPE rotation); results agree with the reference to a few f32 ulps.
 */
#include <math.h>
#include "bitnet.h"

/* y = w · f32(x · inv), inv = f32(1/sqrt(Σx²/n + eps)) with Σx² accumulated in f64. In place OK. */
BN_EXPORT void bn_rmsnorm(const float *x, uint32_t ldx, const float *w, float *y, uint32_t ldy, uint32_t n, uint32_t n_tok, double eps) {
  for (uint32_t t = 0; t < n_tok; t++) {
    const float *xt = x + (size_t)t * ldx;
    float *yt = y + (size_t)t * ldy;
    __m128d s0 = _mm_setzero_pd(), s1 = _mm_setzero_pd();
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
      __m128 v = _mm_loadu_ps(xt + i);
      __m128d lo = _mm_cvtps_pd(v), hi = _mm_cvtps_pd(_mm_movehl_ps(v, v));
      s0 = _mm_add_pd(s0, _mm_mul_pd(lo, lo));
      s1 = _mm_add_pd(s1, _mm_mul_pd(hi, hi));
    }
    s0 = _mm_add_pd(s0, s1);
    double ss = _mm_cvtsd_f64(_mm_add_sd(s0, _mm_unpackhi_pd(s0, s0)));
    for (; i < n; i++) ss += (double)xt[i] * (double)xt[i];
    float inv = (float)(1.0 / sqrt(ss / (double)n + eps));
    __m128 iv = _mm_set1_ps(inv);
    for (i = 0; i + 4 <= n; i += 4) _mm_storeu_ps(yt + i, _mm_mul_ps(_mm_loadu_ps(w + i), _mm_mul_ps(_mm_loadu_ps(xt + i), iv)));
    for (; i < n; i++) yt[i] = w[i] * (xt[i] * inv);
  }
}

/* x[t] += y[t] (f32), n_tok rows. */
BN_EXPORT void bn_add(float *x, uint32_t ldx, const float *y, uint32_t ldy, uint32_t n, uint32_t n_tok) {
  for (uint32_t t = 0; t < n_tok; t++) {
    float *xt = x + (size_t)t * ldx;
    const float *yt = y + (size_t)t * ldy;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(xt + i, _mm_add_ps(_mm_loadu_ps(xt + i), _mm_loadu_ps(yt + i)));
    for (; i < n; i++) xt[i] += yt[i];
  }
}

/*
 * Gated FFN activation, out = act(g) · u: act 0 = ReLU² (computed in f64 and rounded once, like
 * the reference), act 1 = SiLU g/(1+e^-g) (f32, vector exp). out may alias g.
 */
BN_EXPORT void bn_glu(const float *g, uint32_t ldg, const float *u, uint32_t ldu, float *out, uint32_t ldo, uint32_t n, uint32_t n_tok, uint32_t act) {
  for (uint32_t t = 0; t < n_tok; t++) {
    const float *gt = g + (size_t)t * ldg, *ut = u + (size_t)t * ldu;
    float *ot = out + (size_t)t * ldo;
    uint32_t i = 0;
    if (act == 0) {
      const __m128d z = _mm_setzero_pd();
      for (; i + 4 <= n; i += 4) {
        __m128 gv = _mm_loadu_ps(gt + i), uv = _mm_loadu_ps(ut + i);
        __m128d g0 = _mm_max_pd(_mm_cvtps_pd(gv), z), g1 = _mm_max_pd(_mm_cvtps_pd(_mm_movehl_ps(gv, gv)), z);
        __m128d r0 = _mm_mul_pd(_mm_mul_pd(g0, g0), _mm_cvtps_pd(uv));
        __m128d r1 = _mm_mul_pd(_mm_mul_pd(g1, g1), _mm_cvtps_pd(_mm_movehl_ps(uv, uv)));
        _mm_storeu_ps(ot + i, _mm_movelh_ps(bn_cvtpd_ps(r0), bn_cvtpd_ps(r1)));
      }
      for (; i < n; i++) {
        double gg = gt[i] > 0 ? (double)gt[i] : 0.0;
        ot[i] = (float)(gg * gg * (double)ut[i]);
      }
    } else {
      const __m128 one = _mm_set1_ps(1.0f), zero = _mm_setzero_ps();
      for (; i + 4 <= n; i += 4) {
        __m128 gv = _mm_loadu_ps(gt + i);
        __m128 e = bn_exp_ps(_mm_sub_ps(zero, gv));
        _mm_storeu_ps(ot + i, _mm_mul_ps(_mm_div_ps(gv, _mm_add_ps(one, e)), _mm_loadu_ps(ut + i)));
      }
      for (; i < n; i++) ot[i] = gt[i] / (1.0f + expf(-gt[i])) * ut[i];
    }
  }
}

/*
 * Embedding lookup: out[t*ldo ..] = row tokens[t] of a float matrix (fmt BN_F32/F16/BF16/Q8),
 * decoded exactly as the reference decodes it (Q8: f32(d·q)). Inf/NaN f16 values are not
 * produced by any writer and decode as large finite numbers here.
 */
BN_EXPORT void bn_embed(const void *mat, uint32_t fmt, uint32_t rows, uint32_t cols, const int32_t *tokens, uint32_t n_tok, float *out, uint32_t ldo) {
  for (uint32_t t = 0; t < n_tok; t++) {
    uint32_t r = (uint32_t)tokens[t];
    float *o = out + (size_t)t * ldo;
    if (fmt == BN_F32) {
      const float *s = (const float *)mat + (size_t)r * cols;
      for (uint32_t i = 0; i < cols; i++) o[i] = s[i];
    } else if (fmt == BN_F16) {
      const uint16_t *s = (const uint16_t *)mat + (size_t)r * cols;
      for (uint32_t i = 0; i < cols; i++) o[i] = bn_f16_to_f32(s[i]);
    } else if (fmt == BN_BF16) {
      const uint16_t *s = (const uint16_t *)mat + (size_t)r * cols;
      for (uint32_t i = 0; i < cols; i++) {
        union { uint32_t u; float f; } v;
        v.u = (uint32_t)s[i] << 16;
        o[i] = v.f;
      }
    } else {
      const int8_t *q = (const int8_t *)mat + (size_t)r * cols;
      const float *d = BN_Q8_DPLANE(mat, rows, cols) + (size_t)r * (cols >> 5);
      for (uint32_t i = 0; i < cols; i++) o[i] = d[i >> 5] * (float)q[i];
    }
  }
}

/*
 * RoPE tables for n_tok positions: cs[(t*half + i)*2 + {0,1}] = cos, sin of pos[t] · theta^(-2i/rope_dim)
 * in f64 (same formula as kernels.ts rope()).
 */
BN_EXPORT void bn_rope_table(const int32_t *pos, uint32_t n_tok, uint32_t rope_dim, double theta, double *cs) {
  uint32_t half = rope_dim >> 1;
  for (uint32_t i = 0; i < half; i++) {
    double freq = pow(theta, (-2.0 * (double)i) / (double)rope_dim);
    for (uint32_t t = 0; t < n_tok; t++) {
      double ang = (double)pos[t] * freq;
      cs[((size_t)t * half + i) * 2] = cos(ang);
      cs[((size_t)t * half + i) * 2 + 1] = sin(ang);
    }
  }
}

/* Rotates n_head heads of each token row in place; neox = half-split pairs, else adjacent pairs. */
BN_EXPORT void bn_rope(float *x, uint32_t ldx, uint32_t n_tok, uint32_t n_head, uint32_t head_dim, uint32_t rope_dim, uint32_t neox, const double *cs) {
  uint32_t half = rope_dim >> 1;
  for (uint32_t t = 0; t < n_tok; t++) {
    const double *c = cs + (size_t)t * half * 2;
    for (uint32_t h = 0; h < n_head; h++) {
      float *v = x + (size_t)t * ldx + (size_t)h * head_dim;
      for (uint32_t i = 0; i < half; i++) {
        uint32_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        double a = v[i0], b = v[i1], co = c[2 * i], si = c[2 * i + 1];
        v[i0] = (float)(a * co - b * si);
        v[i1] = (float)(a * si + b * co);
      }
    }
  }
}
