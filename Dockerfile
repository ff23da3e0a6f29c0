# FinSight worker and API image: Debian's LibTorch 1.13 (CPU), gotch adapted
# to it by scripts/deps.sh, and the Go binaries. For CUDA, build from an
# image with an official CUDA LibTorch and set LIBTORCH to its folder.
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libtorch-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN FINSIGHT_SKIP_TEMPORAL=1 scripts/deps.sh && go build -o /out/ ./worker ./starter ./api/cmd/finsight-api

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libtorch1.13 ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
ENV FINSIGHT_STORE=/data/store
VOLUME /data
