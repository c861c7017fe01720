#!/usr/bin/env bash
# Full pipeline: corpus → BPE tokenizer → QAT training → export GGUF → evaluate → model card.
# Usage: bash tools/train/run.sh   (from anywhere; about 100 min on a 2-core CPU: 90 min training +
# export/eval). Resumes if tools/train/work/run/ckpt.pt exists. Extra args are passed to train.py
# (e.g. --steps 30 --minutes 1 for a smoke run).
set -euo pipefail
cd "$(dirname "$0")"
PY=/usr/bin/python3
# Under CPU sharing, spinning OpenMP workers waste the few cycles we get.
export OMP_WAIT_POLICY=PASSIVE
mkdir -p work
$PY corpus.py work
cp work/validation.txt ../../models/kjv-validation.txt
[ -f work/tokenizer.json ] || $PY bpe.py work/train.txt work/tokenizer.json 3072
# One cosine run from 3e-3 to 0.05x (90 min cap); a quarter of the windows cover the famous chapters.
$PY train.py --data work --out work/run --steps 10800 --batch 8 --ctx 256 --dim 256 --layers 4 \
  --heads 4 --kv-heads 2 --ffn 640 --lr 3e-3 --warmup 60 --min-lr-frac 0.05 --minutes 90 \
  --famous-frac 0.25 --final-eval "$@"
bash finish.sh work/run
