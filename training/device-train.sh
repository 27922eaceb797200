#!/usr/bin/env bash
# The full training run as made for the shipped packages, on one GPU machine: P=1, P=2 and P=4 run as
# three processes side by side (each is launch-bound, so they share the GPU well). Each supernet and
# fine-tune is given a time budget; the epochs actually run are recorded in every manifest.
# Usage: training/device-train.sh DATA_DIR OUT_DIR
set -euo pipefail
data=${1:?data dir}; out=${2:?out dir}
mkdir -p "$out/run"
py=${PYTHON:-python3}
common=(--data_dir="$data" --out_dir="$out/run" --epochs=60 --epochs_p1=60 --finetune_epochs=15
        --population=32 --generations=12 --search_val_images=2500)
nvidia-smi -L || true
timeout 480 "$py" training/pipeline.py train "${common[@]}" --partitions=4 --front_size=4 \
  --supernet_budget_s=200 --finetune_budget_s=30 > "$out/p4.log" 2>&1 &
timeout 480 "$py" training/pipeline.py train "${common[@]}" --partitions=2 --front_size=2 \
  --supernet_budget_s=170 --finetune_budget_s=30 > "$out/p2.log" 2>&1 &
timeout 480 "$py" training/pipeline.py train "${common[@]}" --partitions=1 \
  --supernet_budget_s=280 > "$out/p1.log" 2>&1 &
wait || true
for p in 1 2 4; do
  [ -d "$out/run/p$p" ] && tar czf "$out/p$p.tgz" -C "$out/run" --exclude=supernet.pt "p$p"
done
tail -n 5 "$out"/p*.log
ls -la "$out"
