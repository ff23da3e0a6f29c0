#!/usr/bin/env bash
# gotch vs PyTorch training throughput on the same shape and thread count.
# Both sides run ROUNDS times, alternating, so that a noisy neighbour on a
# shared machine hits both; the table shows the median of each side.
# The last line is ratio=<gotch samples/s ÷ PyTorch samples/s>.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "bench-train: installing Debian's python3-torch (the PyTorch reference)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq python3-torch >/dev/null; else sudo apt-get install -y -qq python3-torch >/dev/null; fi
fi
args=(--layers 2 --units 64 --seq 50 --batch 64 --threads 1 --batches "${BATCHES:-60}")
rounds=${ROUNDS:-5}
go build -o bin/benchtrain ./scripts/benchtrain
# One thread means one thread for OpenMP and for OpenBLAS's own pool too.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
val() { sed -n "s/^$1=//p" <<<"$2"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
gs=() ps=() gi=() pi=() g99=() p99=()
for r in $(seq "$rounds"); do
  g=$(bin/benchtrain "${args[@]}")
  p=$(/usr/bin/python3 scripts/benchtrain/torch_ref.py "${args[@]}")
  gs+=("$(val gotch_samples_per_s "$g")"); ps+=("$(val torch_samples_per_s "$p")")
  gi+=("$(val gotch_infer_p50_ms "$g")"); pi+=("$(val torch_infer_p50_ms "$p")")
  g99+=("$(val gotch_infer_p99_ms "$g")"); p99+=("$(val torch_infer_p99_ms "$p")")
  printf 'round %d: gotch %s, PyTorch %s samples/s\n' "$r" "${gs[-1]}" "${ps[-1]}"
done
med() { printf '%s\n' "$@" | median; }
gm=$(med "${gs[@]}") pm=$(med "${ps[@]}")
printf '%-38s %14s %14s\n' "2xLSTM(64) seq 50 batch 64, 1 thread" gotch "PyTorch $(val torch_version "$p")"
printf '%-38s %14s %14s\n' "train samples/s (median of $rounds)" "$gm" "$pm"
printf '%-38s %14s %14s\n' "inference p50 ms (1 window)" "$(med "${gi[@]}")" "$(med "${pi[@]}")"
printf '%-38s %14s %14s\n' "inference p99 ms (1 window)" "$(med "${g99[@]}")" "$(med "${p99[@]}")"
awk -v g="$gm" -v p="$pm" 'BEGIN { printf "ratio=%.3f\n", g / p }'
