#!/bin/sh
# Esploro CSV import benchmark (issue 3): assets/s, peak RSS, and the ratio to
# `sqlite3 DB '.import --csv FILE t'` (the raw load of the same rows, no
# validation), measured in the same run on the same generated file.
#
#   sh bench/esploro_import.sh [BIN] [GEN] [N...]      (default N: 100000)
#   BENCH_DIR=/tmp/x  keep the work folder there (default: a mktemp folder, removed)
#
# BIN is the bulkrepo binary (default build/bulkrepo), GEN the generator
# (default build/tools/gen_esploro, built from bench/gen_esploro.c).  The
# generator's affiliation codes 01BENCH_INST___u000..u049 are loaded as org units.
set -eu
BIN=${1:-build/bulkrepo}
GEN=${2:-build/tools/gen_esploro}
shift 2 2>/dev/null || shift $#
SIZES=${*:-100000}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
GEN=$(cd "$(dirname "$GEN")" && pwd)/$(basename "$GEN")
if [ -n "${BENCH_DIR:-}" ]; then W=$BENCH_DIR; mkdir -p "$W"; KEEP=1; else W=$(mktemp -d); KEEP=0; fi
trap '[ "$KEEP" = 1 ] || rm -rf "$W"' EXIT

# seconds and peak RSS (KB) of a command: GNU time when there is one
measure() {
    if [ -x /usr/bin/time ] && [ -z "${BENCH_NO_GNU_TIME:-}" ]; then
        /usr/bin/time -f '%e %M' -o "$W/time" "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr" >&2; return 1; }
        cat "$W/time"
    else
        s=$(date +%s.%N); "$@" >/dev/null 2>"$W/stderr" || { cat "$W/stderr" >&2; return 1; }
        e=$(date +%s.%N); echo "$(echo "$e - $s" | bc) 0"
    fi
}

printf 'code,name\n' >"$W/units.csv"
i=0
while [ $i -lt 50 ]; do printf '01BENCH_INST___u%03d,Unit %d\n' $i $i >>"$W/units.csv"; i=$((i + 1)); done

printf '%-9s %10s %9s %12s %9s %10s %7s\n' N "MB" "import s" "assets/s" "RSS MB" "sqlite3 s" ratio
for N in $SIZES; do
    rm -rf "$W/r" "$W/raw.db" "$W/a.map"
    "$GEN" -n "$N" -o "$W/a.csv"
    "$BIN" --repo "$W/r" init >/dev/null 2>&1
    "$BIN" --repo "$W/r" collection create Bench >/dev/null
    "$BIN" --repo "$W/r" orgunit import "$W/units.csv" 2>/dev/null
    set -- $(measure "$BIN" --repo "$W/r" import --format esploro-csv -s "$W/a.csv" -m "$W/a.map")
    t=$1 rss=$2
    set -- $(measure sqlite3 "$W/raw.db" '.import --csv '"$W/a.csv"' t')
    ts=$1
    mb=$(echo "scale=1; $(stat -c %s "$W/a.csv") / 1000000" | bc)
    printf '%-9s %10s %9.2f %12.0f %9.1f %10.2f %7.2f\n' "$N" "$mb" "$t" "$(echo "$N / $t" | bc -l)" \
        "$(echo "$rss / 1024" | bc -l)" "$ts" "$(echo "$t / $ts" | bc -l)"
done
