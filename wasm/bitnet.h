/*
 * bitnet-web wasm kernels: shared declarations.
 *
 * Written against SSE2..SSE4.1 intrinsics; emcc (-msimd128 -msse4.1) lowers them to wasm SIMD128,
 * gcc (-msse4.1) compiles the same source natively for the cross-check harness in wasm/test/.
 * Only intrinsics that lower to one or two wasm instructions are used in hot loops
 * (no _mm_maddubs_epi16 / _mm_cvtps_epi32, which emcc 3.1.6 emulates with long sequences).
 *
 * Threading contract: kernels keep no mutable static state. Parallel kernels take a job
 * descriptor in linear memory and a (part, nparts) pair and touch only their own output slice,
 * so several instances sharing one memory can run them at once (each with its own C stack).
 */
#ifndef BITNET_H
#define BITNET_H
#include <stdint.h>
#include <stddef.h>
#include <smmintrin.h>
#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

#define BN_EXPORT __attribute__((visibility("default"), used))
#define BN_INLINE static inline __attribute__((always_inline))

/* ---- ternary matrices ----------------------------------------------------------------------
 * Weight layout ("canonical, 64-padded"): row r occupies bytes [r*rb, (r+1)*rb), rb = cols_pad/4,
 * cols_pad = cols rounded up to 64, 16-byte aligned. Byte i of a row holds elements 4i..4i+3 in
 * bit pairs 2k..2k+1 (LSB first), code = T + 1 — exactly src/model/tensor.ts, plus padding.
 * Read as eight little-endian u16 lanes per 16-byte chunk k, lane L holds elements 64k+8L+j at
 * bits 2j, so (lane >> 2j) & 3 yields, across the 8 lanes, the codes of elements 64k+8L+j.
 * The activation side is permuted to match (see bn_quantize): act[64k + 8j + L] = q[64k + 8L + j].
 */
typedef struct {
  const uint8_t *w;       /* packed codes, rows * cols_pad/4 bytes */
  uint32_t rows;
  uint32_t block_chunks;  /* scale block length in 64-element chunks; 0 = one per-tensor scale */
  const float *scales;    /* per-tensor: scales[0]; per-block: rows * nblocks, row-major */
  const int32_t *blk_sum; /* per token: Σq of each scale block, n_tok * nblocks (from bn_block_sums) */
  float out_scale;        /* optional `.scale` tensor, 1 when absent */
  void *out;              /* f32 outputs out[t*ldo + r], or i32 accumulators (acc_mode) */
  uint32_t ldo;           /* output row stride per token, in elements */
  uint32_t _pad;
} bn_tmat;

#define BN_MAX_MATS 4
typedef struct {
  uint32_t n_mat;
  uint32_t n_tok;
  uint32_t cols_pad;          /* shared input width, multiple of 64 */
  uint32_t acc_mode;          /* 0: scaled f32 outputs; 1: raw i32 accumulators out[t*ldo + r*nblocks + b] */
  const int16_t *act;         /* permuted i16 codes, n_tok * cols_pad */
  const float *act_scale;     /* a_scale per token */
  void *lut;                  /* bn_lut_build / bn_ternary_lut only: cols_pad*1024-byte table (ternary-lut.c) */
  uint32_t _pad;
  bn_tmat mats[BN_MAX_MATS];
} bn_tjob;

/* ---- float (output / embedding) matrices --------------------------------------------------- */
enum { BN_F32 = 0, BN_F16 = 1, BN_BF16 = 2, BN_Q8 = 3 };
/* BN_Q8 layout: int8 plane rows*cols (row-major), then, at the next 64-byte boundary, an f32 plane
 * of rows*(cols/32) block scales. */
#define BN_Q8_DPLANE(mat, rows, cols) \
  ((const float *)((const int8_t *)(mat) + ((((size_t)(rows) * (cols)) + 63) & ~(size_t)63)))

