#!/bin/sh
# Runs every benchmark against the build in $1 (default build/).
set -eu
bin="${1:-build}/bin"
echo "== LatencyBench"; "$bin/LatencyBench" "${LATENCY_MESSAGES:-2000}"
echo "== ThroughputBench"; "$bin/ThroughputBench" "${THROUGHPUT_LINES:-100000}" "${THROUGHPUT_WINDOW:-9999}"
echo "== StoreBench"; "$bin/StoreBench" "${STORE_LINES:-50000}"
echo "== IndexBench"; "$bin/IndexBench" "${INDEX_USERS:-1000}"
if [ "$(id -u)" -eq 0 ]; then
  echo "== FirstLineBench"; "$bin/FirstLineBench" "${FIRST_LINE_TRIALS:-20}"
else
  echo "== FirstLineBench skipped: it builds the NAT lab, which needs root (sudo make bench)"
fi
