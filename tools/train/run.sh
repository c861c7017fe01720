#!/usr/bin/env bash
# Full pipeline: corpus → BPE tokenizer → QAT training → export GGUF → evaluate → model card.
# Usage: bash tools/train/run.sh   (from anywhere; about 2.5 h on a 2-core CPU: 64 + 80 min training + export/eval). Resumes if
# tools/train/work/run/ckpt.pt exists. Extra args are passed to train.py (e.g. --steps 30).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
# Under heavy CPU sharing, spinning OpenMP workers waste the few cycles we get.
export OMP_WAIT_POLICY=PASSIVE
mkdir -p work
$PY corpus.py work
cp work/validation.txt ../../models/kjv-validation.txt
[ -f work/tokenizer.json ] || $PY bpe.py work/train.txt work/tokenizer.json 3072
SHAPE="--batch 8 --ctx 256 --dim 256 --layers 4 --heads 4 --kv-heads 2 --ffn 640"
# Phase 1: warmup + cosine from 3e-3 (64 min cap).
$PY train.py --data work --out work/run --steps 5000 $SHAPE --lr 3e-3 --warmup 60 --minutes 64 "$@"
# Phase 2: continues phase 1's weights, AdamW state and data stream with a second cosine from 1.5e-3.
$PY train.py --data work --out work/run2 --init-from work/run/ckpt.pt --steps 9600 $SHAPE --lr 1.5e-3 \
  --min-lr-frac 0.05 --warmup 50 --minutes 80 "$@"
bash finish.sh work/run2