typedef struct {
  const void *mat;
  uint32_t fmt;         /* BN_F32 / BN_F16 / BN_BF16 / BN_Q8 */
  uint32_t rows, cols;
  uint32_t n_tok;
  const float *x;       /* f32 activations, n_tok * ldx */
  uint32_t ldx;
  float *out;           /* out[t*ldo + r] */
  uint32_t ldo;
  const int16_t *xq;    /* optional int8 activations (as i16) for BN_Q8 (per-32-block scales in xq_scale); NULL = f32 path */
  const float *xq_scale;
} bn_ljob;

/* ---- attention over a paged KV cache --------------------------------------------------------
 * Tokens of several sequences can share one job: token t sits at position tok_pos[t] of the
 * sequence whose page table (array of page base addresses) is at tok_pages[t]; it attends to
 * positions 0..tok_pos[t] of that sequence, whose K/V must already be stored. */
typedef struct {
  const float *q;            /* n_tok * ldq, post-RoPE */
  uint32_t ldq;
  float *out;                /* n_tok * ldo */
  uint32_t ldo;
  uint32_t n_tok;
  const uint32_t *tok_pos;
  const uint32_t *tok_pages;
  uint32_t page_size;        /* positions per page */
  uint32_t layer_off;        /* byte offset of this layer's K block inside a page */
  uint32_t v_off;            /* byte offset of the V block relative to the K block */
  uint32_t n_head, n_kv, head_dim;
  float scale;               /* 1/sqrt(head_dim) */
  float *scratch;            /* per part: scratch + part * scratch_stride floats */
  uint32_t scratch_stride;   /* >= (n_head/n_kv) * (max tok_pos + 1) */
} bn_ajob;

#if defined(__wasm__)
/* The JS side (src/backends/wasm/abi.ts) writes these structs word by word. */
_Static_assert(sizeof(bn_tmat) == 36, "bn_tmat layout");
_Static_assert(sizeof(bn_tjob) == 32 + 4 * 36, "bn_tjob layout");
_Static_assert(sizeof(bn_ljob) == 44, "bn_ljob layout");
_Static_assert(sizeof(bn_ajob) == 64, "bn_ajob layout");
#endif

/* ---- helpers ---------------------------------------------------------------------------- */
BN_INLINE int32_t bn_hsum_epi32(__m128i a) {
  a = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0x4e));
  a = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0xb1));
  return _mm_cvtsi128_si32(a);
}
BN_INLINE float bn_hsum_ps(__m128 a) {
  a = _mm_add_ps(a, _mm_movehl_ps(a, a));
  a = _mm_add_ss(a, _mm_shuffle_ps(a, a, 0x55));
  return _mm_cvtss_f32(a);
}
/* Contiguous slice [*lo, *hi) of n items for part `part` of `nparts`, in multiples of `gran`. */
BN_INLINE void bn_split(uint32_t n, uint32_t gran, uint32_t part, uint32_t nparts, uint32_t *lo, uint32_t *hi) {
  uint32_t units = (n + gran - 1) / gran;
  uint32_t per = units / nparts, extra = units % nparts;
  uint32_t u0 = part * per + (part < extra ? part : extra);
  uint32_t u1 = u0 + per + (part < extra ? 1 : 0);
  uint32_t a = u0 * gran, b = u1 * gran;
  *lo = a < n ? a : n;
  *hi = b < n ? b : n;
}

/* Row kernel of a ternary job: rows [r0, r1) of matrix m. */
typedef void (*bn_rows_fn)(const bn_tjob *jb, const bn_tmat *m, uint32_t r0, uint32_t r1);

/*
 * Part `part` of `nparts` of a ternary job (bn_ternary, bn_ternary_lut): the concatenated rows of
 * all matrices are split into contiguous slices (multiples of 4 rows), so q/k/v or gate/up run as
 * one dispatch; `rows` runs this part's non-empty row range of each matrix.
 */
BN_INLINE void bn_job_rows(const bn_tjob *jb, uint32_t part, uint32_t nparts, bn_rows_fn rows) {
  uint32_t total = 0;
  for (uint32_t i = 0; i < jb->n_mat; i++) total += jb->mats[i].rows;
  uint32_t g0, g1;
  bn_split(total, 4, part, nparts, &g0, &g1);
  uint32_t base = 0;
  for (uint32_t i = 0; i < jb->n_mat; i++) {
    const bn_tmat *m = &jb->mats[i];
    uint32_t lo = g0 > base ? g0 - base : 0, hi = g1 - base;
    if (g1 < base) hi = 0;
    if (hi > m->rows) hi = m->rows;
    if (lo < hi) rows(jb, m, lo, hi);
    base += m->rows;
  }
}

