#!/usr/bin/env bash
# The end-to-end demo: Temporal dev server + worker + API, one TrainingPipeline
# run on all but the last NEW_DAYS rows, one /predict request, then a retrain:
# the last NEW_DAYS rows go into the inbox, the inbox schedule is triggered
# and the retrain's summary is printed; then everything it started is stopped.
# CSV=path TICKER=T use a real file; without them a seeded SYNTHETIC series.
set -euo pipefail
cd "$(dirname "$0")/.."
export FINSIGHT_STATE=.state/demo
rm -rf "$FINSIGHT_STATE"
source scripts/services.sh
trap stop_all EXIT

csv=${CSV:-}
ticker=${TICKER:-}
label="real data"
if [ -z "$csv" ]; then
  csv="$FINSIGHT_STATE/SYNTH.csv"
  ticker=${ticker:-SYNTH}
  mkdir -p "$FINSIGHT_STATE"
  bin/starter synth --out "$csv"
  label="SYNTHETIC data (seeded geometric Brownian motion with a 60-day cycle; not a real ticker)"
fi
[ -n "$ticker" ] || { echo "demo: TICKER is required with CSV" >&2; exit 2; }

# Hold the newest NEW_DAYS rows back: they arrive later, as new data.
new_days=${NEW_DAYS:-60}
rows=$(($(grep -c . "$csv") - 1))
[ "$rows" -gt $((new_days * 5)) ] || { echo "demo: $csv has $rows rows, too few to hold $new_days back" >&2; exit 2; }
base="$FINSIGHT_STATE/$ticker-base.csv"
next="$FINSIGHT_STATE/$ticker-next.csv"
head -n $((rows - new_days + 1)) "$csv" >"$base"
{ head -n 1 "$csv"; tail -n "$new_days" "$csv"; } >"$next"

echo "== starting Temporal dev server (Web UI $FINSIGHT_UI_URL), worker and API"
start_temporal
start_worker
start_api

echo "== TrainingPipeline on $ticker from $csv without its last $new_days days — $label"
started=$(date +%s)
bin/starter train --ticker "$ticker" --csv "$base" --epochs "${EPOCHS:-5}" --wait | tee "$FINSIGHT_STATE/result.txt"
echo "   pipeline wall time: $(( $(date +%s) - started ))s"

echo "== one /predict request with the last 50 Opens of the file"
bin/starter predict --ticker "$ticker" --csv "$base"

wf=$(awk '/workflow id:/{print $3}' "$FINSIGHT_STATE/result.txt")
echo "== the run's efficacy report (starter run $wf)"
bin/starter run "$wf"

echo "== retraining: the next $new_days days arrive in the inbox (inbox/$ticker/), the inbox schedule fires"
bin/starter schedule inbox
mkdir -p "$FINSIGHT_STORE/inbox/$ticker"
cp "$next" "$FINSIGHT_STORE/inbox/$ticker/$(basename "$next")"
.tools/bin/temporal schedule trigger --schedule-id finsight-inbox --address "$TEMPORAL_ADDRESS" >/dev/null
started=$(date +%s)
bin/starter retrains --ticker "$ticker" --wait --timeout 30m | tee "$FINSIGHT_STATE/retrain.txt"
echo "   retrain wall time (from the trigger): $(( $(date +%s) - started ))s"
rwf=$(awk '/report:/{print $2}' "$FINSIGHT_STATE/retrain.txt" | sed -E 's#.*/runs/([^/]+)/.*#\1#')

report="$(cd "$FINSIGHT_STORE" && pwd)/runs/$wf/report.html"
cat <<MSG
== summary
   data:      $label
   workflow:  $wf
   retrain:   ${rwf:-see 'bin/starter retrains --ticker $ticker'} ($FINSIGHT_UI_URL/namespaces/default/workflows/retrain-$ticker)
   web ui:    $FINSIGHT_UI_URL/namespaces/default/workflows/$wf
   report:    http://$FINSIGHT_API_ADDR/runs/$wf/report (while the API runs: 'make up' keeps it)
              file://$report (stays)
   plots:     $(cd "$FINSIGHT_STORE" && pwd)/runs/$wf/plots/
   store:     $FINSIGHT_STORE
demo finished: everything it started is being stopped
MSG
