#!/usr/bin/env bash
# make bench-serve: the API's POST /predict against a Flask + PyTorch
# reference server, under wrk (see main.go). Installs wrk and Debian's
# python3-flask and python3-torch when missing. The last line is
# ratio=<FinSight req/s ÷ Flask req/s>.
set -euo pipefail
cd "$(dirname "$0")/../.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
/usr/bin/python3 -c 'import flask' 2>/dev/null || missing+=(python3-flask)
/usr/bin/python3 -c 'import torch' 2>/dev/null || missing+=(python3-torch)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench-serve: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi
mkdir -p bin
go build -o bin/finsight-api ./api/cmd/finsight-api
go build -o bin/benchserve ./scripts/benchserve
exec bin/benchserve -api bin/finsight-api -csv "$(realpath ../shared/data/single/NFLX.csv)" -python /usr/bin/python3 "$@"
