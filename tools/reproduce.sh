#!/usr/bin/env bash
# Reproduce the model zoo: train every shipped checkpoint from scratch with its config in
# the documented order (detector; tracker pretraining, pseudo labels, fine-tuning), test each
# with tools/test.py and print its metrics beside checkpoints/manifest.json (docs/model_zoo.md).
#
#   bash tools/reproduce.sh                 # everything; rerun to resume after an interruption
#   bash tools/reproduce.sh --dry-run       # print the commands (and the finished stages)
#   bash tools/reproduce.sh --stages detect --work-root work_dirs/reproduce
#   bash tools/reproduce.sh --from-zoo detect --stages detect_hardneg_wide detect_hardneg_wide_r2 detect_hardpos
#
# Uses .venv/bin/python (from tools/setup.sh) unless $PY names another interpreter.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || { echo "[reproduce] $PY not found: run bash tools/setup.sh first" >&2; exit 2; }
export PYTHONHASHSEED=0 YOLO_OFFLINE=1 HF_HUB_OFFLINE=1 MPLBACKEND=Agg
exec "$PY" tools/model_converters/reproduce.py "$@"
