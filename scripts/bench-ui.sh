#!/usr/bin/env bash
# make bench-ui: GET /ui/runs over a store of 2,000 run records (the
# index of runs, not the records), three ways; prints go test's table and
# a last line p50_ms=<median of the default configuration>.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(go test -count=1 -run '^$' -bench 'BenchmarkUIRuns' -benchtime 2s ./api/ 2>&1 | grep -v ' INFO \| WARN ')
echo "$out"
p50=$(awk '/BenchmarkUIRuns\/default/ { for (i = 1; i < NF; i++) if ($(i+1) == "p50-ms") print $i }' <<<"$out")
if [[ -z "$p50" ]]; then
	echo "bench-ui: no p50 in the output" >&2
	exit 1
fi
echo "p50_ms=$p50"
