#!/bin/sh
# Runs each libFuzzer target for FUZZ_SECONDS (default 60), one at a time, from
# its seed corpus (fuzz/corpus/<target>, copied: what the run finds stays in
# the build folder).  Exits 1 when a target crashed, leaked or timed out; the
# input that did it is in B/fuzz/artifacts/.
#   sh fuzz/run.sh BUILD_DIR target...
# FUZZ_FLAGS adds libFuzzer flags (make test passes -seed=1: a fixed,
# reproducible short run).
set -u
B=$1
shift
SECONDS_EACH=${FUZZ_SECONDS:-60}
fail=0
mkdir -p "$B/fuzz/artifacts"
for t in "$@"; do
  work="$B/fuzz/work/$t"
  mkdir -p "$work"
  seeds="fuzz/corpus/$t"
  [ -d "$seeds" ] || seeds=""
  echo "== $t: ${SECONDS_EACH}s"
  # shellcheck disable=SC2086
  if ! "$B/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -max_len=262144 -print_final_stats=1 -artifact_prefix="$B/fuzz/artifacts/$t-" \
       ${FUZZ_FLAGS:-} "$work" $seeds >"$B/fuzz/$t.log" 2>&1; then
    echo "$t: FAILED (log: $B/fuzz/$t.log)"
    grep -E "ERROR|SUMMARY|Test unit written" "$B/fuzz/$t.log" | head -5
    fail=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$B/fuzz/$t.log" | tr '\n' ' '
    echo
  fi
done
exit $fail
