#!/usr/bin/env bash
# The one test command (`npm test`): sets up a fresh machine, rebuilds generated artifacts,
# typechecks, and runs every unit, kernel, model and browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

if command -v emcc >/dev/null 2>&1 && [ -f wasm/build.sh ]; then
  echo "== rebuilding wasm kernels with $(emcc --version | head -1)"
  npm run --silent build:wasm
fi
if [ -f tools/gen-shaders.ts ]; then npm run --silent gen:shaders; fi

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit
npx tsc -p demo/tsconfig.json --noEmit

echo "== unit, kernel and model tests (vitest)"
npx vitest run

if [ -f playwright.config.ts ]; then
  echo "== browser end-to-end tests (playwright, /usr/bin/chromium)"
  npx playwright test
fi
