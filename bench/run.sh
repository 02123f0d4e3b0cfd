#!/bin/sh
# bench/run.sh — SAF import/export benchmarks for bulkrepo (run by `make bench`).
#
# For each N in ${BENCH_NS:-10000 100000}: generate an N-item SAF package with
# gen_saf, then time (after a sync and a warm-up read of the input):
#   gen        gen_saf itself (informational)
#   cp-pkg     cp -r of the package to a sibling dir        (floor for import)
#   validate   bulkrepo import -a -v  (test run, nothing stored)
#   import     bulkrepo import -a
#   export     bulkrepo export -t COLLECTION -n 1
#   cp-export  cp -r of the exported tree                   (floor for export)
# Peak RSS comes from GNU /usr/bin/time (%M) when present, else from polling
# VmHWM in /proc/<pid>/status, else "n/a".
# Prints a table and writes it as Markdown to bench/out/results.md.
#
# Environment: BENCH_NS, BENCH_FILE_SIZE (bitstream bytes, default 4096),
# BULKREPO (default build/bulkrepo), GEN_SAF (default build/tools/gen_saf),
# BENCH_SEED (default 1), BENCH_NO_GNU_TIME=1 (force the VmHWM fallback).
set -u

cd "$(dirname "$0")/.." || exit 4

BR=${BULKREPO:-build/bulkrepo}
GEN=${GEN_SAF:-build/tools/gen_saf}
NS=${BENCH_NS:-10000 100000}
FSIZE=${BENCH_FILE_SIZE:-4096}
SEED=${BENCH_SEED:-1}
OUT=bench/out
ROWS=$OUT/results.rows
MD=$OUT/results.md
LOGS=$OUT/logs

for b in "$BR" "$GEN"; do
	if [ ! -x "$b" ]; then
		echo "bench: $b not found or not executable (run: make all tools)" >&2
		exit 4
	fi
done

mkdir -p "$OUT" "$LOGS" || exit 4
: >"$ROWS"

TIME_BIN=
if [ -z "${BENCH_NO_GNU_TIME:-}" ] && [ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o /dev/null true >/dev/null 2>&1; then
	TIME_BIN=/usr/bin/time
fi
RSS_SRC="GNU time"
[ -n "$TIME_BIN" ] || RSS_SRC="VmHWM polling"
[ -r /proc/self/status ] || [ -n "$TIME_BIN" ] || RSS_SRC="n/a"

# High-resolution clock (GNU date); whole seconds otherwise.
case $(date +%N) in
*N* | '') now() { date +%s; } ;;
*) now() { date +%s.%N; } ;;
esac

