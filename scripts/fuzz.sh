#!/usr/bin/env bash
# make fuzz: runs each Go native fuzz target for FUZZTIME (default 60s), one
# after another, prints one line per target and fails if any failed. Give
# target names as arguments to run only those (scripts/fuzz.sh FuzzReadCSV).
#
# A failing input is written by go test under the package's
# testdata/fuzz/<Target>/: fix the code and keep the file, a regression case
# that every plain go test (make test) runs with the seed corpus.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-60s}
# go test's default (60s) spends a whole run minimising one new input.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-1s}

# package and target, in the order they run
targets=(
	"./internal/frame FuzzReadCSV"
	"./internal/frame FuzzReadArrow"
	"./internal/pipeline FuzzNormalizeTicker"
	"./internal/pipeline FuzzTickerFromFileName"
	"./internal/registry FuzzManifest"
	"./internal/runs FuzzRunRecord"
	"./api FuzzRunID"
	"./api FuzzPredictBody"
)

ONLY=("$@")

# wanted: whether target $1 is to run (all when no names were given).
wanted() {
	local w
	[[ ${#ONLY[@]} -eq 0 ]] && return 0
	for w in "${ONLY[@]}"; do
		[[ $w == "$1" ]] && return 0
	done
	return 1
}

failed=()
ran=0
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	if ! wanted "$name"; then
		continue
	fi
	ran=$((ran + 1))
	log=$(mktemp)
	if go test -count=1 -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" "$pkg" >"$log" 2>&1; then
		# The last progress line's rate is of its final moment (often 0/sec): drop it.
		echo "fuzz $name ($pkg, $FUZZTIME): ok; $(grep -o 'elapsed: .*' "$log" | tail -1 | sed 's| ([0-9]*/sec)||')"
	else
		echo "fuzz $name ($pkg, $FUZZTIME): FAILED"
		grep -v ' INFO \| WARN ' "$log" | tail -40
		failed+=("$name")
	fi
	rm -f "$log"
done
if [[ $ran -eq 0 ]]; then
	echo "fuzz: no target named $*" >&2
	exit 2
fi
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "fuzz: ${#failed[@]} of $ran targets failed: ${failed[*]} (inputs under testdata/fuzz/)" >&2
	exit 1
fi
echo "fuzz: all $ran targets ran clean for $FUZZTIME each"
