/*
 * Causal GQA attention over a paged f32 KV cache.
 *
 * Page layout (one page = page_size positions of every layer): for layer l the K block starts at
 * page + layer_off (layer_off = l · 2 · page_size · kv_dim · 4) and holds page_size rows of kv_dim
 * floats; the V block follows at + v_off. Position j lives in page pages[j / page_size], row
 * j % page_size. kv_dim = n_kv · head_dim; KV head g covers columns [g·head_dim, (g+1)·head_dim).
 * Addresses are 32-bit wasm offsets (this file is wasm-only).
 */
#include "bitnet.h"

BN_INLINE const float *bn_kv_row(const uint32_t *pages, uint32_t page_size, uint32_t off, uint32_t kv_dim, uint32_t j) {
  return (const float *)(uintptr_t)(pages[j / page_size] + off) + (size_t)(j % page_size) * kv_dim;
}

/* Writes the K and V rows of n_tok tokens (position tok_pos[t] of page table tok_pages[t]) into one layer. */
BN_EXPORT void bn_kv_store(const float *k, uint32_t ldk, const float *v, uint32_t ldv, uint32_t n_tok, const uint32_t *tok_pos,
                           const uint32_t *tok_pages, uint32_t page_size, uint32_t layer_off, uint32_t v_off, uint32_t kv_dim) {
  for (uint32_t t = 0; t < n_tok; t++) {
    const uint32_t *pages = (const uint32_t *)(uintptr_t)tok_pages[t];
    float *kd = (float *)bn_kv_row(pages, page_size, layer_off, kv_dim, tok_pos[t]);
    float *vd = (float *)bn_kv_row(pages, page_size, layer_off + v_off, kv_dim, tok_pos[t]);
    const float *ks = k + (size_t)t * ldk, *vs = v + (size_t)t * ldv;
    for (uint32_t i = 0; i < kv_dim; i++) {
      kd[i] = ks[i];
      vd[i] = vs[i];
    }
  }
}

BN_INLINE float bn_dot(const float *a, const float *b, uint32_t n) {
  __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
    s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4), _mm_loadu_ps(b + i + 4)));
  }
  for (; i + 4 <= n; i += 4) s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
  float s = bn_hsum_ps(_mm_add_ps(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/* o += p · v over n floats. */
BN_INLINE void bn_axpy(float *o, float p, const float *v, uint32_t n) {
  __m128 pv = _mm_set1_ps(p);
  uint32_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(o + i, _mm_add_ps(_mm_loadu_ps(o + i), _mm_mul_ps(pv, _mm_loadu_ps(v + i))));
  for (; i < n; i++) o[i] += p * v[i];
}

/* Softmax in place over s[0..n): subtract max, vector exp, multiply by 1/Σ. */
static void bn_softmax(float *s, uint32_t n) {
  float mx = s[0];
  for (uint32_t j = 1; j < n; j++) mx = s[j] > mx ? s[j] : mx;
  __m128 m = _mm_set1_ps(mx), acc = _mm_setzero_ps();
  uint32_t j = 0;
  for (; j + 4 <= n; j += 4) {
    __m128 e = bn_exp_ps(_mm_sub_ps(_mm_loadu_ps(s + j), m));
    _mm_storeu_ps(s + j, e);
    acc = _mm_add_ps(acc, e);
  }
  float sum = bn_hsum_ps(acc);
  for (; j < n; j++) {
    __m128 e = bn_exp_ps(_mm_set_ss(s[j] - mx));
    s[j] = _mm_cvtss_f32(e);
    sum += s[j];
  }
  __m128 inv = _mm_set1_ps(1.0f / sum);
  for (j = 0; j + 4 <= n; j += 4) _mm_storeu_ps(s + j, _mm_mul_ps(_mm_loadu_ps(s + j), inv));
  for (; j < n; j++) s[j] *= 1.0f / sum;
}

/*
 * Part `part` of `nparts` of an attention job. Work units are (token t, KV head g), dealt
 * round-robin so causal prefill stays balanced; each unit computes the n_head/n_kv query heads
 * that share KV head g, reading every K/V row once for the whole group.
 */
BN_EXPORT void bn_attention(const bn_ajob *jb, uint32_t part, uint32_t nparts) {
  const uint32_t grp = jb->n_head / jb->n_kv, hd = jb->head_dim, kv_dim = jb->n_kv * hd;
  const uint32_t units = jb->n_tok * jb->n_kv;
  float *sc = jb->scratch + (size_t)part * jb->scratch_stride;
  for (uint32_t u = part; u < units; u += nparts) {
    uint32_t t = u / jb->n_kv, g = u % jb->n_kv;
    uint32_t npos = jb->tok_pos[t] + 1;
    const uint32_t *pages = (const uint32_t *)(uintptr_t)jb->tok_pages[t];
    const float *q = jb->q + (size_t)t * jb->ldq + (size_t)g * grp * hd;
    float *o = jb->out + (size_t)t * jb->ldo + (size_t)g * grp * hd;
    for (uint32_t j = 0; j < npos; j++) {
      const float *kr = bn_kv_row(pages, jb->page_size, jb->layer_off, kv_dim, j) + (size_t)g * hd;
      for (uint32_t e = 0; e < grp; e++) sc[(size_t)e * npos + j] = bn_dot(q + (size_t)e * hd, kr, hd) * jb->scale;
    }
    for (uint32_t e = 0; e < grp; e++) {
      bn_softmax(sc + (size_t)e * npos, npos);
      for (uint32_t i = 0; i < hd; i++) o[(size_t)e * hd + i] = 0.0f;
    }
    for (uint32_t j = 0; j < npos; j++) {
      const float *vr = bn_kv_row(pages, jb->page_size, jb->layer_off + jb->v_off, kv_dim, j) + (size_t)g * hd;
      for (uint32_t e = 0; e < grp; e++) bn_axpy(o + (size_t)e * hd, sc[(size_t)e * npos + j], vr, hd);
    }
  }
}
