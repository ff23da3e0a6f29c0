#!/usr/bin/env bash
# make bench-fleet: the data chain over the 505 sp500_5yr files as a
# prepare fleet through a Temporal dev server and in-process; prints a
# table and, last, ratio=<fleet seconds ÷ in-process seconds>.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(FINSIGHT_TEMPORAL_BIN=$PWD/.tools/bin/temporal FINSIGHT_DATA=$(cd ../shared/data && pwd) \
	go test -tags bench -count=1 -timeout 30m -run '^TestBenchFleet$' -v ./e2e/ 2>&1) || { echo "$out" | tail -40; exit 1; }
echo "$out" | sed -n '/^mode /,/^ratio=/p'
