# FinSight. The two commands that matter:
#   make demo   set up, start everything, train on the default data, predict, stop
#   make test   set up, then run every test
SHELL := /bin/bash
BIN := bin
GO_BINARIES := $(BIN)/worker $(BIN)/starter $(BIN)/finsight-api
CSV ?=
TICKER ?=
EPOCHS ?= 5

.PHONY: deps build test vet fuzz soak demo up down clean bench-train bench-memory bench-data bench-csv bench-serve bench-ui bench-fleet

deps: ## LibTorch, gotch adapted to it (build/gotch + go.work), Temporal CLI and workflowcheck (.tools/bin)
	@scripts/deps.sh

build: deps
	@mkdir -p $(BIN)
	go build -buildvcs=auto -o $(BIN)/ ./worker ./starter ./api/cmd/finsight-api

vet: deps
	go vet ./...

# Workflow code is checked for determinism (workflowcheck) and built and
# tested without cgo: it calls the steps by name (internal/steps), so it
# must not link LibTorch through package activities.
test: deps
	go vet ./...
	.tools/bin/workflowcheck ./workflows/...
	CGO_ENABLED=0 go test -count=1 ./workflows/
	FINSIGHT_TEMPORAL_BIN=$(CURDIR)/.tools/bin/temporal FINSIGHT_DATA=$(abspath ../shared/data) \
		go test -count=1 -timeout 40m ./...

# Go native fuzzing: each target (scripts/fuzz.sh lists them) for FUZZTIME
# (default 60s), one after another. make test runs their seed corpora and
# the regression inputs kept under testdata/fuzz/.
FUZZTIME ?= 60s

fuzz: deps ## fuzz the CSV and Arrow readers, ticker and run-id checks, manifest, run record and POST /predict, $(FUZZTIME) each
	FUZZTIME=$(FUZZTIME) FINSIGHT_DATA=$(abspath ../shared/data) scripts/fuzz.sh

# make soak SOAK_S=600: the worker and API binaries on a dev server and one
# local store; /predict under load for SOAK_S seconds while the champion is
# promoted and rolled back through the API, one retrain and one failing run
# go through. Report and logs in .state/soak/; the last line is ok or
# FAIL: what broke (see e2e/soak_test.go).
SOAK_S ?= 600

soak: deps ## /predict load for $(SOAK_S)s with promotions/rollbacks, a retrain and a failing run; non-2xx must be 0, API and worker RSS and goroutines flat (10%); last line ok or FAIL
	@rm -f .state/soak/report.txt; \
	SOAK_S=$(SOAK_S) SOAK_DIR=$(CURDIR)/.state/soak \
	FINSIGHT_TEMPORAL_BIN=$(CURDIR)/.tools/bin/temporal FINSIGHT_DATA=$(abspath ../shared/data) \
		go test -tags soak -count=1 -timeout $$(( $(SOAK_S) + 1800 ))s -run '^TestSoak$$' -v ./e2e/; rc=$$?; \
	echo; \
	if [ ! -s .state/soak/report.txt ]; then echo "FAIL: the soak ended (go test exit $$rc) before its report; see above"; exit 1; fi; \
	cat .state/soak/report.txt; \
	if [ $$rc -ne 0 ] && [ "$$(tail -n1 .state/soak/report.txt)" = ok ]; then echo "FAIL: go test exit $$rc after the report; see above"; fi; \
	exit $$rc

.PHONY: record-histories
record-histories: deps ## re-record workflows/testdata/histories (replayed by make test) on a dev server; see e2e/record_histories_test.go
	FINSIGHT_TEMPORAL_BIN=$(CURDIR)/.tools/bin/temporal FINSIGHT_DATA=$(abspath ../shared/data) \
		go test -tags record -count=1 -timeout 30m -run '^TestRecordHistories$$' -v ./e2e/

demo: build
	@CSV="$(CSV)" TICKER="$(TICKER)" EPOCHS="$(EPOCHS)" scripts/demo.sh

# make up WORKERS=3: three worker processes on this machine (they split its
# cores; see README, Scaling).
WORKERS ?= 1

up: build
	@WORKERS="$(WORKERS)" scripts/services.sh up

down:
	@scripts/services.sh down

clean: down
	rm -rf $(BIN) .state

bench-train: deps ## gotch vs PyTorch (Debian python3-torch 1.13) on 2×LSTM(64), seq 50, batch 64, 1 thread
	@scripts/bench-train.sh

bench-serve: deps ## POST /predict under wrk -t2 -c16 -d10s: the API (NFLX champion) vs Flask + PyTorch (Debian python3-flask, python3-torch); last line ratio=N
	@scripts/benchserve/run.sh

bench-memory: deps ## resident memory every 5 epochs of a 45-epoch NFLX training (flat = no tensor leak)
	@go run ./scripts/benchtrain -memory-csv $(abspath ../shared/data/single/NFLX.csv) -epochs $${EPOCHS_MEMORY:-45} -threads 1

bench-data: deps ## parse → validate → stats → clean → scale → window over ../shared/data/sp500_5yr (505 files)
	@go run ./scripts/benchdata -dir $(abspath ../shared/data/sp500_5yr)

bench-fleet: deps ## the data chain over the 505 sp500_5yr files: a prepare fleet through a dev server vs in-process; last line ratio=N
	@scripts/bench-fleet.sh

bench-ui: deps ## GET /ui/runs over 2,000 run records (from the index of runs); last line p50_ms=N
	@scripts/bench-ui.sh

bench-csv: ## stream a generated ~1 GB multi-ticker Kaggle file (../shared/data/sp500_5yr rows, cycled) through frame.ReadCSV: MB/s and peak RSS
	@CGO_ENABLED=0 go run ./scripts/benchcsv -dir $(abspath ../shared/data/sp500_5yr)
