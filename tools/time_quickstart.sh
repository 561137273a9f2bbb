#!/bin/bash
# The README's install and quick-start commands, timed as a new user meets them: a fresh
# clone of this repository in a fresh virtual environment with an empty HOME (cold
# caches), then the run again (warm). Usage: bash tools/time_quickstart.sh [WORKDIR]
set -euo pipefail
source "$(dirname "$0")/fresh_env.sh" "${1:-}"
t0=$(date +%s.%N); pip install -q -e . > "$work/install.log" 2>&1; t1=$(date +%s.%N)
echo "pip install -e . : $(echo "$t1 - $t0" | bc) s"
for run in cold warm; do
  /usr/bin/time -f "$run run: %e s wall" eventsim run scenarios/quickstart.toml -o "$run.h5" \
    > "$work/$run.out" 2> "$work/$run.err"
  tail -1 "$work/$run.err"; tail -1 "$work/$run.out"
done