/* Vectorised expf (Cephes-style range reduction, degree-6 polynomial, ~2 ulp), inputs clamped to
 * [-87.3, 88.0]; exp of very negative inputs returns ~0 (flush), which is what softmax/silu need. */
BN_INLINE __m128 bn_exp_ps(__m128 x) {
  const __m128 hi = _mm_set1_ps(88.0f), lo = _mm_set1_ps(-87.3365478515625f);
  x = _mm_min_ps(_mm_max_ps(x, lo), hi);
  __m128 fx = _mm_round_ps(_mm_mul_ps(x, _mm_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm_sub_ps(x, _mm_mul_ps(fx, _mm_set1_ps(0.693359375f)));
  x = _mm_sub_ps(x, _mm_mul_ps(fx, _mm_set1_ps(-2.12194440e-4f)));
  __m128 y = _mm_set1_ps(1.9875691500E-4f);
  y = _mm_add_ps(_mm_mul_ps(y, x), _mm_set1_ps(1.3981999507E-3f));
  y = _mm_add_ps(_mm_mul_ps(y, x), _mm_set1_ps(8.3334519073E-3f));
  y = _mm_add_ps(_mm_mul_ps(y, x), _mm_set1_ps(4.1665795894E-2f));
  y = _mm_add_ps(_mm_mul_ps(y, x), _mm_set1_ps(1.6666665459E-1f));
  y = _mm_add_ps(_mm_mul_ps(y, x), _mm_set1_ps(5.0000001201E-1f));
  y = _mm_add_ps(_mm_mul_ps(_mm_mul_ps(y, x), x), _mm_add_ps(x, _mm_set1_ps(1.0f)));
  __m128i e = _mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(fx), _mm_set1_epi32(127)), 23);
  return _mm_mul_ps(y, _mm_castsi128_ps(e));
}

/* Exact i32 → f32 for |v| < 2^22 via the 1.5·2^23 magic number. Used instead of _mm_cvtepi32_ps
 * on sign-extended narrow integers, which LLVM 14 folds into a scalarised sitofp <4 x i16>. */
BN_INLINE __m128 bn_small_i32_to_ps(__m128i v) {
  return _mm_sub_ps(_mm_castsi128_ps(_mm_add_epi32(v, _mm_set1_epi32(0x4B400000))), _mm_set1_ps(12582912.0f));
}

/* f64x2 → f32 in the low two lanes (emcc emulates _mm_cvtpd_ps lane by lane). */
BN_INLINE __m128 bn_cvtpd_ps(__m128d v) {
#ifdef __wasm_simd128__
  return (__m128)wasm_f32x4_demote_f64x2_zero((v128_t)v);
#else
  return _mm_cvtpd_ps(v);
#endif
}

/* IEEE binary16 → f32, exact (normals, subnormals, zeros). */
BN_INLINE float bn_f16_to_f32(uint16_t h) {
  union { uint32_t u; float f; } v;
  v.u = ((uint32_t)(h & 0x7fff)) << 13;
  v.f *= 0x1p112f;
  v.u |= ((uint32_t)(h & 0x8000)) << 16;
  return v.f;
}

/* f32 → IEEE binary16, round to nearest even (overflow → inf; NaN not expected). */
BN_INLINE uint16_t bn_f32_to_f16(float f) {
  union { float f; uint32_t u; } v = {f};
  uint32_t sign = (v.u >> 16) & 0x8000, x = v.u & 0x7fffffff;
  if (x >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);
  if (x < 0x38800000u) {
    union { uint32_t u; float f; } a = {x};
    float t = a.f * 0x1p24f;
    t = (t + 8388608.0f) - 8388608.0f;
    return (uint16_t)(sign | (uint32_t)t);
  }
  return (uint16_t)(sign | ((x + 0xC8000FFFu + ((x >> 13) & 1)) >> 13));
}

#endif
