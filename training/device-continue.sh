#!/usr/bin/env bash
# Continues the fine-tunes of a finished P=4 run (INIT_DIR holds its search.json and <package>.pt files),
# one process per policy on one GPU, and packs the results into OUT_DIR/p4.tgz.
set -euo pipefail
init=${1:?init dir}; data=${2:?data}; out=${3:?out}; budget=${4:-150}
run=/tmp/esrun; rm -rf "$run"; mkdir -p "$run/p4"; cp "$init/search.json" "$run/p4/"
ids=$(python3 -c "import json,sys; print(' '.join(t[0] for t in json.load(open(sys.argv[1]))['todo']))" "$init/search.json")
for id in $ids; do
  timeout $((budget + 60)) python3 training/pipeline.py train --data_dir="$data" --out_dir="$run" --partitions=4 \
    --only_policy="$id" --init_from="$init" --finetune_epochs=30 --finetune_lr=0.01 --finetune_budget_s="$budget" \
    > "$run/p4/ft-$id.log" 2>&1 &
done
wait || true
tail -n 2 "$run"/p4/ft-*.log
tar czf "$out/p4.tgz" -C "$run" p4
