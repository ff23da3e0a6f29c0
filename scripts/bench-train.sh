#!/usr/bin/env bash
# gotch vs PyTorch training throughput on the same shape and thread count.
# The last line is ratio=<gotch samples/s ÷ PyTorch samples/s>.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "bench-train: installing Debian's python3-torch (the PyTorch reference)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq python3-torch >/dev/null; else sudo apt-get install -y -qq python3-torch >/dev/null; fi
fi
args=(--layers 2 --units 64 --seq 50 --batch 64 --threads 1 --batches "${BATCHES:-40}")
go build -o bin/benchtrain ./scripts/benchtrain
g=$(bin/benchtrain "${args[@]}")
p=$(OMP_NUM_THREADS=1 /usr/bin/python3 scripts/benchtrain/torch_ref.py "${args[@]}")
val() { sed -n "s/^$1=//p" <<<"$2"; }
gs=$(val gotch_samples_per_s "$g"); ps=$(val torch_samples_per_s "$p")
printf '%-34s %14s %14s\n' "2xLSTM(64) seq 50 batch 64, 1 thread" gotch "PyTorch $(val torch_version "$p")"
printf '%-34s %14s %14s\n' "train samples/s" "$gs" "$ps"
printf '%-34s %14s %14s\n' "inference p50 ms (1 window)" "$(val gotch_infer_p50_ms "$g")" "$(val torch_infer_p50_ms "$p")"
printf '%-34s %14s %14s\n' "inference p99 ms (1 window)" "$(val gotch_infer_p99_ms "$g")" "$(val torch_infer_p99_ms "$p")"
awk -v g="$gs" -v p="$ps" 'BEGIN { printf "ratio=%.3f\n", g / p }'
