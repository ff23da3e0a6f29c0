#!/usr/bin/env bash
# Start and stop FinSight's local services: the Temporal dev server, WORKERS
# worker processes (default 1) and the API. Sourced by demo.sh and used by
# `make up [WORKERS=N]` / `make down`.
# State lives in .state/: temporal.db (SQLite), store/ (blob store), logs/, pids/.
set -euo pipefail

STATE=${FINSIGHT_STATE:-.state}
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
UI_PORT=${UI_PORT:-8233}
API_ADDR=${FINSIGHT_API_ADDR:-127.0.0.1:8080}
WORKERS=${WORKERS:-1}
export TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}
export FINSIGHT_STORE=${FINSIGHT_STORE:-$STATE/store}
export FINSIGHT_API_ADDR=$API_ADDR
export FINSIGHT_UI_URL=${FINSIGHT_UI_URL:-http://127.0.0.1:$UI_PORT}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for what seconds command...
  local what=$1 secs=$2 i
  shift 2
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "services: $what did not come up in ${secs}s; see $STATE/logs/" >&2
  return 1
}

start_bg() { # start_bg name command... ; records the pid
  local name=$1
  shift
  mkdir -p "$STATE/logs" "$STATE/pids"
  nohup "$@" >"$STATE/logs/$name.log" 2>&1 &
  echo $! >"$STATE/pids/$name.pid"
}

start_temporal() {
  if port_open "$TEMPORAL_PORT"; then
    echo "services: port $TEMPORAL_PORT is already in use (a server from 'make up'? run 'make down')" >&2
    return 1
  fi
  mkdir -p "$STATE"
  start_bg temporal .tools/bin/temporal server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" \
    --ui-port "$UI_PORT" --db-filename "$STATE/temporal.db" --log-level warn \
    --dynamic-config-value history.transferProcessorMaxPollRPS=200 \
    --search-attribute Ticker=Keyword --search-attribute Stage=Keyword --search-attribute ModelVersion=Int
  wait_for "Temporal dev server" 60 .tools/bin/temporal operator cluster health --address "$TEMPORAL_ADDRESS"
}

# start_worker starts WORKERS worker processes: worker (logs/worker.log),
# worker-2, worker-3, ... Each serves /metrics on its own port (the first on
# FINSIGHT_METRICS_ADDR, default 127.0.0.1:9090, the next on 9091, ...; set
# empty or off: none). Unless FINSIGHT_THREADS is set, they share the cores:
# each training gets cores / (WORKERS × FINSIGHT_TRAIN_SLOTS) LibTorch threads.
start_worker() {
  local n=${WORKERS:-1} i name metrics host port threads
  if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
    echo "services: WORKERS=$n: want a number of workers, 1 or more" >&2
    return 1
  fi
  metrics=${FINSIGHT_METRICS_ADDR-127.0.0.1:9090}
  host=${metrics%:*} port=${metrics##*:}
  threads=${FINSIGHT_THREADS:-}
  if [ -z "$threads" ]; then
    threads=$(($(nproc) / (n * ${FINSIGHT_TRAIN_SLOTS:-1})))
    ((threads >= 1)) || threads=1
  fi
  for ((i = 1; i <= n; i++)); do
    name=worker
    ((i == 1)) || name=worker-$i
    if [[ $port =~ ^[0-9]+$ ]]; then
      metrics=$host:$((port + i - 1))
    fi
    FINSIGHT_METRICS_ADDR=$metrics FINSIGHT_THREADS=$threads start_bg "$name" bin/worker
  done
  for ((i = 1; i <= n; i++)); do
    name=worker
    ((i == 1)) || name=worker-$i
    wait_for "$name" 30 grep -q "worker ready" "$STATE/logs/$name.log"
  done
}

# stop_pid stops the process of pids/$1.pid: SIGTERM, then after 10 s SIGKILL.
stop_pid() {
  local pid
  [ -f "$STATE/pids/$1.pid" ] || return 0
  pid=$(cat "$STATE/pids/$1.pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/pids/$1.pid"
}

start_api() {
  start_bg api bin/finsight-api
  wait_for "API" 30 curl -fsS "http://$API_ADDR/healthz"
}

stop_all() {
  local f stoppers=()
  stop_pid api
  # Every worker a `make up` started, whatever WORKERS was, at once (each
  # may take its stop timeout to checkpoint a training).
  for f in "$STATE"/pids/worker.pid "$STATE"/pids/worker-*.pid; do
    [ -f "$f" ] || continue
    f=${f##*/}
    stop_pid "${f%.pid}" &
    stoppers+=($!)
  done
  if ((${#stoppers[@]} > 0)); then wait "${stoppers[@]}"; fi
  stop_pid temporal
}

case "${1:-}" in
up)
  start_temporal
  start_worker
  start_api
  # The periodic inbox scan (idempotent: updates the schedule if it exists).
  bin/starter schedule inbox || echo "services: could not schedule the inbox scan; run 'bin/starter schedule inbox' later" >&2
  cat <<MSG
FinSight is up:
  Temporal Web UI  $FINSIGHT_UI_URL
  Temporal gRPC    $TEMPORAL_ADDRESS
  API              http://$API_ADDR  (POST /predict, GET /healthz)
  blob store       $FINSIGHT_STORE
  logs             $STATE/logs/
Train: bin/starter train --ticker NFLX --csv ../shared/data/single/NFLX.csv --wait
Retrain on new days: bin/starter retrain --ticker NFLX --csv NEW.csv [--mode finetune|full|auto] --wait
  (or drop the CSV in $FINSIGHT_STORE/inbox/NFLX/: scanned every 5 minutes)
Schedules: bin/starter schedule list | create --ticker NFLX --every 24h | delete --ticker NFLX | trigger --ticker NFLX
Stop:  make down
MSG
  ;;
down)
  stop_all
  echo "FinSight services stopped"
  ;;
"") ;; # sourced
*)
  echo "usage: services.sh up|down" >&2
  exit 2
  ;;
esac
