#!/usr/bin/env bash
# Runs every test: starts a throwaway Apache Kafka broker (scripts/kafka.sh), runs the whole Go
# test suite with the race detector and the integration tests, and stops the broker again.
set -euo pipefail
cd "$(dirname "$0")/.."

export KAFKA_PORT=${KAFKA_PORT:-19092}
export TIPLINE_TEST_KAFKA=127.0.0.1:$KAFKA_PORT

scripts/kafka.sh start
trap 'scripts/kafka.sh stop' EXIT

go vet ./...
go test -race -count=1 -tags integration -timeout 20m ./... "$@"
