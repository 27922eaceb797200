#!/usr/bin/env bash
# Imports the archive of training/gpu-study.sh (run on a GPU machine) here: unpacks it under
# training/out/gpu-study, exports the chosen regime's packages (ONNX units, manifests, test vectors,
# onnxruntime parity, accuracy on the MODELS_DIR sample) next to the packages already in MODELS_DIR
# (catalog merged), copies the study table to training/study.md and regenerates the README results table
# and pareto.png (REPORT=0 skips that; a quick archive writes its report under the out dir instead).
# Usage: training/import-gpu-study.sh FOLDER|ARCHIVE   (FOLDER holds gpu-study.tgz or its parts
#        gpu-study.tgz.00, .01, ...; env: MODELS_DIR=models, DEST=training/out/gpu-study)
set -euo pipefail
src=$(cd "$(dirname "${1:?folder or gpu-study.tgz}")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
if [ -d "$src" ]; then
  if [ -f "$src/gpu-study.tgz" ]; then archive="$src/gpu-study.tgz"
  else archive=$(mktemp /tmp/gpu-study.XXXXXX.tgz); cat "$src"/gpu-study.tgz.[0-9]* > "$archive"; fi
else
  archive=$src
fi
py=${PYTHON:-training/.venv/bin/python}
dest=${DEST:-training/out/gpu-study}
models=${MODELS_DIR:-models}
rm -rf "$dest"; mkdir -p "$dest"
tar xzf "$archive" -C "$dest"
# shellcheck disable=SC1091
source "$dest/regime.env"
quick=$("$py" -c 'import json,sys; print(str(json.load(open(sys.argv[1]))["config"]["quick"]).lower())' "$dest/study/study.json")
echo "regime: width $W, P = $P ($tag); quick archive: $quick"
[ "$quick" = true ] || cp "$dest/study/study.md" training/study.md
"$py" training/pipeline.py export --out_dir="$dest/run" --partitions="1,$P" --models_dir="$models" \
  --catalog_merge --quick="$quick" --sample_images="$([ "$quick" = true ] && echo 64 || echo 1000)"
