#!/usr/bin/env bash
# The training run that made the shipped packages, on one GPU machine. For each P (in parallel):
# the supernet and the search, then every picked policy's fine-tune as its own process (each is
# launch-bound, so several share one GPU well). Supernets and fine-tunes get time budgets; the epochs
# actually run are recorded in every manifest.
# Usage: training/device-train.sh DATA_DIR OUT_DIR [P ...]   (default P: 1 2 4)
set -euo pipefail
data=${1:?data dir}; out=${2:?out dir}; shift 2
parts=${*:-1 2 4}
mkdir -p "$out/run"
py=${PYTHON:-python3}
SUPERNET_S=${SUPERNET_S:-160}; FINETUNE_S=${FINETUNE_S:-200}; LIMIT_S=${LIMIT_S:-450}
common=(--data_dir="$data" --out_dir="$out/run" --epochs=60 --epochs_p1=60 --finetune_epochs=30
        --population=32 --generations=12 --search_val_images=2500 ${EXTRA:-})
one_p() {
  local p=$1
  if [ "$p" = 1 ]; then
    timeout "$LIMIT_S" "$py" training/pipeline.py train "${common[@]}" --partitions=1 \
      --supernet_budget_s=$((SUPERNET_S + FINETUNE_S)) > "$out/p1.log" 2>&1
    return
  fi
  timeout "$LIMIT_S" "$py" training/pipeline.py train "${common[@]}" --partitions="$p" --front_size=4 \
    --supernet_budget_s="$SUPERNET_S" --skip_finetune > "$out/p$p.log" 2>&1
  local ids
  ids=$("$py" -c "import json,sys; print(' '.join(t[0] for t in json.load(open(sys.argv[1]))['todo']))" \
        "$out/run/p$p/search.json")
  for id in $ids; do
    timeout "$LIMIT_S" "$py" training/pipeline.py train "${common[@]}" --partitions="$p" --only_policy="$id" \
      --finetune_budget_s="$FINETUNE_S" > "$out/p$p-$id.log" 2>&1 &
  done
  wait
}
nvidia-smi -L || true
for p in $parts; do one_p "$p" & done
wait || true
for p in $parts; do
  [ -d "$out/run/p$p" ] && tar czf "$out/p$p.tgz" -C "$out/run" --exclude=supernet.pt "p$p"
  tail -n 3 "$out"/p$p*.log > "$out/p$p-tail.log" 2>/dev/null || true
done
cat "$out"/p*-tail.log
