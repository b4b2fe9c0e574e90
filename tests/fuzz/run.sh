#!/bin/sh
# Runs every fuzz target of a PEERCHAT_FUZZ build side by side for SECONDS,
# each on a copy of its seed corpus inside the build directory (what a run
# finds stays there for the next run; tests/ is never written). Fails when a
# target crashes, hangs, leaks or trips a sanitizer; the input that did it is
# saved under BUILD_DIR/artifacts/.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS
set -eu
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR SECONDS" >&2; exit 64; }
build=$1
seconds=$2
seeds=$(cd "$(dirname "$0")" && pwd)/corpus

# TARGET:MAX_LEN, the longest input worth trying: a datagram, a roster, a
# local line, a settings file, a datagram from a TURN server, a group member
# list.
targets="ProtocolFuzz:9000 RosterFuzz:65536 LocalProtocolFuzz:70000 SettingsFuzz:8192 TurnFuzz:9000 GroupMembershipFuzz:8192"

mkdir -p "$build/artifacts" "$build/logs"
export UBSAN_OPTIONS=print_stacktrace=1
pids=""
for target in $targets; do
  name=${target%%:*}
  maxlen=${target#*:}
  mkdir -p "$build/corpus/$name"
  cp "$seeds/$name"/* "$build/corpus/$name/"
  "$build/bin/$name" -max_total_time="$seconds" -max_len="$maxlen" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$name-" "$build/corpus/$name" >"$build/logs/$name.log" 2>&1 &
  pids="$pids $name:$!"
done

failed=""
for entry in $pids; do
  name=${entry%%:*}
  if wait "${entry#*:}"; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/logs/$name.log")
    echo "fuzz: $name ran $runs inputs in ${seconds}s without a crash ($(ls "$build/corpus/$name" | wc -l) in its corpus)"
  else
    echo "fuzz: $name FAILED; the end of $build/logs/$name.log:" >&2
    tail -n 40 "$build/logs/$name.log" >&2
    failed="$failed $name"
  fi
done
if [ -n "$failed" ]; then
  echo "fuzz: crashed:$failed; reproduce with $build/bin/TARGET $build/artifacts/FILE" >&2
  exit 1
fi
