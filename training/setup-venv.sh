#!/usr/bin/env bash
# Debian's torch/onnx plus onnxruntime from PyPI (Debian has none), in a venv that sees the system packages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$here/.venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$here/.venv"
fi
"$here/.venv/bin/python" -c 'import onnxruntime' 2>/dev/null || \
  "$here/.venv/bin/pip" install --quiet --disable-pip-version-check 'onnxruntime==1.20.1'
"$here/.venv/bin/python" -c 'import torch, onnx, onnxruntime; print("training venv: torch", torch.__version__, "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__)'
