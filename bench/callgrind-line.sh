#!/bin/sh
# Instructions per chat line of each peerd in ThroughputBench's lossless run,
# counted by callgrind (every thread; not part of make bench).
#
# This machine has no hardware counters for perf, and its lines/s move by a
# quarter from run to run; callgrind counts instructions, which other
# processes do not change. Under it peerd runs some 50 times slower, so the
# counts still move by a tenth or more between runs: how many lines share a
# datagram, an ack or a transaction depends on timing. Compare builds over
# several runs each.
#
# usage: bench/callgrind-line.sh [BUILD_DIR] [LINES]   (default build, 20000)
# Needs valgrind (apt-get install valgrind). The dumps stay in $WORK
# (default /tmp/peerchat-callgrind) for callgrind_annotate.
set -eu
build="${1:-build}"
lines="${2:-20000}"
work="${WORK:-/tmp/peerchat-callgrind}"
command -v valgrind >/dev/null || { echo "valgrind is missing: apt-get install valgrind" >&2; exit 2; }
bench="$(cd "$build/bin" && pwd)/ThroughputBench"
rm -rf "$work"
mkdir -p "$work"
cp "$build/bin/indexd" "$build/bin/peerd" "$work/"
mv "$work/peerd" "$work/peerd.real"
# ThroughputBench starts "peerd" from PEERCHAT_DAEMON_DIR: alice and bob go under callgrind.
cat >"$work/peerd" <<EOF
#!/bin/sh
for arg in "\$@"; do
  case "\$arg" in alice|bob) exec valgrind --tool=callgrind --callgrind-out-file="$work/\$arg.%p.out" "$work/peerd.real" "\$@";; esac
done
exec "$work/peerd.real" "\$@"
EOF
chmod +x "$work/peerd"
(cd /tmp && PEERCHAT_DAEMON_DIR="$work" timeout 900 "$bench" "$lines" 9999 >"$work/bench.out" 2>&1) &
alice=""
bob=""
tries=0
while [ -z "$alice" ] || [ -z "$bob" ]; do
  tries=$((tries + 1))
  [ "$tries" -le 600 ] || { echo "alice and bob did not start; see $work/bench.out" >&2; exit 1; }
  sleep 0.1
  alice=$(pgrep -f "peerd.real .*--user alice" | head -n 1 || true)
  bob=$(pgrep -f "peerd.real .*--user bob" | head -n 1 || true)
done
# callgrind writes its counts when a process exits normally, which a killed
# peerd does not: they are dumped every two seconds while alice runs.
while kill -0 "$alice" 2>/dev/null; do
  callgrind_control -d "$alice" >/dev/null 2>&1 || true
  callgrind_control -d "$bob" >/dev/null 2>&1 || true
  sleep 2
done
# The bench goes on to its other runs: stop it and every daemon it started
# from $work (a wrapper may still be starting valgrind, hence twice).
pkill -f "$bench $lines" 2>/dev/null || true
for round in 1 2; do
  sleep 1
  pkill -f "$work/" 2>/dev/null || true
done
wait 2>/dev/null || true
for who in alice bob; do
  pid=$alice
  [ "$who" = bob ] && pid=$bob
  total=$(cat "$work/$who.$pid.out".* 2>/dev/null | awk '/^summary:/ { sum += $2 } END { printf "%.0f", sum }')
  echo "$who: $((total / lines)) instructions per line ($lines lines)"
done
