#!/usr/bin/env bash
# Makes sure Debian's Prometheus server and promtool are installed, for the tests that scrape a
# running tipline and that check and unit-test the alert rules in deploy/prometheus/.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  scripts/apt-install.sh prometheus
fi
command -v prometheus >/dev/null && command -v promtool >/dev/null ||
  { echo "prometheus-deps.sh: prometheus or promtool still missing" >&2; exit 1; }
# The package starts a system service on :9090; the tests run their own server on a free port.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  ${SUDO:-$( [ "$(id -u)" -ne 0 ] && echo sudo )} systemctl stop prometheus || true
fi
echo "prometheus-deps.sh: $(prometheus --version 2>&1 | sed -n 1p)" >&2
