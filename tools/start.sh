#!/usr/bin/env bash
# The main job (`npm start`): set up, then run the demo; until the demo lands, generate from the
# embedded default model with the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
if [ -f demo/serve.ts ]; then
  exec node --import tsx demo/serve.ts "$@"
fi
exec node bin/bitnet.js generate --model default --prompt "${PROMPT:-In the beginning God created}" --max-tokens 48 --temperature 0
