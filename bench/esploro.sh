#!/bin/sh
# bench/esploro.sh — Esploro research-asset CSV benchmarks (issue 3).
#
# For each N in ${BENCH_NS:-100000} (e.g. BENCH_NS="100000 1000000"): generate an
# N-asset CSV with gen_esploro (ASSET + PRTOF + 3 CREATOR + 1 LINK rows under the
# 204-column template header, ~2 KB per asset), warm the page cache, then time:
#   lint     bulkrepo lint FILE --quiet          (every format rule, one pass)
#   pycsv    python3's csv module reading the same file (validates nothing)
# and print MB/s, peak RSS and lint/pycsv.  Targets: lint >= 200 MB/s and at least
# 2x faster than Python's csv; RSS flat in N.
#
# One function per phase (phase_lint, phase_pycsv, phase_export: bulkrepo export
# --format esploro-csv -t ALL of the N assets, imported first if no import phase
# made the repository; rate = MB of the input CSV/s and assets/s); more phases are added
# the same way: a phase_X function that calls measure and report, listed in PHASES.
#
# Environment: BENCH_NS, BENCH_OUT (output folder; default a fresh mktemp -d,
# removed at the end unless BENCH_KEEP=1), BULKREPO (default build/bulkrepo),
# GEN_ESPLORO (default build/tools/gen_esploro), BENCH_NO_GNU_TIME=1 (RSS by VmHWM).
set -u

cd "$(dirname "$0")/.." || exit 4

BR=${BULKREPO:-build/bulkrepo}
GEN=${GEN_ESPLORO:-build/tools/gen_esploro}
NS=${BENCH_NS:-100000}
PHASES=${BENCH_PHASES:-lint pycsv import sqlite export}

for b in "$BR" "$GEN"; do
	if [ ! -x "$b" ]; then
		echo "bench: $b not found or not executable (run: make all tools)" >&2
		exit 4
	fi
done

if [ -n "${BENCH_OUT:-}" ]; then
	WORK=$BENCH_OUT
	mkdir -p "$WORK" || exit 4
	OWN_WORK=
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/bulkrepo-esploro-bench.XXXXXX") || exit 4
	OWN_WORK=1
fi
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	if [ -n "$OWN_WORK" ] && [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TIME_BIN=
if [ -z "${BENCH_NO_GNU_TIME:-}" ] && [ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o /dev/null true >/dev/null 2>&1; then
	TIME_BIN=/usr/bin/time
fi
case $(date +%N) in
*N* | '') now() { date +%s; } ;;
*) now() { date +%s.%N; } ;;
esac

# measure NAME CMD...: runs CMD; sets M_SECS, M_RSS (MB or n/a), M_RC; output in $WORK/NAME.log.
measure() {
	m_log=$WORK/$1.log
	shift
	m_t0=$(now)
	if [ -n "$TIME_BIN" ]; then
		"$TIME_BIN" -f '%M' -o "$WORK/time.out" "$@" >"$m_log" 2>&1
		M_RC=$?
		m_kb=$(tail -n 1 "$WORK/time.out" 2>/dev/null)
	else
		"$@" >"$m_log" 2>&1 &
		m_pid=$!
		m_kb=
		while kill -0 "$m_pid" 2>/dev/null; do
			m_v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$m_pid/status" 2>/dev/null)
			[ -n "$m_v" ] && m_kb=$m_v
			sleep 0.05 2>/dev/null || sleep 1
		done
		wait "$m_pid"
		M_RC=$?
	fi
	m_t1=$(now)
	M_SECS=$(awk -v a="$m_t0" -v b="$m_t1" 'BEGIN { printf "%.3f", b - a }')
	case $m_kb in
	'' | *[!0-9]*) M_RSS=n/a ;;
	*) M_RSS=$(awk -v k="$m_kb" 'BEGIN { printf "%.1f", k / 1024 }') ;;
	esac
}

# report PHASE: one line for the last measure.
report() {
	mbs=$(awk -v b="$BYTES" -v s="$M_SECS" 'BEGIN { if (s > 0) printf "%.0f", b / 1e6 / s; else print "n/a" }')
	printf '%-8s %9s %-7s %8s s %7s MB/s %8s MB RSS  exit %s\n' "$N" "$(awk -v b="$BYTES" 'BEGIN { printf "%.0f", b / 1e6 }')MB" "$1" "$M_SECS" "$mbs" "$M_RSS" "$M_RC"
}

phase_lint() {
	measure "n$N-lint" "$BR" lint "$CSV" --quiet
	report lint
	LINT_SECS=$M_SECS
	[ "$M_RC" -eq 0 ] || { echo "bench: lint of the generated file failed:" >&2; tail -n 5 "$WORK/n$N-lint.log" >&2; }
}

