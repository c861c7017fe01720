#!/usr/bin/env bash
# Builds the wasm SIMD kernels (npm run build:wasm):
#   wasm/build/bitnet-simd.wasm     single-threaded, imported growable memory
#   wasm/build/bitnet-simd-mt.wasm  same code over an imported *shared* memory (Web Workers /
#                                   worker_threads instantiate it once each)
# No emscripten JS glue is produced or used; src/backends/wasm/ instantiates the modules itself.
# Needs emcc (Debian's emscripten 3.1.6 is enough). NODE_PATH lets Debian's emcc find its node deps.
set -euo pipefail
cd "$(dirname "$0")"
command -v emcc >/dev/null 2>&1 || { echo "build:wasm: emcc not found (apt-get install emscripten)" >&2; exit 1; }
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
mkdir -p build
SRC=(ternary.c ternary-lut.c quant.c ops.c attention.c logits.c memory.c)
EXPORTS=_bn_heap_base,_bn_ternary,_bn_lut_build,_bn_ternary_lut,_bn_block_sums,_bn_quantize,_bn_quantize_q8,_bn_rmsnorm,_bn_add,_bn_glu,_bn_embed,_bn_rope_table,_bn_rope,_bn_kv_store,_bn_attention,_bn_logits,_bn_to_q8,_bn_q8_0_unpack,_bn_stream_read,_bn_stack_probe
COMMON=(-O3 -msimd128 -msse4.1 --no-entry -sSTANDALONE_WASM -sIMPORTED_MEMORY -sALLOW_MEMORY_GROWTH
  -sINITIAL_MEMORY=16MB -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=1MB -sFILESYSTEM=0 -sERROR_ON_UNDEFINED_SYMBOLS=1
  "-sEXPORTED_FUNCTIONS=$EXPORTS" -Wall -Wextra -Wno-unused-parameter)
emcc "${COMMON[@]}" "${SRC[@]}" -o build/bitnet-simd.wasm
emcc "${COMMON[@]}" -matomics -mbulk-memory -Wl,--shared-memory "${SRC[@]}" -o build/bitnet-simd-mt.wasm
# Fingerprint of the sources these binaries were built from (test/wasm-build.test.ts checks it).
cat $(ls *.h *.c | LC_ALL=C sort) build.sh | sha256sum | cut -d' ' -f1 > build/sources.sha256
ls -l build/*.wasm | awk '{print "build:wasm:", $5, $9}'