WORK=
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	if [ -n "$WORK" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# warm DIR: read every file once so the measurement starts from a warm page cache.
warm() {
	sync
	find "$1" -type f -exec cat {} + >/dev/null 2>&1
}

# measure LOGNAME CMD...: run CMD, set M_SECS, M_RSS (MB or n/a), M_RC.
measure() {
	m_log=$LOGS/$1
	shift
	m_t0=$(now)
	if [ -n "$TIME_BIN" ]; then
		"$TIME_BIN" -f '%M' -o "$WORK/time.out" "$@" >"$m_log.out" 2>"$m_log.err"
		M_RC=$?
		m_kb=$(tail -n 1 "$WORK/time.out" 2>/dev/null)
	else
		"$@" >"$m_log.out" 2>"$m_log.err" &
		m_pid=$!
		m_kb=
		while kill -0 "$m_pid" 2>/dev/null; do
			if [ -r "/proc/$m_pid/status" ]; then
				while IFS= read -r m_line; do
					case $m_line in
					VmHWM:*)
						m_v=${m_line#VmHWM:}
						m_v=${m_v% kB}
						m_v=${m_v#"${m_v%%[! 	]*}"}
						[ -n "$m_v" ] && m_kb=$m_v
						;;
					esac
				done <"/proc/$m_pid/status" 2>/dev/null
			fi
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
	# Keep logs small: only their tails.
	for m_f in "$m_log.out" "$m_log.err"; do
		if [ -s "$m_f" ]; then
			tail -n 50 "$m_f" >"$m_f.tmp" && mv "$m_f.tmp" "$m_f"
		else
			rm -f "$m_f"
		fi
	done
	if [ "$M_RC" -ne 0 ]; then
		echo "bench: '$*' exited with status $M_RC; see $m_log.err" >&2
		[ -f "$m_log.err" ] && tail -n 5 "$m_log.err" >&2
		FAILED=1
	fi
}

# row N PHASE SECS RSS RATIO TARGET OK
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$ROWS"
	printf '%-8s %-10s %9s %10s %9s %7s  %-32s %s\n' "$1" "$2" "$3" \
		"$(ips "$1" "$3")" "$4" "$5" "$6" "$7"
}

ips() {
	awk -v n="$1" -v s="$2" 'BEGIN { if (s + 0 > 0) printf "%.0f", n / s; else print "n/a" }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

# verdict for bulkrepo rows: checks ratio/speed and RSS; FAIL if the run failed
verdict() { # KIND VALUE RSS RC
	if [ "$4" -ne 0 ]; then
		echo "FAIL(rc=$4)"
		return
	fi
	awk -v kind="$1" -v v="$2" -v rss="$3" 'BEGIN {
		ok = 1
		if (kind == "ratio") { if (v == "n/a" || v + 0 > 2) ok = 0 }
		else if (kind == "ips") { if (v == "n/a" || v + 0 < 10000) ok = 0 }
		if (rss != "n/a" && rss + 0 >= 64) ok = 0
		print ok ? "yes" : "NO"
	}'
}

write_md() {
	{
		echo "# bulkrepo benchmark results"
		echo
		echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo "- host: $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPU(s)"
		echo "- filesystem: $(df -PT "$OUT" 2>/dev/null | awk 'NR == 2 { print $2 }' || echo '?')" \
			"($(df -P "$OUT" 2>/dev/null | awk 'NR == 2 { print $1 }'))"
		echo "- bitstream size: $FSIZE bytes, ~15 metadata values per item, seed $SEED"
		echo "- peak RSS source: $RSS_SRC"
		echo "- targets: import ≤ 2× cp -r of the package, export ≤ 2× cp -r of the exported tree," \
			"validate ≥ 10,000 items/s, peak RSS < 64 MB at every N"
		echo
		echo "| N | phase | seconds | items/s | peak RSS (MB) | ratio to floor | target | met |"
		echo "|---:|---|---:|---:|---:|---:|---|---|"
		while IFS='	' read -r n ph s rss rat tgt ok; do
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$ph" "$s" \
				"$(ips "$n" "$s")" "$rss" "$rat" "$tgt" "$ok"
		done <"$ROWS"
	} >"$MD"
}

FAILED=0
echo "bulkrepo bench: N in [$NS], file size $FSIZE B, peak RSS via $RSS_SRC"
printf '%-8s %-10s %9s %10s %9s %7s  %-32s %s\n' N phase seconds items/s "RSS MB" ratio target met

for N in $NS; do
	WORK=$OUT/n$N
	rm -rf "$WORK"
	mkdir -p "$WORK" || exit 4
	PKG=$WORK/pkg
	R=$WORK/repo
	MAP=$WORK/mapfile
	EXP=$WORK/export

	sync
	measure "n$N-gen" "$GEN" "$PKG" "$N" --seed "$SEED" --file-size "$FSIZE"
	row "$N" gen "$M_SECS" "$M_RSS" - "informational" -
	if [ "$M_RC" -ne 0 ]; then
		echo "bench: gen_saf failed; skipping N=$N" >&2
		rm -rf "$WORK"
		continue
	fi

	# Floor: plain copy of the package on the same filesystem.
	warm "$PKG"
	measure "n$N-cp-pkg" cp -r "$PKG" "$WORK/pkg.copy"
	CP_PKG=$M_SECS
	row "$N" cp-pkg "$M_SECS" "$M_RSS" - "floor for import" -
	rm -rf "$WORK/pkg.copy"

	# Fresh repository and target collection.
	if ! "$BR" --repo "$R" init >"$LOGS/n$N-init.out" 2>&1; then
		echo "bench: '$BR --repo $R init' failed:" >&2
		tail -n 5 "$LOGS/n$N-init.out" >&2
		FAILED=1
		rm -rf "$WORK"
		continue
	fi
	if ! COLL=$("$BR" --repo "$R" collection create Bench 2>"$LOGS/n$N-coll.err") ||
		[ -z "$COLL" ]; then
		echo "bench: collection create failed:" >&2
		tail -n 5 "$LOGS/n$N-coll.err" >&2
		FAILED=1
		rm -rf "$WORK"
		continue
	fi

	# Validate (test run).
	rm -f "$MAP"
	warm "$PKG"
	measure "n$N-validate" "$BR" --repo "$R" import -a -v -s "$PKG" -c "$COLL" -m "$MAP"
	IPS=$(ips "$N" "$M_SECS")
	row "$N" validate "$M_SECS" "$M_RSS" - ">= 10,000 items/s, RSS < 64 MB" \
		"$(verdict ips "$IPS" "$M_RSS" "$M_RC")"

	# Import.
	rm -f "$MAP"
	warm "$PKG"
	measure "n$N-import" "$BR" --repo "$R" import -a -s "$PKG" -c "$COLL" -m "$MAP"
	RAT=$(ratio "$M_SECS" "$CP_PKG")
	row "$N" import "$M_SECS" "$M_RSS" "$RAT" "<= 2x cp-pkg, RSS < 64 MB" \
		"$(verdict ratio "$RAT" "$M_RSS" "$M_RC")"
	IMPORT_RC=$M_RC
	rm -rf "$PKG"

	# Export.
	if [ "$IMPORT_RC" -eq 0 ]; then
		mkdir -p "$EXP"
		warm "$R"
		measure "n$N-export" "$BR" --repo "$R" export -t COLLECTION -i "$COLL" -d "$EXP" -n 1
		EXP_SECS=$M_SECS EXP_RSS=$M_RSS EXP_RC=$M_RC
		warm "$EXP"
		measure "n$N-cp-export" cp -r "$EXP" "$WORK/export.copy"
		CP_EXP=$M_SECS
		rm -rf "$WORK/export.copy"
		RAT=$(ratio "$EXP_SECS" "$CP_EXP")
		row "$N" export "$EXP_SECS" "$EXP_RSS" "$RAT" "<= 2x cp-export, RSS < 64 MB" \
			"$(verdict ratio "$RAT" "$EXP_RSS" "$EXP_RC")"
		row "$N" cp-export "$CP_EXP" "$M_RSS" - "floor for export" -
	else
		echo "bench: import failed; skipping export for N=$N" >&2
	fi

	write_md
	rm -rf "$WORK"
	WORK=
done

write_md
echo
echo "Markdown table written to $MD (paste into bench/RESULTS.md)."
exit "$FAILED"
