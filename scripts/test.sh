#!/usr/bin/env bash
# Runs every test: installs Tesseract, poppler, qpdf and the Noto CJK fonts if missing
# (scripts/ocr-deps.sh), starts a throwaway Apache Kafka broker (scripts/kafka.sh) and Dovecot IMAP
# server (scripts/dovecot.sh, installed from Debian's packages if missing), runs the whole Go
# test suite with the race detector and the integration tests, and stops both again.
set -euo pipefail
cd "$(dirname "$0")/.."

export KAFKA_PORT=${KAFKA_PORT:-19092}
export IMAP_PORT=${IMAP_PORT:-11143}
export TIPLINE_TEST_KAFKA=127.0.0.1:$KAFKA_PORT
export TIPLINE_TEST_IMAP=127.0.0.1:$IMAP_PORT
export TIPLINE_TEST_DOVECOT_CONF=${DOVECOT_STATE:-/tmp/tipline-dovecot-$IMAP_PORT}/dovecot.conf

cleanup() {
  scripts/dovecot.sh stop || true
  scripts/kafka.sh stop || true
}
trap cleanup EXIT
scripts/ocr-deps.sh
scripts/browser-deps.sh
scripts/prometheus-deps.sh
scripts/kafka.sh start
scripts/dovecot.sh start

go vet ./...
go vet -tags integration ./...
go test -race -count=1 -tags integration -timeout 20m ./... "$@"
# The deployment files' checks live in a module of their own (deploy/check): alert rules with
# promtool, the dashboard's queries, the compose file and the Kubernetes manifests.
(cd deploy/check && go vet ./... && go test -count=1 ./...)
