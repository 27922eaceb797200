#!/usr/bin/env bash
# Issue 14 in one GPU run (one H100/H200, at most 10 minutes; inputs: this tree + the four Fashion-MNIST
# .gz files, ~31 MB):
#   1. the study: none vs baseline vs dense P = 1, P in STUDY_P, widths STUDY_W, STUDY_SEEDS seeds, branch
#      dropout 0, every run the same epoch count (chosen once from a measured step time so the study fits
#      STUDY_S seconds, capped at MAX_EPOCHS; set STUDY_EPOCHS to pin it); picks the regime where
#      baseline - none >= 1.5 points (validation, mean over seeds);
#   2. in that regime: sandwich supernet, fp32-only and mixed-precision NSGA-II searches (tournament, BN
#      recalibration, held-out validation split), stacked fine-tunes of baseline, none, both fronts and
#      the branch-dropout variants (epochs chosen once from the time left, capped; EPOCHS/FT_EPOCHS pin them);
#      the P = 1 reference is the study's seed-0 dense network;
#   3. packs everything (study, checkpoints, results, logs) into OUT_DIR/gpu-study.tgz (split into
#      gpu-study.tgz.00, .01, ... of 15 MiB when larger: the device tool returns at most 8 files of 16 MiB)
#      plus study.md and the log, readable without unpacking.
# Then, here: bash training/import-gpu-study.sh <that folder>   (export, catalog, README)
#
# Usage: training/gpu-study.sh DATA_DIR OUT_DIR
#   QUICK=1: the CPU rehearsal (tiny data, seconds-long budgets, same code paths incl. the epoch choice).
set -uo pipefail
data=${1:?data dir}; out=${2:?out dir}
mkdir -p "$out"
out=$(cd "$out" && pwd)
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
t0=$(date +%s)
TOTAL_S=${TOTAL_S:-545}        # the whole script, packing included (the device tool's limit is 600)
STUDY_S=${STUDY_S:-285}
work=${WORK:-/tmp/edgesplit-gpu-study}
rm -rf "$work"; mkdir -p "$work"
log="$work/gpu-study.log"
elapsed() { echo $(( $(date +%s) - t0 )); }
pack() {
  echo "[gpu-study] packing at $(elapsed)s" | tee -a "$log"
  cp "$log" "$out/gpu-study.log" 2>/dev/null
  [ -f "$work/study/study.md" ] && cp "$work/study/study.md" "$out/study.md"
  tar czf "$out/gpu-study.tgz" -C "$work" --exclude=supernet.pt .
  # the device tool returns files of at most 16 MiB (8 files): a larger archive goes in 15 MiB parts
  if [ "$(stat -c %s "$out/gpu-study.tgz")" -gt $((15 * 1024 * 1024)) ]; then
    split -b 15M -d "$out/gpu-study.tgz" "$out/gpu-study.tgz." && rm "$out/gpu-study.tgz"
  fi
  ls -la "$out" | tee -a "$log"
  cp "$log" "$out/gpu-study.log" 2>/dev/null
}
trap pack EXIT

if [ "${QUICK:-0}" = 1 ]; then
  STUDY_S=${STUDY_S_QUICK:-40}; TOTAL_S=${TOTAL_S_QUICK:-170}
  study=(--quick --train_limit=256 --study_widths=0.25,0.125 --batch_size=64 --study_epochs="${STUDY_EPOCHS:-0}"
         --max_auto_epochs=2)
  train=(--quick --train_limit=256 --batch_size=64 --epochs="${EPOCHS:-0}" --finetune_epochs="${FT_EPOCHS:-0}"
         --max_auto_epochs=1 --population=4 --generations=1 --front_size=1 --recal_images=64 --sandwich_random=1
         --bd_variant=0.1)
else
  study=(--study_partitions="${STUDY_P:-4,8}" --study_widths="${STUDY_W:-1,0.5,0.25}" --study_seeds="${STUDY_SEEDS:-3}"
         --study_epochs="${STUDY_EPOCHS:-0}" --max_auto_epochs="${MAX_EPOCHS:-30}" --batch_size=512 --lr=0.2)
  train=(--epochs="${EPOCHS:-0}" --finetune_epochs="${FT_EPOCHS:-0}" --max_auto_epochs="${MAX_EPOCHS:-30}"
         --batch_size=512 --lr=0.2 --finetune_lr=0.04 --population=32 --generations=10 --front_size=3
         --recal_images=2048 --bd_variant=0.1)
fi

{
  echo "[gpu-study] $(date -u +%FT%TZ) commit ${EDGESPLIT_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
  nvidia-smi -L 2>&1 || true
  "$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
} 2>&1 | tee -a "$log"

# 1. the study
timeout $((STUDY_S + 60)) "$py" training/pipeline.py study --data_dir="$data" --out_dir="$work/study" \
  --study_budget_s="$STUDY_S" "${study[@]}" 2>&1 | tee -a "$log"
if [ ! -f "$work/study/chosen.json" ]; then
  echo "[gpu-study] the study left no chosen.json; stopping" | tee -a "$log"; exit 1
fi
read -r W P < <("$py" -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["widthMult"], c["partitions"])' \
  "$work/study/chosen.json")
tag=$("$py" -c 'import sys; print("w%d" % round(100 * float(sys.argv[1])))' "$W")
echo "[gpu-study] study done at $(elapsed)s; regime width $W P=$P" | tee -a "$log"

# 2. supernet, searches, fine-tunes of that regime, in the time left (30 s kept for packing)
left=$(( TOTAL_S - $(elapsed) - 30 ))
budget=$(( left * 85 / 100 ))
echo "[gpu-study] train stage: ${left}s left, epoch choice against ${budget}s" | tee -a "$log"
timeout "$left" "$py" training/pipeline.py train --data_dir="$data" --out_dir="$work/run" --partitions="1,$P" \
  --width_mult="$W" --reference_from="$work/study" --name_prefix="fmnist-$tag" --time_budget_s="$budget" \
  "${train[@]}" 2>&1 | tee -a "$log"
echo "[gpu-study] train stage exit ${PIPESTATUS[0]} at $(elapsed)s" | tee -a "$log"
echo "W=$W P=$P tag=$tag" > "$work/regime.env"
