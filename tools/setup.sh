#!/usr/bin/env bash
# Installs what the tests, the demo and the CLI need on a fresh Debian machine (idempotent).
# System packages: chromium (browser tests, headless WebGPU via SwiftShader), emscripten (rebuilds wasm/), gcc.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v emcc >/dev/null 2>&1 || need_apt+=(emscripten)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need_apt[*]} with apt-get" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing ${need_apt[*]} and cannot apt-get install them (not root); some tests will report it" >&2
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
