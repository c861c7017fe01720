/*
 * Native cross-check harness: compiles the same kernel sources with gcc -msse4.1 and prints what
 * they compute, for test/wasm-native.test.ts to compare with the TypeScript reference kernels.
 *
 * stdin (whitespace-separated integers), a sequence of commands:
 *   acc  rows cols scale_block n_tok  <rows*ceil(cols/4) canonical packed bytes>  <n_tok*cols int8 codes>
 *        → one line per token: rows*nblk accumulators (scale_block 0 = per tensor)
 *   quant n n_tok  <n_tok*n f32 bit patterns as u32>
 *        → per token: "scale_bits sum code0 code1 ..."
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../bitnet.h"

void bn_ternary(const bn_tjob *jb, uint32_t part, uint32_t nparts);
void bn_block_sums(const int32_t *chunk_sum, uint32_t n_tok, uint32_t nchunks, uint32_t bc, int32_t *out);
void bn_quantize(const float *x, uint32_t ldx, uint32_t n, uint32_t n_tok, int16_t *act, uint32_t cols_pad, int32_t *chunk_sum, float *scale);

static long rd(void) {
  long v;
  if (scanf("%ld", &v) != 1) { fprintf(stderr, "harness: bad input\n"); exit(2); }
  return v;
}

static void *zalloc(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, n ? n : 64)) exit(3);
  memset(p, 0, n ? n : 64);
  return p;
}

static void cmd_acc(void) {
  uint32_t rows = rd(), cols = rd(), sb = rd(), n_tok = rd();
  uint32_t srb = (cols + 3) / 4, cols_pad = (cols + 63) / 64 * 64, drb = cols_pad / 4, nch = cols_pad / 64;
  uint32_t bc = sb ? sb / 64 : 0, nblk = sb ? (cols + sb - 1) / sb : 1;
  uint8_t *w = zalloc((size_t)rows * drb);
  memset(w, 0x55, (size_t)rows * drb);
  for (uint32_t r = 0; r < rows; r++)
    for (uint32_t i = 0; i < srb; i++) w[(size_t)r * drb + i] = (uint8_t)rd();
  int16_t *act = zalloc((size_t)n_tok * cols_pad * 2);
  int32_t *cs = zalloc((size_t)n_tok * nch * 4), *bs = zalloc((size_t)n_tok * nch * 4);
  for (uint32_t t = 0; t < n_tok; t++)
    for (uint32_t c = 0; c < cols; c++) {
      int q = (int)rd();
      uint32_t k = c >> 6, e = c & 63;
      act[(size_t)t * cols_pad + 64 * k + 8 * (e & 7) + (e >> 3)] = (int16_t)q;
      cs[(size_t)t * nch + k] += q;
    }
  bn_block_sums(cs, n_tok, nch, bc, bs);
  float one = 1.0f, *scales = zalloc((size_t)rows * nblk * 4), ascale[64];
  for (int i = 0; i < 64; i++) ascale[i] = 1.0f;
  int32_t *out = zalloc((size_t)n_tok * rows * nblk * 4);
  bn_tjob jb;
  memset(&jb, 0, sizeof jb);
  jb.n_mat = 1; jb.n_tok = n_tok; jb.cols_pad = cols_pad; jb.acc_mode = 1; jb.act = act; jb.act_scale = ascale;
  jb.mats[0].w = w; jb.mats[0].rows = rows; jb.mats[0].block_chunks = bc; jb.mats[0].scales = sb ? scales : &one;
  jb.mats[0].blk_sum = bs; jb.mats[0].out_scale = 1.0f; jb.mats[0].out = out; jb.mats[0].ldo = rows * nblk;
  bn_ternary(&jb, 0, 1);
  for (uint32_t t = 0; t < n_tok; t++) {
    for (uint32_t i = 0; i < rows * nblk; i++) printf(i ? " %d" : "%d", out[(size_t)t * rows * nblk + i]);
    printf("\n");
  }
  free(w); free(act); free(cs); free(bs); free(scales); free(out);
}

static void cmd_quant(void) {
  uint32_t n = rd(), n_tok = rd(), cols_pad = (n + 63) / 64 * 64, nch = cols_pad / 64;
  float *x = zalloc((size_t)n_tok * n * 4), *sc = zalloc((size_t)n_tok * 4);
  for (size_t i = 0; i < (size_t)n_tok * n; i++) {
    uint32_t b = (uint32_t)rd();
    memcpy(&x[i], &b, 4);
  }
  int16_t *act = zalloc((size_t)n_tok * cols_pad * 2);
  int32_t *cs = zalloc((size_t)n_tok * nch * 4);
  bn_quantize(x, n, n, n_tok, act, cols_pad, cs, sc);
  for (uint32_t t = 0; t < n_tok; t++) {
    uint32_t sb;
    memcpy(&sb, &sc[t], 4);
    long sum = 0;
    for (uint32_t k = 0; k < nch; k++) sum += cs[(size_t)t * nch + k];
    printf("%u %ld", sb, sum);
    for (uint32_t c = 0; c < n; c++) printf(" %d", act[(size_t)t * cols_pad + 64 * (c >> 6) + 8 * (c & 7) + ((c & 63) >> 3)]);
    printf("\n");
  }
  free(x); free(sc); free(act); free(cs);
}

int main(void) {
  char cmd[16];
  while (scanf("%15s", cmd) == 1) {
    if (!strcmp(cmd, "acc")) cmd_acc();
    else if (!strcmp(cmd, "quant")) cmd_quant();
    else { fprintf(stderr, "harness: unknown command %s\n", cmd); return 2; }
  }
  return 0;
}