phase_pycsv() {
	measure "n$N-pycsv" python3 -c 'import csv,sys; sum(1 for _ in csv.reader(open(sys.argv[1])))' "$CSV"
	report pycsv
	PY_SECS=$M_SECS
}

# The export phase needs a repository holding the N assets: imported here
# (untimed) unless an import phase of this run made $WORK/r-$N already.
ensure_repo() {
	REPO=$WORK/r-$N
	[ -d "$REPO" ] && return 0
	printf 'code,name\n' >"$WORK/units.csv"
	i=0
	while [ $i -lt 50 ]; do printf '01BENCH_INST___u%03d,Unit %d\n' $i $i >>"$WORK/units.csv"; i=$((i + 1)); done
	"$BR" --repo "$REPO" init >/dev/null 2>&1 &&
		"$BR" --repo "$REPO" collection create Bench >/dev/null &&
		"$BR" --repo "$REPO" orgunit import "$WORK/units.csv" >/dev/null 2>&1 &&
		"$BR" --repo "$REPO" import --format esploro-csv -s "$CSV" -m "$WORK/n$N.map" >"$WORK/n$N-setup.log" 2>&1 ||
		{ echo "bench: importing the generated file failed:" >&2; tail -n 5 "$WORK/n$N-setup.log" >&2; return 1; }
}

# import: bulkrepo import --format esploro-csv of the N assets into a new
# repository (made and given the generator's org units untimed); assets/s.
phase_import() {
	REPO=$WORK/r-$N
	rm -rf "$REPO" "$WORK/n$N.map"
	printf 'code,name\n' >"$WORK/units.csv"
	i=0
	while [ $i -lt 50 ]; do printf '01BENCH_INST___u%03d,Unit %d\n' $i $i >>"$WORK/units.csv"; i=$((i + 1)); done
	"$BR" --repo "$REPO" init >/dev/null 2>&1 && "$BR" --repo "$REPO" collection create Bench >/dev/null &&
		"$BR" --repo "$REPO" orgunit import "$WORK/units.csv" >/dev/null 2>&1 || { echo "bench: repository setup failed" >&2; return 1; }
	measure "n$N-import" "$BR" --repo "$REPO" import --format esploro-csv -s "$CSV" -m "$WORK/n$N.map"
	report import
	IMPORT_SECS=$M_SECS
	awk -v n="$N" -v s="$M_SECS" 'BEGIN { if (s > 0) printf "%-8s import: %.0f assets/s\n", n, n / s }'
	[ "$M_RC" -eq 0 ] || { echo "bench: import failed:" >&2; tail -n 5 "$WORK/n$N-import.log" >&2; }
}

# sqlite: the raw load of the same rows (issue 3's yardstick for the import).
phase_sqlite() {
	rm -f "$WORK/raw-$N.db"
	measure "n$N-sqlite" sqlite3 "$WORK/raw-$N.db" ".import --csv $CSV t"
	report sqlite
	rm -f "$WORK/raw-$N.db"
	[ -n "${IMPORT_SECS:-}" ] && awk -v n="$N" -v i="$IMPORT_SECS" -v s="$M_SECS" \
		'BEGIN { if (s > 0) printf "%-8s import / sqlite3 .import time: %.2f\n", n, i / s }'
}

# export: bulkrepo export --format esploro-csv -t ALL (every asset, all columns); assets/s.
phase_export() {
	ensure_repo || return
	rm -rf "$WORK/export-$N.csv" "$WORK/export-$N.csv.files"
	measure "n$N-export" "$BR" --repo "$REPO" export --format esploro-csv -t ALL -d "$WORK/export-$N.csv"
	report export
	awk -v n="$N" -v s="$M_SECS" 'BEGIN { if (s > 0) printf "%-8s export: %.0f assets/s\n", n, n / s }'
	[ "$M_RC" -eq 0 ] || { echo "bench: export failed:" >&2; tail -n 5 "$WORK/n$N-export.log" >&2; }
	rm -rf "$WORK/export-$N.csv" "$WORK/export-$N.csv.files"
}

printf '%-8s %9s %-7s %10s %12s %15s\n' N size phase time rate "peak RSS"
for N in $NS; do
	CSV=$WORK/esploro-$N.csv
	"$GEN" -n "$N" -o "$CSV" || exit 4
	BYTES=$(wc -c <"$CSV")
	sync
	cat "$CSV" >/dev/null
	LINT_SECS= PY_SECS= IMPORT_SECS=
	for p in $PHASES; do "phase_$p"; done
	if [ -n "$LINT_SECS" ] && [ -n "$PY_SECS" ]; then
		awk -v l="$LINT_SECS" -v p="$PY_SECS" -v n="$N" 'BEGIN { if (l > 0) printf "%-8s lint is %.2fx faster than python csv (lint/python time %.2f)\n", n, p / l, l / p }'
	fi
	rm -f "$CSV"
	rm -rf "$WORK/r-$N"
done
