#!/usr/bin/env bash
# Run every benchmark (bench/bench_*.py) with the main venv; each prints its figures and its ratios to
# the anchors measured in the same run. Extra arguments go to every benchmark.
set -uo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.venv/bin/python}"
status=0
for bench in bench/bench_*.py; do
  echo "== ${bench}"
  "$python" "$bench" "$@" || { echo "!! ${bench} failed" >&2; status=1; }
  echo
done
exit "$status"
