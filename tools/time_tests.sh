#!/bin/bash
# The README's second command (install with the test extra, then the whole suite), timed
# as a new user meets it: a fresh clone of this repository in a fresh virtual environment
# with an empty HOME (cold numba caches), then the suite again (warm).
# Usage: bash tools/time_tests.sh [WORKDIR]
set -euo pipefail
source "$(dirname "$0")/fresh_env.sh" "${1:-}"
t0=$(date +%s.%N); pip install -q -e '.[test]' > "$work/install.log" 2>&1; t1=$(date +%s.%N)
echo "pip install -e '.[test]' : $(echo "$t1 - $t0" | bc) s"
for run in cold warm; do
  t0=$(date +%s.%N)
  python -m pytest -q tests > "$work/$run.out" 2>&1 || true
  t1=$(date +%s.%N)
  echo "$run suite: $(echo "$t1 - $t0" | bc) s: $(tail -1 "$work/$run.out")"
done
