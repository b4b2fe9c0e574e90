#!/bin/sh
# make stress: runs StressRun from the build in $1 (default build/): every
# scenario, or those STRESS_SCENARIOS names (rows or names, e.g. "4 6"),
# each with STRESS_SECONDS (default 30) of flood. Needs root.
set -eu
bin="${1:-build}/bin"
if [ "$(id -u)" != 0 ]; then
    echo "make stress needs root: it forges source addresses through a raw socket," \
         "counts traffic on lo and mounts a tmpfs" >&2
    exit 2
fi
# shellcheck disable=SC2086 # STRESS_SCENARIOS is a list of words
exec "$bin/StressRun" --seconds "${STRESS_SECONDS:-30}" ${STRESS_SCENARIOS:-}
