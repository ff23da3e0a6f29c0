#!/usr/bin/env bash
# The end-to-end demo: Temporal dev server + worker + API, one TrainingPipeline
# run, one /predict request, a summary, then everything it started is stopped.
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

echo "== starting Temporal dev server (Web UI $FINSIGHT_UI_URL), worker and API"
start_temporal
start_worker
start_api

echo "== TrainingPipeline on $ticker from $csv — $label"
started=$(date +%s)
bin/starter train --ticker "$ticker" --csv "$csv" --epochs "${EPOCHS:-5}" --wait | tee "$FINSIGHT_STATE/result.txt"
echo "   pipeline wall time: $(( $(date +%s) - started ))s"

echo "== one /predict request with the last 50 Opens of the file"
bin/starter predict --ticker "$ticker" --csv "$csv"

wf=$(awk '/workflow id:/{print $3}' "$FINSIGHT_STATE/result.txt")
echo "== the run's efficacy report (starter run $wf)"
bin/starter run "$wf"
report="$(cd "$FINSIGHT_STORE" && pwd)/runs/$wf/report.html"
cat <<MSG
== summary
   data:      $label
   workflow:  $wf
   web ui:    $FINSIGHT_UI_URL/namespaces/default/workflows/$wf
   report:    http://$FINSIGHT_API_ADDR/runs/$wf/report (while the API runs: 'make up' keeps it)
              file://$report (stays)
   plots:     $(cd "$FINSIGHT_STORE" && pwd)/runs/$wf/plots/
   store:     $FINSIGHT_STORE
demo finished: everything it started is being stopped
MSG
