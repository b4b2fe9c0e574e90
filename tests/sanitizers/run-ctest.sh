#!/bin/sh
# Runs the whole ctest suite of a PEERCHAT_SANITIZE build: unit tests, and the
# integration tests with the daemons and chatui of that build, sanitized too.
# Every sanitizer report, from any process, goes to a file under
# BUILD_DIR/sanitizer-reports/, so a report fails the run even when it came
# from a daemon whose exit no test looked at.
# Usage: tests/sanitizers/run-ctest.sh BUILD_DIR JOBS
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR JOBS" >&2; exit 64; }
build=$(cd "$1" && pwd)
jobs=$2
reports=$build/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"

status=0
(cd "$build" && ctest --output-on-failure -j "$jobs") || status=$?
if [ -n "$(ls "$reports")" ]; then
  for report in "$reports"/*; do
    echo "==== $report" >&2
    cat "$report" >&2
  done
  echo "check-asan: the sanitizers reported the errors above" >&2
  status=1
fi
exit $status
