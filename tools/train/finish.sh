#!/usr/bin/env bash
# After training: export work/run/ckpt.pt → models/bitnet-kjv.gguf, evaluate it
# (models/bitnet-kjv.eval.json) and fill the model card numbers (models/README.md).
# Usage: bash tools/train/finish.sh [RUN_DIR]   (default work/run; works on a partial checkpoint; a later
# phase's RUN_DIR also lists phase 1 (work/run) in the card)
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
RUN=${1:-work/run}
$PY export_gguf.py --ckpt "$RUN/ckpt.pt" --tokenizer work/tokenizer.json --out ../../models/bitnet-kjv.gguf
$PY evaluate.py --gguf ../../models/bitnet-kjv.gguf --ckpt "$RUN/ckpt.pt" --data work \
  --out ../../models/bitnet-kjv.eval.json
PHASES=""
[ "$RUN" != work/run ] && [ -f work/run/summary.json ] && PHASES="--summary work/run/summary.json"
$PY model_card.py --eval ../../models/bitnet-kjv.eval.json $PHASES --summary "$RUN/summary.json" \
  --log "$RUN/train.log" --out ../../models/README.md
