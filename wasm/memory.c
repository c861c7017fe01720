/*
 * Memory helpers: the heap start (the JS arena allocates upward from it) and a streaming-read
 * kernel that measures the memory-bandwidth ceiling the ternary kernels can reach.
 */
#include "bitnet.h"

#ifdef __wasm__
extern unsigned char __heap_base;
/* First free byte after static data and the main C stack (the JS arena starts here). */
BN_EXPORT uint32_t bn_heap_base(void) { return (uint32_t)(uintptr_t)&__heap_base; }
#endif

typedef struct {
  const uint8_t *p;
  uint32_t bytes;     /* multiple of 64 */
  uint32_t *result;   /* per part: xor-fold of everything read (keeps the loads alive) */
} bn_rjob;

/* Part `part` of `nparts` of a streaming read over [p, p+bytes): four 16-byte loads per step. */
BN_EXPORT void bn_stream_read(const bn_rjob *jb, uint32_t part, uint32_t nparts) {
  uint32_t lo, hi;
  bn_split(jb->bytes, 64, part, nparts, &lo, &hi);
  __m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
  for (uint32_t i = lo; i < hi; i += 64) {
    const __m128i *v = (const __m128i *)(jb->p + i);
    a = _mm_xor_si128(a, _mm_load_si128(v));
    b = _mm_xor_si128(b, _mm_load_si128(v + 1));
    c = _mm_xor_si128(c, _mm_load_si128(v + 2));
    d = _mm_xor_si128(d, _mm_load_si128(v + 3));
  }
  a = _mm_xor_si128(_mm_xor_si128(a, b), _mm_xor_si128(c, d));
  jb->result[part] = (uint32_t)_mm_cvtsi128_si32(a);
}

typedef struct {
  uint32_t iters;
  uint32_t *addr; /* per part: address of the probe's stack buffer */
  uint32_t *bad;  /* per part: number of words found overwritten */
} bn_sjob;

/*
 * Test kernel for per-thread C stacks: keeps a 4 KiB volatile array on the C stack, rewrites and
 * re-checks it `iters` times. Instances that wrongly share one stack region overwrite each
 * other's arrays (bad > 0) and report the same address.
 */
BN_EXPORT void bn_stack_probe(const bn_sjob *jb, uint32_t part, uint32_t nparts) {
  volatile uint32_t buf[1024];
  const uint32_t key = (part + 1) * 2654435761u;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < 1024; i++) buf[i] = key ^ i;
  for (uint32_t it = 0; it < jb->iters; it++) {
    for (uint32_t i = 0; i < 1024; i++) {
      if (buf[i] != (key ^ i)) bad++;
      buf[i] = key ^ i;
    }
  }
  jb->addr[part] = (uint32_t)(uintptr_t)buf;
  jb->bad[part] = bad;
}
