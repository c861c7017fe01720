#!/usr/bin/env bash
# After training: export the last phase's checkpoint → models/bitnet-kjv.gguf, evaluate it
# (models/bitnet-kjv.eval.json) and fill the model card numbers (models/README.md).
# Usage: bash tools/train/finish.sh [RUN_DIR ...]   (default work/run). List every phase's run dir in
# order; the last one's ckpt.pt is exported (works on a partial checkpoint), all are in the card.
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
[ $# -gt 0 ] || set -- work/run
RUN=${!#}
$PY export_gguf.py --ckpt "$RUN/ckpt.pt" --tokenizer work/tokenizer.json --out ../../models/bitnet-kjv.gguf
$PY evaluate.py --gguf ../../models/bitnet-kjv.gguf --ckpt "$RUN/ckpt.pt" --data work \
  --out ../../models/bitnet-kjv.eval.json
SUMMARIES=()
for r in "$@"; do SUMMARIES+=(--summary "$r/summary.json"); done
$PY model_card.py --eval ../../models/bitnet-kjv.eval.json "${SUMMARIES[@]}" \
  --log "$RUN/train.log" --out ../../models/README.md
